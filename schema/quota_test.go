package schema_test

import (
	"strings"
	"testing"
	"time"

	"github.com/reconform/reconform/schema"
)

func TestParseQuota(t *testing.T) {
	for in, want := range map[string]string{
		"500/day":      "500/day",
		" 15500/month": "15500/month",
		"100/h":        "100/hour",
		"7/w":          "7/week",
		"50/mo":        "50/month",
		"50/Month":     "50/month",
	} {
		q, err := schema.ParseQuota(in)
		if err != nil || q.String() != want {
			t.Errorf("ParseQuota(%q) = %v, %v; want %s", in, q, err, want)
		}
	}
	for in, want := range map[string]string{
		"500":       "must look like",
		"0/day":     "positive whole number",
		"-1/day":    "positive whole number",
		"x/day":     "positive whole number",
		"4/min":     "the provider's rate",
		"1/s":       "the provider's rate",
		"5/fortnit": "unknown window",
		"5/30d":     "unknown window",
	} {
		if _, err := schema.ParseQuota(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseQuota(%q) error %v, want %q", in, err, want)
		}
	}
	qs, err := schema.ParseQuotas([]string{"15500/month", "500/day"})
	if err != nil || len(qs) != 2 || qs[0].Period != schema.QuotaDay || qs[1].Period != schema.QuotaMonth {
		t.Errorf("ParseQuotas sorted %v, %v", qs, err)
	}
	if _, err := schema.ParseQuotas([]string{"500/day", "600/d"}); err == nil || !strings.Contains(err.Error(), "one quota per window") {
		t.Errorf("two daily quotas: %v", err)
	}
}

func TestParseQuotaReset(t *testing.T) {
	cases := map[string]time.Time{
		"17":                        time.Date(2000, 5, 17, 0, 0, 0, 0, time.UTC),
		"1":                         schema.CalendarAnchor,
		"2025-03-17":                time.Date(2025, 3, 17, 0, 0, 0, 0, time.UTC),
		"2025-03-17T08:00:00-07:00": time.Date(2025, 3, 17, 15, 0, 0, 0, time.UTC),
		"2025-03-17T08:00Z":         time.Date(2025, 3, 17, 8, 0, 0, 0, time.UTC),
		"08:30":                     time.Date(2000, 5, 1, 8, 30, 0, 0, time.UTC),
	}
	for in, want := range cases {
		got, err := schema.ParseQuotaReset(in)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseQuotaReset(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"0", "32", "the 17th", "2025-13-01", ""} {
		if _, err := schema.ParseQuotaReset(bad); err == nil {
			t.Errorf("ParseQuotaReset(%q) accepted", bad)
		}
	}
	if schema.CalendarAnchor.Weekday() != time.Monday || schema.CalendarAnchor.Day() != 1 {
		t.Error("the calendar anchor must be a Monday and the 1st of a month")
	}
}

func TestProviderQuotaAttributes(t *testing.T) {
	cfg, diags := loadSource(t, `engagement "e" {
  verify_every = "7d"
}
provider "virustotal" {
  api_key = env("VT_KEY")
}
provider "virustotal" "paid" {
  api_key     = env("VT_KEY")
  quota       = ["20000/month", "1000/day"]
  quota_reset = 17
}
provider "securitytrails" {
  api_key = env("ST_KEY")
  quota   = []
}
provider "circl" {
  username = "u"
  password = env("CIRCL_PASSWORD")
}
`)
	if diags != "" {
		t.Fatal(diags)
	}
	if cfg.Engagement.VerifyEvery != 7*24*time.Hour {
		t.Errorf("verify_every %v", cfg.Engagement.VerifyEvery)
	}
	text := func(qs []schema.QuotaLimit) string {
		var s []string
		for _, q := range qs {
			s = append(s, q.String())
		}
		return strings.Join(s, ",")
	}
	for addr, want := range map[string]string{
		"virustotal":      "500/day,15500/month",
		"virustotal.paid": "1000/day,20000/month",
		"securitytrails":  "",
		"circl":           "",
	} {
		if got := text(cfg.Providers[addr].Quota); got != want {
			t.Errorf("%s quota %q, want %q", addr, got, want)
		}
	}
	if got := cfg.Providers["virustotal.paid"].QuotaReset; got.Day() != 17 {
		t.Errorf("quota_reset %v", got)
	}
	if !cfg.Providers["virustotal"].QuotaReset.IsZero() {
		t.Error("a block without quota_reset has calendar windows")
	}

	for src, want := range map[string]string{
		`quota = ["4/min"]`:             "the provider's rate",
		`quota = ["500/day", "9/d"]`:    "one quota per window",
		`quota = "500/day"`:             "Incorrect attribute value type",
		`quota_reset = "the 17th"`:      "Invalid quota_reset",
		`quota = ["500/fortnight"]`:     "unknown window",
		`quota = [env("QUOTA_SECRET")]`: "",
	} {
		_, diags := loadSource(t, "engagement \"e\" {}\nprovider \"virustotal\" {\n  api_key = env(\"VT_KEY\")\n  "+src+"\n}\n")
		if want == "" {
			continue
		}
		if !strings.Contains(diags, want) {
			t.Errorf("%s: diagnostics %q, want %q", src, diags, want)
		}
	}
	if _, diags := loadSource(t, "engagement \"e\" {\n  verify_every = \"0s\"\n}\n"); !strings.Contains(diags, "verify_every must be longer than zero") {
		t.Errorf("verify_every 0: %q", diags)
	}
}
