package providers

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reconform/reconform/schema"
)

func TestMergeObservations(t *testing.T) {
	obs := func(name, value string, first, last, count int64) schema.Finding {
		f := schema.NewFinding(name, "NS", value)
		f.FirstSeen, f.LastSeen, f.Count = time.Unix(first, 0).UTC(), time.Unix(last, 0).UTC(), count
		f.Sources = []string{"robtex"}
		return f
	}
	// The shape of Robtex's reverse answer for a.iana-servers.net
	// (testdata/real/robtex): a line repeated, and DNSDB's zone-file and
	// sensor records of one delegation.
	in := []schema.Finding{
		obs("icannalac.com", "a.iana-servers.net", 1440957502, 1526778684, 2),
		obs("237.in-addr.arpa", "a.iana-servers.net", 1441298790, 1505450260, 2),
		obs("icannalac.com", "a.iana-servers.net", 1440957502, 1526778684, 2),
		obs("farsightsecurity.com", "ns5.dnsmadeeasy.com", 1374250920, 1468253883, 1078),
		obs("farsightsecurity.com", "ns5.dnsmadeeasy.com", 1374096380, 1468334926, 706617),
	}
	want := []schema.Finding{
		obs("237.in-addr.arpa", "a.iana-servers.net", 1441298790, 1505450260, 2),
		obs("farsightsecurity.com", "ns5.dnsmadeeasy.com", 1374096380, 1468334926, 707695),
		obs("icannalac.com", "a.iana-servers.net", 1440957502, 1526778684, 2),
	}
	if diff := cmp.Diff(want, MergeObservations(in)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if MergeObservations(nil) != nil {
		t.Error("nothing in, nothing out")
	}
}
