package fdnsgen

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestDeterministicValidLines(t *testing.T) {
	var a, b bytes.Buffer
	if err := Write(&a, Options{Lines: 500, Seed: 9}); err != nil {
		t.Fatal(err)
	}
	Write(&b, Options{Lines: 500, Seed: 9})
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("same seed, different output")
	}
	lines := bytes.Split(bytes.TrimSpace(a.Bytes()), []byte("\n"))
	if len(lines) != 500 {
		t.Fatalf("%d lines", len(lines))
	}
	for _, l := range lines {
		var rec map[string]string
		if err := json.Unmarshal(l, &rec); err != nil || rec["name"] == "" || rec["type"] == "" || rec["value"] == "" || rec["timestamp"] == "" {
			t.Fatalf("bad line %s: %v", l, err)
		}
	}
}
