package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

// leakyProvider puts its key into every error and warning, as a careless
// provider (or a library it calls) might: the engine must not pass it on.
type leakyProvider struct{ key string }

var leakySchema = schema.ProviderSchema{Type: "leaky", Ops: map[schema.Op]schema.OpTraits{schema.OpSubdomains: {}}}

func (p leakyProvider) Schema() schema.ProviderSchema { return leakySchema }
func (p leakyProvider) Query(ctx context.Context, q schema.Query) (providers.Answer, error) {
	if q.Subject.Value == "panic.acme.example" {
		panic("nil map in parser holding " + p.key)
	}
	if q.Subject.Value == "acme.example" {
		return providers.Answer{Warnings: []string{"partial answer for key " + p.key}}, nil
	}
	return providers.Answer{}, &providers.Error{Kind: providers.KindTransient, Retryable: true, Msg: "GET https://x.example/?k=" + p.key + " failed", Err: errors.New("key " + p.key)}
}

func TestApplyRedactsProviderSecrets(t *testing.T) {
	const secret = "S3CRET-KEY-0042"
	f := newFixture(t, nil)
	f.reg["leaky"] = providers.Registration{
		Schema: leakySchema,
		New: func(ctx context.Context, cfg providers.Config) (providers.Provider, error) {
			key := cfg.Attrs["api_key"].AsString()
			if cfg.Name == "broken" {
				return nil, fmt.Errorf("cannot use key %s", key)
			}
			return leakyProvider{key: key}, nil
		},
	}
	for _, name := range []string{"one", "broken"} {
		f.cfg.Providers["leaky."+name] = &schema.ProviderBlock{
			Type: "leaky", Name: name, Address: "leaky." + name,
			Attrs:     map[string]cty.Value{"api_key": cty.StringVal(secret)},
			Sensitive: map[string]bool{"api_key": true},
		}
	}
	f.query("q", []string{"leaky.one", "leaky.broken"}, schema.OpSubdomains, `["acme.example", "www.acme.example", "panic.acme.example"]`)

	var logs bytes.Buffer
	var mu sync.Mutex
	var events []Event
	opts := f.options()
	opts.Logger = hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Trace})
	opts.Events = func(e Event) { mu.Lock(); events = append(events, e); mu.Unlock() }
	run := f.apply(opts)

	all, err := json.Marshal(struct {
		Run    any
		Events []Event
	}{run, events})
	if err != nil {
		t.Fatal(err)
	}
	for what, text := range map[string]string{"run result and events": string(all), "log": logs.String()} {
		if strings.Contains(text, secret) {
			t.Errorf("the secret is in the %s:\n%s", what, text)
		}
	}
	if !strings.Contains(string(all), `"reason":"leaky.one: provider panicked: nil map in parser holding REDACTED"`) {
		t.Errorf("a provider's panic should fail its instance only, got:\n%s", all)
	}
	if !strings.Contains(string(all), "REDACTED") {
		t.Errorf("expected redacted reasons, got:\n%s", all)
	}
}

// A variable not declared sensitive but passed to a sensitive provider
// attribute holds a secret all the same: the plan file must not save it.
func TestPlanVariablesLeaveOutSecretsPassedToSensitiveAttributes(t *testing.T) {
	const secret = "S3CRET-KEY-0042"
	cfg := &schema.Config{
		Providers: map[string]*schema.ProviderBlock{"vt": {
			Type: "vt", Address: "vt",
			Attrs:     map[string]cty.Value{"api_key": cty.StringVal(secret)},
			Sensitive: map[string]bool{"api_key": true},
		}},
		Variables: map[string]*schema.Variable{
			"key":   {Name: "key", Value: cty.StringVal(secret)},
			"keys":  {Name: "keys", Value: cty.ListVal([]cty.Value{cty.StringVal(secret)})},
			"pwd":   {Name: "pwd", Value: cty.StringVal("hunter22"), Sensitive: true},
			"apex":  {Name: "apex", Value: cty.StringVal("acme.example")},
			"depth": {Name: "depth", Value: cty.NumberIntVal(3)},
		},
	}
	got := variablesOf(cfg)
	want := map[string]string{"apex": `"acme.example"`, "depth": "3"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("variablesOf = %v, want %v", got, want)
	}
}
