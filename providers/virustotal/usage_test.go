package virustotal

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/providers/providertest"
	"github.com/reconform/reconform/schema"
)

// TestUsageRealBody reads the key's own counts from a real overall_quotas
// answer (a group member's: the group's figures are not the key's).
func TestUsageRealBody(t *testing.T) {
	path := "/api/v3/users/" + testKey + "/overall_quotas"
	for _, tt := range []struct {
		name string
		ex   providertest.Exchange
		want []providers.VendorUsage
		kind providers.ErrorKind
		msg  string
	}{
		{
			name: "real body",
			ex:   providertest.Exchange{Path: path, File: "users_overall_quotas.json", Header: vtHeaders, Gzip: true},
			want: []providers.VendorUsage{
				{Period: schema.QuotaHour, Used: 12, Limit: 60000000000},
				{Period: schema.QuotaDay, Used: 74, Limit: 1000},
				{Period: schema.QuotaMonth, Used: 2564, Limit: 1000000000},
			},
		},
		{name: "no API quota named", ex: providertest.Exchange{Path: path, Body: `{"data": {"cases_creation_monthly": {"user": {"allowed": 20, "used": 0}}}}`}, kind: providers.KindMalformed, msg: "no API request quota"},
		{name: "not an object", ex: providertest.Exchange{Path: path, Body: `{"data": []}`}, kind: providers.KindMalformed},
		{name: "bad key", ex: providertest.Exchange{Path: path, Status: http.StatusUnauthorized, File: "error_401_authentication_required.json"}, kind: providers.KindAuth},
	} {
		t.Run(tt.name, func(t *testing.T) {
			replay := providertest.NewReplay(t, realDir, tt.ex)
			cfg, gate := providertest.Config(t, "virustotal", replay.URL+"/api/v3", map[string]string{"api_key": testKey})
			p, logs := providertest.Build(t, New, cfg)
			got, err := p.(providers.UsageReporter).Usage(context.Background())
			replay.CheckRequests(t, gate, []string{"GET " + path})
			providertest.CheckNoSecret(t, testKey, err, logs.String())
			if tt.kind != "" {
				providertest.CheckError(t, err, tt.kind, tt.msg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("usage (-want +got):\n%s", diff)
			}
		})
	}
}
