package schema_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reconform/reconform/schema"
)

func TestLoadChecksAndNotifiers(t *testing.T) {
	const hook = "https://hooks.slack.com/services/T0001/B0002/abcdefSECRET"
	cfg, diags := load(filepath.Join(configTestdata, "valid", "watch"), schema.LoadOptions{Environ: []string{
		"SLACK_WEBHOOK_URL=" + hook, "WEBHOOK_SECRET=s3cr3t-signing", "SIEM_TOKEN=Bearer siem-token-1", "SMTP_PASSWORD=smtp-pass-1",
	}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var names []string
	for _, c := range cfg.Checks {
		names = append(names, c.Name+":"+c.Severity)
	}
	if diff := cmp.Diff([]string{"dmarc_enforced:error", "hosts_in_expected_ranges:warning"}, names); diff != "" {
		t.Errorf("checks (-want +got):\n%s", diff)
	}
	if n := len(cfg.CheckByName("hosts_in_expected_ranges").Asserts); n != 2 {
		t.Errorf("asserts: %d", n)
	}
	if diff := cmp.Diff([]string{"email.team", "slack.secops", "teams.soc", "webhook.siem"}, cfg.NotifierAddresses()); diff != "" {
		t.Errorf("notifiers (-want +got):\n%s", diff)
	}
	s := cfg.Notifiers["slack.secops"]
	if s.String("webhook_url") != hook || !s.Sensitive["webhook_url"] || s.MaxItems != 5 ||
		!cmp.Equal(s.On, []string{"drift", "check_failed"}) || !cmp.Equal(s.Filter.Types, []string{"A", "MX"}) || s.Timeout != 15*time.Second {
		t.Errorf("slack: %+v", s)
	}
	if tm := cfg.Notifiers["teams.soc"]; !cmp.Equal(tm.On, schema.DefaultNotifyOn) || tm.ReportURL == "" {
		t.Errorf("teams: %+v", tm)
	}
	if e := cfg.Notifiers["email.team"]; e.Int("port", 0) != 587 || e.String("security") != "starttls" || e.Filter.MinSeverity != "error" ||
		!cmp.Equal(e.Strings("to"), []string{"secops@acme.example"}) {
		t.Errorf("email: %+v", e)
	}
	if w := cfg.Notifiers["webhook.siem"]; w.StringMap("headers")["Authorization"] != "Bearer siem-token-1" || !w.Sensitive["headers"] {
		t.Errorf("webhook: %+v", w)
	}
	if n, err := cfg.NotifierByName("secops"); err != nil || n.Address != "slack.secops" {
		t.Errorf("by name: %v %v", n, err)
	}
	if _, err := cfg.NotifierByName("secop"); err == nil || !strings.Contains(err.Error(), "slack.secops") {
		t.Errorf("unknown name: %v", err)
	}
	secrets := strings.Join(cfg.Secrets(), "\n")
	for _, want := range []string{hook, "/services/T0001/B0002/abcdefSECRET", "s3cr3t-signing", "Bearer siem-token-1", "smtp-pass-1"} {
		if !strings.Contains(secrets, want) {
			t.Errorf("secrets lack %q", want)
		}
	}
}
