package analysis

import (
	"strings"
	"testing"
)

// A damaged table names the line and keeps its error short.
func TestReadASNTableBadLines(t *testing.T) {
	for name, tt := range map[string]struct{ in, want string }{
		"line over the scanner's limit": {"1.0.0.0\t1.0.0.255\t13335\tUS\tx\n" + strings.Repeat("x", 2<<20) + "\n", "line 2: "},
		"long malformed line":           {"1.0.0.0\tnope\t13335\tUS\t" + strings.Repeat("y", 5000) + "\n", "line 1: malformed range"},
	} {
		_, err := ReadASNTable(strings.NewReader(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) || len(err.Error()) > 300 {
			t.Errorf("%s: err = %.300v", name, err)
		}
	}
}
