package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reconform/reconform/engine/state"
	"github.com/reconform/reconform/internal/smtptest"
)

// receiver is a webhook or Slack receiver that can be down.
type receiver struct {
	t      *testing.T
	mu     sync.Mutex
	down   bool
	secret string
	tries  int
	bodies [][]byte
	ids    []string
	srv    *httptest.Server
}

func newReceiver(t *testing.T, secret string, slack bool) *receiver {
	r := &receiver{t: t, secret: secret}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.tries++
		if r.down {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		if r.secret != "" {
			mac := hmac.New(sha256.New, []byte(r.secret))
			mac.Write(b)
			if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); !hmac.Equal([]byte(want), []byte(req.Header.Get("X-Hub-Signature-256"))) {
				t.Errorf("bad signature on a delivery")
				http.Error(w, "bad signature", http.StatusUnauthorized)
				return
			}
			id := req.Header.Get("X-Reconform-Delivery")
			for _, seen := range r.ids {
				if seen == id {
					t.Errorf("delivery %s received twice", id)
				}
			}
			r.ids = append(r.ids, id)
		}
		r.bodies = append(r.bodies, b)
		if slack {
			io.WriteString(w, "ok")
		}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) set(down bool) { r.mu.Lock(); r.down = down; r.mu.Unlock() }

func (r *receiver) got() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.bodies...)
}

// watchEngagement copies examples/watch and the quickstart data it reads
// into a temporary folder, with extra files added; it returns the
// engagement folder.
func watchEngagement(t *testing.T, extra map[string]string) string {
	t.Helper()
	root := t.TempDir()
	copyDir(t, filepath.Join("..", "..", "examples", "watch"), filepath.Join(root, "examples", "watch"))
	copyDir(t, filepath.Join("..", "..", "examples", "quickstart", "data"), filepath.Join(root, "examples", "quickstart", "data"))
	dir := filepath.Join(root, "examples", "watch")
	os.RemoveAll(filepath.Join(dir, "receiver")) // a Go program, not configuration
	for name, body := range extra {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const slackBlock = `
notify "slack" "secops" {
  webhook_url = env("E2E_SLACK_URL")
  on          = ["drift", "check_failed", "run_failed"]
  max_items   = 6
  retries     = 2
  backoff     = "10ms"
  timeout     = "5s"
  report_url  = "https://ci.example/northwind/{serial}"
}
`

func TestWatchEndToEnd(t *testing.T) {
	const secret = "e2e-signing-secret-0123"
	hook := newReceiver(t, secret, false)
	slack := newReceiver(t, "", true)
	slackURL := slack.srv.URL + "/services/T0E2E/B0E2E/slackpathsecret"
	dir := watchEngagement(t, map[string]string{"slack.hcl": slackBlock})
	environ := []string{"WATCH_WEBHOOK_URL=" + hook.srv.URL + "/reconform?token=querysecret", "WATCH_WEBHOOK_SECRET=" + secret, "E2E_SLACK_URL=" + slackURL}
	apply := func(args ...string) cliResult {
		return runCLI(t, dir, environ, append([]string{"apply", "-auto-approve", "-no-color"}, append(args, ".")...)...)
	}

	// 1. The first run is a baseline: one summary message each, not 49
	// findings.
	r := apply()
	if r.Code != exitOK {
		t.Fatalf("baseline: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	if len(hook.got()) != 1 || len(slack.got()) != 1 {
		t.Fatalf("baseline: %d webhook, %d slack messages", len(hook.got()), len(slack.got()))
	}
	var base struct {
		Baseline *struct{ Findings int }
		Findings map[string][]json.RawMessage
	}
	json.Unmarshal(hook.got()[0], &base)
	if base.Baseline == nil || base.Baseline.Findings != 49 || len(base.Findings["added"]) != 0 {
		t.Errorf("baseline body: %.300s", hook.got()[0])
	}
	if !strings.Contains(string(slack.got()[0]), "watching started") {
		t.Errorf("slack baseline: %.300s", slack.got()[0])
	}
	if !strings.Contains(r.Stdout, "Checks: 4 passed.") || !strings.Contains(r.Stdout, "slack.secops: delivered (1 message)") {
		t.Errorf("stdout:\n%s", r.Stdout)
	}

	// 2. The receivers are down when the world changes: the error check
	// fails (exit 3), the deliveries stay pending.
	hook.set(true)
	slack.set(true)
	r = apply("-var", "snapshot=2")
	if r.Code != exitCheckFailed {
		t.Fatalf("drift with a failed check: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	for _, want := range []string{"FAIL  dmarc_enforced (error)", "DMARC policy is none on: northwind.example", "warn  mx_on_approved_provider (warning)",
		"slack.secops: 1 delivery pending after 2 attempts: the Slack webhook answered 503 Service Unavailable: down for maintenance; kept for the next run",
		"webhook.local: 1 delivery pending"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.Stdout)
		}
	}
	st := runCLI(t, dir, environ, "notify", "status", ".")
	if !strings.Contains(st.Stdout, "slack.secops") || !strings.Contains(st.Stdout, "1 pending, 1 delivered") {
		t.Errorf("notify status:\n%s%s", st.Stdout, st.Stderr)
	}

	// check evaluates the saved state without a request: exit 3 too.
	c := runCLI(t, dir, environ, "check", "-json", ".")
	var cj struct {
		Failed  bool
		Summary map[string]int
		Checks  []struct{ Name, Status string }
	}
	if err := json.Unmarshal([]byte(c.Stdout), &cj); err != nil || c.Code != exitCheckFailed || !cj.Failed || cj.Summary["fail"] != 2 {
		t.Errorf("check -json: exit %d, %v\n%s%s", c.Code, err, c.Stdout, c.Stderr)
	}

	// 3. They are back; the world did not change since: what they missed
	// arrives now, once.
	hook.set(false)
	slack.set(false)
	r = apply("-var", "snapshot=2")
	if r.Code != exitCheckFailed {
		t.Fatalf("recovered: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	if len(hook.got()) != 2 || len(slack.got()) != 2 {
		t.Fatalf("recovered: %d webhook, %d slack messages", len(hook.got()), len(slack.got()))
	}
	msg := string(slack.got()[1])
	for _, want := range []string{"Check dmarc_enforced failed: DMARC policy is none on: northwind.example", "dmarc_policy weakened: reject → none",
		"more:", "<https://ci.example/northwind/2|Full report>"} {
		if !strings.Contains(msg, want) {
			t.Errorf("slack message lacks %q:\n%s", want, msg)
		}
	}

	// 4. Nothing new: nothing sent, the failing check is not sent again.
	r = apply("-var", "snapshot=2")
	if r.Code != exitCheckFailed || len(hook.got()) != 2 || len(slack.got()) != 2 {
		t.Fatalf("unchanged: exit %d, %d webhook, %d slack\n%s", r.Code, len(hook.got()), len(slack.got()), r.Stdout)
	}

	// 5. -no-notify keeps this run's changes pending; notify deliver
	// sends them.
	r = apply("-no-notify")
	if r.Code != exitOK || !strings.Contains(r.Stdout, "not sent (-no-notify); 2 deliveries pending") || len(hook.got()) != 2 {
		t.Fatalf("-no-notify: exit %d, %d webhook\n%s%s", r.Code, len(hook.got()), r.Stdout, r.Stderr)
	}
	d := runCLI(t, dir, environ, "notify", "deliver", ".")
	if d.Code != exitOK || len(hook.got()) != 3 || len(slack.got()) != 3 {
		t.Fatalf("notify deliver: exit %d, %d webhook, %d slack\n%s%s", d.Code, len(hook.got()), len(slack.got()), d.Stdout, d.Stderr)
	}
	if d := runCLI(t, dir, environ, "notify", "deliver", "."); d.Code != exitOK || !strings.Contains(d.Stdout, "Nothing is pending.") {
		t.Errorf("second deliver: %d %s", d.Code, d.Stdout)
	}

	// Every change of the webhook's deliveries arrived exactly once, and
	// no secret is in any message.
	seen := map[string]int{}
	for _, b := range hook.got() {
		var doc struct {
			Findings map[string][]struct {
				Name, Type, Value string
				Old, New          struct{ Value string }
			}
		}
		json.Unmarshal(b, &doc)
		for list, fs := range doc.Findings {
			for _, f := range fs {
				k := list + " " + f.Name + " " + f.Type + " " + f.Value
				if list == "changed" {
					k += f.Old.Value + " -> " + f.New.Value
				}
				seen[k]++
			}
		}
	}
	for k, n := range seen {
		if n != 1 && !strings.HasPrefix(k, "reverified") {
			t.Errorf("%s arrived %d times", k, n)
		}
	}
	if seen["added sso.northwind.example A 203.0.113.23"] != 1 || seen["removed sso.northwind.example HOST "] != 1 ||
		seen["changed www.northwind.example A 203.0.113.10 -> 203.0.113.40"] != 1 || seen["changed www.northwind.example A 203.0.113.40 -> 203.0.113.10"] != 1 {
		t.Errorf("the changes of the two snapshots: %v", seen)
	}
	for _, b := range append(hook.got(), slack.got()...) {
		for _, s := range []string{secret, "slackpathsecret", "querysecret"} {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("secret %q in a message", s)
			}
		}
	}
	// Nor in the state, the ledger or the output.
	for _, name := range []string{"reconform.rfstate", filepath.Join(".reconform", "reconform.rfstate.deliveries")} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{secret, "slackpathsecret", "querysecret"} {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("secret %q in %s", s, name)
			}
		}
	}
	s, err := state.ReadFile(filepath.Join(dir, "reconform.rfstate"))
	if err != nil || len(s.Checks) != 4 || s.CheckByName("dmarc_enforced").Status != state.CheckPass {
		t.Errorf("checks in the state: %+v %v", s.Checks, err)
	}
}

func TestWatchJSONEvents(t *testing.T) {
	hook := newReceiver(t, "", false)
	dir := watchEngagement(t, nil)
	environ := []string{"WATCH_WEBHOOK_URL=" + hook.srv.URL}
	runCLI(t, dir, environ, "apply", "-auto-approve", "-json", ".")
	r := runCLI(t, dir, environ, "apply", "-auto-approve", "-json", "-var", "snapshot=2", ".")
	if r.Code != exitCheckFailed {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	types := map[string]int{}
	var checks []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(r.Stdout), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("not a JSON line: %q", line)
		}
		types[ev["type"].(string)]++
		if ev["type"] == "check" {
			checks = append(checks, ev["check"].(map[string]any))
		}
		if ev["type"] == "notification" {
			if n := ev["notification"].(map[string]any); n["notifier"] != "webhook.local" || n["delivered"].(float64) != 1 {
				t.Errorf("notification event %v", n)
			}
		}
	}
	if types["drift"] != 1 || types["check"] != 4 || types["notification"] != 1 {
		t.Errorf("event types %v", types)
	}
	if checks[0]["name"] != "dmarc_enforced" || checks[0]["status"] != "fail" || checks[0]["severity"] != "error" {
		t.Errorf("first check event %v", checks[0])
	}
}

func TestNotifyTest(t *testing.T) {
	slack := newReceiver(t, "", true)
	dir := watchEngagement(t, map[string]string{"slack.hcl": slackBlock})
	environ := []string{"E2E_SLACK_URL=" + slack.srv.URL + "/services/x"}
	r := runCLI(t, dir, environ, "notify", "test", "secops", ".")
	if r.Code != exitOK || !strings.Contains(r.Stdout, "Sent a test message to slack.secops.") || len(slack.got()) != 1 {
		t.Fatalf("notify test: %d %s%s", r.Code, r.Stdout, r.Stderr)
	}
	if !strings.Contains(string(slack.got()[0]), "test message") {
		t.Errorf("body %s", slack.got()[0])
	}
	// Nothing was recorded: no state, no ledger.
	if _, err := os.Stat(filepath.Join(dir, ".reconform")); err == nil {
		t.Error("notify test wrote to .reconform")
	}
	slack.set(true)
	r = runCLI(t, dir, environ, "notify", "test", "slack.secops", ".")
	if r.Code != exitError || !strings.Contains(r.Stderr, "after 2 attempts") || strings.Contains(r.Stderr, "/services/x") {
		t.Errorf("failing test: %d %s", r.Code, r.Stderr)
	}
	r = runCLI(t, dir, environ, "notify", "test", "nosuch", ".")
	if r.Code != exitError || !strings.Contains(r.Stderr, "slack.secops") {
		t.Errorf("unknown name: %d %s", r.Code, r.Stderr)
	}
}

// A run killed while it delivers (after its commit) loses nothing: the
// claim it held lapses and the next run sends the delivery, which the
// receiver takes once.
func TestKilledWhileDelivering(t *testing.T) {
	arrived := make(chan struct{}, 1)
	var mu sync.Mutex
	var taken []string
	block := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body) // read first: the server then sees the sender go
		mu.Lock()
		b := block
		mu.Unlock()
		if b {
			select {
			case arrived <- struct{}{}:
			default:
			}
			<-r.Context().Done() // never answers: the sender dies first
			return
		}
		mu.Lock()
		taken = append(taken, string(body))
		mu.Unlock()
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	dir := t.TempDir()
	copyDir(t, filepath.Join("testdata", "engagements", "fileonly"), dir)
	os.WriteFile(filepath.Join(dir, "notify.hcl"), []byte(`
notify "slack" "ops" {
  webhook_url = env("E2E_SLACK_URL")
  retries     = 1
  timeout     = "1s"
}
`), 0o644)
	cmd := cliCommand(t, dir, "apply", "-auto-approve", "-no-color", ".")
	cmd.Env = append(cmd.Env, "E2E_SLACK_URL="+srv.URL+"/hook")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-arrived:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the delivery never started")
	}
	cmd.Process.Kill()
	cmd.Wait()
	s, err := state.ReadFile(filepath.Join(dir, "reconform.rfstate"))
	if err != nil || s.Serial != 1 {
		t.Fatalf("the commit before the delivery: %v %v", s, err)
	}
	mu.Lock()
	block = false
	mu.Unlock()
	environ := []string{"E2E_SLACK_URL=" + srv.URL + "/hook"}
	// Until its claim lapses (the notifier's timeout and retries), the
	// dead run's delivery is not sent by another.
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := runCLI(t, dir, environ, "notify", "deliver", ".")
		mu.Lock()
		n := len(taken)
		mu.Unlock()
		if n == 1 && r.Code == exitOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never delivered after the kill: %d taken, %s%s", n, r.Stdout, r.Stderr)
		}
		time.Sleep(500 * time.Millisecond)
	}
	r := runCLI(t, dir, environ, "notify", "deliver", ".")
	if !strings.Contains(r.Stdout, "Nothing is pending.") || len(taken) != 1 {
		t.Errorf("after delivery: %s (%d taken)", r.Stdout, len(taken))
	}
}

// E-mail end to end, through a real SMTP server with STARTTLS and AUTH.
func TestWatchEmail(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{TLS: true, User: "recon", Password: "smtp-e2e-password"})
	dir := watchEngagement(t, map[string]string{"email.hcl": `
notify "email" "team" {
  host     = "127.0.0.1"
  port     = env("E2E_SMTP_PORT")
  username = "recon"
  password = env("E2E_SMTP_PASSWORD")
  from     = "reconform@northwind.example"
  to       = ["secops@northwind.example"]
  ca_file  = env("E2E_SMTP_CA")
  checks   = ["dmarc_enforced"]
  on       = ["check_failed"]
}
`})
	environ := []string{"E2E_SMTP_PORT=" + strconv.Itoa(srv.Port), "E2E_SMTP_PASSWORD=smtp-e2e-password", "E2E_SMTP_CA=" + srv.CAFile,
		"WATCH_WEBHOOK_URL=http://127.0.0.1:1/none"}
	runCLI(t, dir, environ, "apply", "-auto-approve", "-no-color", ".")
	if n := len(srv.Messages(t)); n != 1 {
		t.Fatalf("baseline: %d mails", n)
	}
	r := runCLI(t, dir, environ, "apply", "-auto-approve", "-no-color", "-var", "snapshot=2", ".")
	if !strings.Contains(r.Stdout, "email.team: delivered (1 message)") {
		t.Fatalf("stdout:\n%s%s", r.Stdout, r.Stderr)
	}
	got := srv.Messages(t)
	if len(got) != 2 || !got[1].TLS || !got[1].Authenticated {
		t.Fatalf("mails %+v", got)
	}
	raw := string(got[1].Raw)
	if strings.Contains(raw, "smtp-e2e-password") {
		t.Error("the password is in the mail")
	}
	// The body lists only the check the notifier filters on; the full
	// report is attached.
	msg, err := mail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	_, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	mr := multipart.NewReader(msg.Body, params["boundary"])
	alt, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	_, ap, _ := mime.ParseMediaType(alt.Header.Get("Content-Type"))
	text, err := multipart.NewReader(alt, ap["boundary"]).NextPart() // NextPart decodes quoted-printable
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(text)
	if !strings.Contains(string(body), "Check dmarc_enforced failed: DMARC policy is none on: northwind.example") || strings.Contains(string(body), "weakened") {
		t.Errorf("the mail's text:\n%s", body)
	}
}

// TestWatchLogsHoldNoSecret runs the watch with trace logging, receivers
// failing and recovering, and checks the log, the output and every file
// the runs wrote for the notifiers' secrets.
func TestWatchLogsHoldNoSecret(t *testing.T) {
	const secret = "log-test-signing-secret"
	hook := newReceiver(t, secret, false)
	slack := newReceiver(t, "", true)
	dir := watchEngagement(t, map[string]string{"slack.hcl": slackBlock})
	secrets := []string{secret, "slacklogsecret", "querylogsecret"}
	environ := []string{"WATCH_WEBHOOK_URL=" + hook.srv.URL + "/reconform?token=querylogsecret", "WATCH_WEBHOOK_SECRET=" + secret,
		"E2E_SLACK_URL=" + slack.srv.URL + "/services/T/B/slacklogsecret", "RECONFORM_LOG=trace", "RECONFORM_LOG_PATH=" + filepath.Join(dir, "reconform.log")}
	var outputs []string
	for i, args := range [][]string{{"apply", "-auto-approve", "."}, {"apply", "-auto-approve", "-var", "snapshot=2", "."}, {"notify", "deliver", "."}, {"notify", "test", "secops", "."}} {
		if i == 1 {
			hook.set(true)
			slack.set(true)
		}
		if i == 2 {
			hook.set(false)
			slack.set(false)
		}
		r := runCLIWithLog(t, dir, environ, args...)
		outputs = append(outputs, r.Stdout, r.Stderr)
	}
	log, err := os.ReadFile(filepath.Join(dir, "reconform.log"))
	if err != nil || !strings.Contains(string(log), "delivery failed") || !strings.Contains(string(log), "delivered") {
		t.Fatalf("the log says nothing of the deliveries: %v\n%s", err, log)
	}
	checkFilesHoldNone(t, dir, secrets, nil)
	for i, out := range outputs {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("output %d holds %q:\n%s", i, s, out)
			}
		}
	}
}
