package dnsdb_test

import (
	"strconv"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

func numberVal(t *testing.T, s string) cty.Value {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return cty.NumberIntVal(int64(n))
}
