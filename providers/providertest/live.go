package providertest

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

// Credential is a provider attribute that a live check reads from an
// environment variable.
type Credential struct {
	Attr, Env string
	// Public marks a value that is no secret (a user name), so it is not
	// searched for in the output.
	Public bool
	// Optional lets the check run without it.
	Optional bool
}

// Live asks the real service one question: op about subject, at the
// provider's default endpoint. It runs only when RECONFORM_LIVE=1 and every
// required credential is in the environment, so never in CI. It fails when
// the query fails, finds nothing, or a secret shows in the answer, the
// error or the log.
func Live(t *testing.T, reg providers.Registration, op schema.Op, subject string, creds ...Credential) {
	t.Helper()
	attrs := map[string]string{}
	var secrets, want []string
	missing := os.Getenv("RECONFORM_LIVE") != "1"
	for _, c := range creds {
		v := os.Getenv(c.Env)
		switch {
		case v != "":
			attrs[c.Attr] = v
			if !c.Public {
				secrets = append(secrets, v)
			}
		case !c.Optional:
			missing = true
		}
		if c.Optional {
			want = append(want, "optionally "+c.Env)
		} else {
			want = append(want, c.Env)
		}
	}
	if missing {
		t.Skip("live check: set " + strings.Join(append([]string{"RECONFORM_LIVE=1"}, want...), ", "))
	}
	typ := reg.Schema.Type
	cfg, gate := Config(t, typ, reg.Schema.DefaultEndpoint, attrs)
	cfg.Timeout = time.Minute
	logs := CaptureLog(&cfg)
	p, err := reg.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := schema.ParseSubject(subject)
	if err != nil {
		t.Fatal(err)
	}
	ans, err := p.Query(context.Background(), schema.Query{Provider: typ, Op: op, Subject: sub})
	for _, secret := range secrets {
		CheckNoSecret(t, secret, err, ans, logs.String())
	}
	if err != nil {
		t.Fatalf("live query: %v", err)
	}
	if len(ans.Findings) == 0 {
		t.Errorf("live query found nothing for %s (%d requests)", subject, gate.Count())
	}
	t.Logf("%d findings in %d requests; warnings %q", len(ans.Findings), gate.Count(), ans.Warnings)
}
