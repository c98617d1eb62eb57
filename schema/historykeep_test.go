package schema_test

import (
	"strings"
	"testing"
	"time"

	"github.com/reconform/reconform/schema"
)

func TestHistoryKeep(t *testing.T) {
	tests := []struct {
		name, value string
		want        schema.HistoryKeep
		err         string
	}{
		{"unset", "", schema.HistoryKeep{}, ""},
		{"count", "50", schema.HistoryKeep{Count: 50}, ""},
		{"age in days", `"180d"`, schema.HistoryKeep{Age: 180 * 24 * time.Hour}, ""},
		{"age in weeks", `"2w"`, schema.HistoryKeep{Age: 14 * 24 * time.Hour}, ""},
		{"zero count", "0", schema.HistoryKeep{}, "history_keep must be a whole number of at least 1"},
		{"fraction", "2.5", schema.HistoryKeep{}, "whole number"},
		{"zero age", `"0d"`, schema.HistoryKeep{}, "not a duration longer than zero"},
		{"not a duration", `"forever"`, schema.HistoryKeep{}, "not a duration longer than zero"},
		{"a list", `[1]`, schema.HistoryKeep{}, "Invalid history_keep"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := "engagement \"e\" {\n}\n"
			if tc.value != "" {
				src = "engagement \"e\" {\n  history_keep = " + tc.value + "\n}\n"
			}
			cfg, diags := loadSource(t, src)
			if tc.err != "" {
				if !strings.Contains(diags, tc.err) {
					t.Fatalf("diagnostics %q, want %q", diags, tc.err)
				}
				return
			}
			if diags != "" {
				t.Fatal(diags)
			}
			if cfg.Engagement.HistoryKeep != tc.want {
				t.Errorf("history_keep %+v, want %+v", cfg.Engagement.HistoryKeep, tc.want)
			}
		})
	}
}
