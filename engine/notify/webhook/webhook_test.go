package webhook_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reconform/reconform/engine/diff"
	"github.com/reconform/reconform/engine/notify"
	"github.com/reconform/reconform/engine/notify/notifytest"
	"github.com/reconform/reconform/engine/notify/webhook"
)

// GitHub's documented example ("Validating webhook deliveries"): the
// secret "It's a Secret to Everybody" and the payload "Hello, World!"
// give this X-Hub-Signature-256.
func TestSignMatchesGitHubsExample(t *testing.T) {
	const want = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	if got := webhook.Sign("It's a Secret to Everybody", []byte("Hello, World!")); got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
	if !webhook.Verify("It's a Secret to Everybody", []byte("Hello, World!"), want) || webhook.Verify("other", []byte("Hello, World!"), want) {
		t.Error("Verify")
	}
}

type request struct {
	header http.Header
	body   []byte
}

func receiver(t *testing.T, status int) (*httptest.Server, *[]request) {
	var got []request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, request{r.Header.Clone(), b})
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv, &got
}

// verify checks a delivery as a receiver would: the HMAC of the raw body
// under the shared secret, compared in constant time.
func verify(secret string, r request) bool {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(r.body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	return hmac.Equal([]byte(want), []byte(r.header.Get("X-Hub-Signature-256")))
}

func TestBodyIsTheDriftDocumentSigned(t *testing.T) {
	srv, got := receiver(t, http.StatusNoContent)
	const secret = "whsec-0123456789"
	n := notifytest.Notifier("webhook", map[string]string{"url": srv.URL + "/hook?token=TOKENSECRET", "secret": secret})
	n.Attrs["headers"] = notifytest.Headers(map[string]string{"Authorization": "Bearer HDRSECRET"})
	n.Sensitive["headers"] = true
	a, b := notifytest.States(0)
	c := notifytest.Content(t, a, b, "")
	v, err := c.View(n)
	if err != nil {
		t.Fatal(err)
	}
	m := notify.BuildMessage(n, []*notify.View{v}, notifytest.T0)
	ch, err := webhook.New(n, notify.Options{UserAgent: "reconform/test", Secrets: []string{"TOKENSECRET", "HDRSECRET", secret}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if len(*got) != 1 {
		t.Fatalf("%d requests", len(*got))
	}
	r := (*got)[0]
	if !verify(secret, r) {
		t.Errorf("signature %q does not verify", r.header.Get("X-Hub-Signature-256"))
	}
	if r.header.Get("X-Reconform-Delivery") != c.ID || r.header.Get("X-Reconform-Event") != "drift,check_failed" ||
		r.header.Get("Authorization") != "Bearer HDRSECRET" || r.header.Get("User-Agent") != "reconform/test" {
		t.Errorf("headers %v", r.header)
	}
	for _, s := range []string{"TOKENSECRET", "HDRSECRET", secret} {
		if bytes.Contains(r.body, []byte(s)) {
			t.Errorf("a secret is in the body: %s", s)
		}
	}

	// The body is the drift document of docs/drift-json.md, exactly as
	// diff -json writes it, plus the notification keys.
	var body map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range body {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if d := cmp.Diff([]string{"baseline", "checks", "facts", "findings", "format_version", "has_drift", "new", "notification", "old", "run_failed", "summary"}, keys); d != "" {
		t.Errorf("keys (-want +got):\n%s", d)
	}
	var buf bytes.Buffer
	if err := diff.JSON(&buf, diff.Compare(a, b, nil)); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	json.Unmarshal(buf.Bytes(), &doc)
	var sent map[string]any
	json.Unmarshal(r.body, &sent)
	for k, want := range doc {
		if !reflect.DeepEqual(want, sent[k]) {
			t.Errorf("%s differs from diff -json:\n%s", k, cmp.Diff(want, sent[k]))
		}
	}
	// Keys are sorted, as the document promises.
	if !sortedKeys(r.body) {
		t.Errorf("keys not sorted: %.200s", r.body)
	}
	var note webhook.Notification
	json.Unmarshal(body["notification"], &note)
	if note.Delivery != c.ID || note.Serial != 2 || note.PrevSerial != 1 || note.Notifier != "webhook.test" || note.Engagement != "acme" {
		t.Errorf("notification %+v", note)
	}
	var checks []notify.CheckChange
	json.Unmarshal(body["checks"], &checks)
	if len(checks) != 2 || checks[0].Name != "dmarc_enforced" || checks[0].Previous != "pass" {
		t.Errorf("checks %+v", checks)
	}
}

func TestFilteredDocument(t *testing.T) {
	srv, got := receiver(t, http.StatusOK)
	n := notifytest.Notifier("webhook", map[string]string{"url": srv.URL})
	n.Filter.Changes = []string{"added"}
	n.On = []string{"drift"}
	m := notifytest.Message(t, n, 2)
	ch, _ := webhook.New(n, notify.Options{})
	if err := ch.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	r := (*got)[0]
	if r.header.Get("X-Hub-Signature-256") != "" {
		t.Error("signed without a secret")
	}
	d, err := notify.ParseDrift(r.body)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Findings.Added) != 3 || len(d.Findings.Changed) != 0 || len(d.Facts.Changed) != 0 || d.Summary["added"] != 3 || d.Summary["changed"] != 0 || !d.HasDrift {
		t.Errorf("filtered: %+v", d.Summary)
	}
	if !strings.Contains(string(r.body), `"checks":[]`) {
		t.Error("checks not an empty list")
	}
}

func TestBaselineDocument(t *testing.T) {
	srv, got := receiver(t, http.StatusOK)
	n := notifytest.Notifier("webhook", map[string]string{"url": srv.URL})
	_, b := notifytest.States(0)
	c := notifytest.Content(t, nil, b, "")
	v, _ := c.View(n)
	ch, _ := webhook.New(n, notify.Options{})
	if err := ch.Send(context.Background(), notify.BuildMessage(n, []*notify.View{v}, notifytest.T0)); err != nil {
		t.Fatal(err)
	}
	d, err := notify.ParseDrift((*got)[0].body)
	if err != nil {
		t.Fatal(err)
	}
	if d.HasDrift || d.Items() != 0 || d.FormatVersion != 1 {
		t.Errorf("a baseline sends no drift: %+v", d.Summary)
	}
	var body struct{ Baseline *notify.Baseline }
	json.Unmarshal((*got)[0].body, &body)
	if body.Baseline == nil || body.Baseline.Findings != 6 {
		t.Errorf("baseline %+v", body.Baseline)
	}
}

func TestPerEvent(t *testing.T) {
	var ch notify.Channel
	ch, _ = webhook.New(notifytest.Notifier("webhook", map[string]string{"url": "https://x.example"}), notify.Options{})
	if pe, ok := ch.(notify.PerEvent); !ok || !pe.PerEvent() {
		t.Error("the webhook is not per event")
	}
}

// sortedKeys reports whether every object in the JSON has its keys in
// order: re-encoding it (encoding/json sorts map keys) changes nothing.
func sortedKeys(b []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return false
	}
	again, err := notify.EncodeJSON(v)
	return err == nil && bytes.Equal(again, bytes.TrimSpace(b))
}
