package ansi

import "testing"

func TestEnabled(t *testing.T) {
	tests := map[string]struct {
		terminal, flag bool
		env            string
		want           bool
	}{
		"terminal":          {true, false, "", true},
		"not a terminal":    {false, false, "", false},
		"-no-color":         {true, true, "", false},
		"NO_COLOR=1":        {true, false, "1", false},
		"NO_COLOR=0 too":    {true, false, "0", false},
		"NO_COLOR= (empty)": {true, false, "", true},
	}
	for name, tc := range tests {
		if got := Enabled(tc.terminal, tc.flag, tc.env); got != tc.want {
			t.Errorf("%s: %v", name, got)
		}
	}
}

func TestPaint(t *testing.T) {
	if got := (Palette{On: true}).Paint("x", Red, Bold); got != "\x1b[31m\x1b[1mx\x1b[0m" {
		t.Errorf("on: %q", got)
	}
	if got := (Palette{}).Paint("x", Red); got != "x" {
		t.Errorf("off: %q", got)
	}
	if got := (Palette{On: true}).Paint("", Red); got != "" {
		t.Errorf("empty: %q", got)
	}
}
