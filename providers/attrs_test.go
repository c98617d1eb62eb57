package providers_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/reconform/reconform/providers"
)

func TestRequireKey(t *testing.T) {
	for _, tt := range []struct {
		name, want, wantErr string
		attrs               map[string]cty.Value
	}{
		{name: "set", attrs: map[string]cty.Value{"api_key": cty.StringVal(" k1 ")}, want: "k1"},
		{name: "unset", wantErr: `vt: provider "vt": api_key is empty; set it, e.g. api_key = env("VT_KEY")`},
		{name: "blank", attrs: map[string]cty.Value{"api_key": cty.StringVal("  ")}, wantErr: `api_key is empty`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := providers.RequireKey(providers.Config{Address: "vt", Attrs: tt.attrs}, "api_key", "VT_KEY")
			if got != tt.want {
				t.Errorf("key %q, want %q", got, tt.want)
			}
			checkErr(t, err, providers.KindAuth, tt.wantErr)
		})
	}
}

func TestAtLeastOne(t *testing.T) {
	for _, tt := range []struct {
		name    string
		attrs   map[string]cty.Value
		want    int
		wantErr string
	}{
		{name: "default", want: 5},
		{name: "set", attrs: map[string]cty.Value{"max_pages": cty.NumberIntVal(2)}, want: 2},
		{name: "zero", attrs: map[string]cty.Value{"max_pages": cty.NumberIntVal(0)}, wantErr: `provider "st": max_pages must be at least 1`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := providers.AtLeastOne(providers.Config{Address: "st", Attrs: tt.attrs}, "max_pages", 5)
			if got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
			checkErr(t, err, providers.KindBadInput, tt.wantErr)
		})
	}
}

func checkErr(t *testing.T, err error, kind providers.ErrorKind, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	var pe *providers.Error
	if !errors.As(err, &pe) || pe.Kind != kind {
		t.Fatalf("error %v, want a %s *providers.Error", err, kind)
	}
	if got := err.Error(); !strings.Contains(got, want) {
		t.Errorf("error %q, want it to contain %q", got, want)
	}
}
