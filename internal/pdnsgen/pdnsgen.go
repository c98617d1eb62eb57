// Package pdnsgen is what the generators of the offline example datasets
// (internal/quickstartgen, internal/fleetgen) share: passive DNS
// observations, a history that ages them to a snapshot's time, Passive DNS
// Common Output Format NDJSON, and writing a dataset. Everything is
// deterministic, so the committed data can be checked against the
// generators.
package pdnsgen

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"time"
)

// Rec is one passive DNS observation.
type Rec struct {
	Name, Type  string
	RData       []string
	First, Last time.Time
	Count       int
}

// Day is 09:00 UTC of an ISO date.
func Day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t.Add(9 * time.Hour)
}

// SnapshotTime is when monthly snapshot snap was taken: 1 on 1 March
// 2025, 2 on 1 April 2025.
func SnapshotTime(snap int) time.Time {
	return Day("2025-03-01").AddDate(0, snap-1, 0)
}

// History collects the records a passive DNS sensor shows at Now.
type History struct {
	Snap int
	Now  time.Time
	Recs []Rec
}

// Snapshot is an empty history of snapshot snap: what the sensor showed
// three hours before the snapshot was taken.
func Snapshot(snap int) *History {
	return &History{Snap: snap, Now: SnapshotTime(snap).Add(-3 * time.Hour)}
}

// Until is the end of a record that ends in the second month: in the
// first snapshot it is still seen ("").
func (h *History) Until(end string) string {
	if h.Snap == 1 {
		return ""
	}
	return end
}

// Add records a value seen from first until end ("" = still seen at
// Now); one first seen after Now is not there yet. Counts grow with the
// days a record was seen.
func (h *History) Add(name, typ, first, end string, count int, rdata ...string) {
	last := h.Now
	if end != "" {
		if e := Day(end); e.Before(h.Now) {
			last = e
		}
	}
	f := Day(first)
	if f.After(h.Now) {
		return
	}
	c := count + int(last.Sub(f).Hours()/24)*count/30
	h.Recs = append(h.Recs, Rec{name, typ, rdata, f, last, c})
}

// COF renders records as Passive DNS Common Output Format NDJSON, one
// line a record; bailiwick (may be nil) and origin are left out when
// empty.
func COF(rs []Rec, sensor, origin string, bailiwick func(name string) string) []byte {
	var buf bytes.Buffer
	for _, r := range rs {
		var rdata any = r.RData
		if len(r.RData) == 1 {
			rdata = r.RData[0]
		}
		bw := ""
		if bailiwick != nil {
			bw = bailiwick(r.Name)
		}
		line, _ := json.Marshal(struct {
			RRName    string `json:"rrname"`
			RRType    string `json:"rrtype"`
			RData     any    `json:"rdata"`
			TimeFirst int64  `json:"time_first"`
			TimeLast  int64  `json:"time_last"`
			Count     int    `json:"count"`
			Bailiwick string `json:"bailiwick,omitempty"`
			SensorID  string `json:"sensor_id"`
			Origin    string `json:"origin,omitempty"`
		}{r.Name, r.Type, rdata, r.First.Unix(), r.Last.Unix(), r.Count, bw, sensor, origin})
		buf.Write(line)
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

// WriteAll writes a dataset (file name to content) into dir.
func WriteAll(dir string, files map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
