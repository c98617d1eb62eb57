package securitytrails

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/providers/providertest"
	"github.com/reconform/reconform/schema"
)

// TestUsageRealBody: the recorded GET /v1/account/usage answer, and the
// monthly quota error naming its window.
func TestUsageRealBody(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "real", "securitytrails")
	for _, tt := range []struct {
		name string
		ex   providertest.Exchange
		want providers.VendorUsage
		kind providers.ErrorKind
	}{
		{name: "real body", ex: providertest.Exchange{Path: "/v1/account/usage", File: "account_usage.json", Header: []string{"Content-Type", "application/json; charset=utf-8"}},
			want: providers.VendorUsage{Period: schema.QuotaMonth, Used: 9, Limit: 600}},
		{name: "no usage member", ex: providertest.Exchange{Path: "/v1/account/usage", Body: `{"allowed_monthly_usage": 50}`}, kind: providers.KindMalformed},
		{name: "bad key", ex: providertest.Exchange{Path: "/v1/account/usage", Status: http.StatusForbidden, File: "error_403_invalid_credentials.json"}, kind: providers.KindAuth},
	} {
		t.Run(tt.name, func(t *testing.T) {
			replay := providertest.NewReplay(t, dir, tt.ex)
			cfg, _ := providertest.Config(t, "securitytrails", replay.URL+"/v1", map[string]string{"api_key": testKey})
			p, logs := providertest.Build(t, New, cfg)
			got, err := p.(providers.UsageReporter).Usage(context.Background())
			providertest.CheckNoSecret(t, testKey, err, logs.String())
			if tt.kind != "" {
				providertest.CheckError(t, err, tt.kind)
				return
			}
			if err != nil || len(got) != 1 || got[0] != tt.want {
				t.Fatalf("usage %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
	// The real monthly-quota message: a quota error of the month.
	replay := providertest.NewReplay(t, dir, providertest.Exchange{Path: "/v1/domain/example.com", Status: http.StatusTooManyRequests, File: "error_429_usage_limits.json"})
	cfg, _ := providertest.Config(t, "securitytrails", replay.URL+"/v1", map[string]string{"api_key": testKey})
	p, _ := providertest.Build(t, New, cfg)
	_, err := p.Query(context.Background(), providertest.Query("securitytrails", schema.OpResolutions, "example.com", "A"))
	var pe *providers.Error
	if !errorsAs(err, &pe) || pe.Kind != providers.KindQuota || pe.QuotaPeriod != schema.QuotaMonth {
		t.Fatalf("quota error %v", err)
	}
}

func errorsAs(err error, pe **providers.Error) bool { return errors.As(err, pe) }
