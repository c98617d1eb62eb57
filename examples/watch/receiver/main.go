// Command receiver is a webhook receiver for the watch example: it checks
// each delivery's signature (X-Hub-Signature-256, the HMAC-SHA256 of the
// body under WATCH_WEBHOOK_SECRET, as GitHub signs its webhooks), drops a
// delivery it has seen (X-Reconform-Delivery), and prints a line per
// change. It is an example of what a receiver does, not part of reconform.
//
//	go run ./examples/watch/receiver [-listen 127.0.0.1:8765]
package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"sync"
)

// delivery is the part of the body this receiver prints: the drift JSON
// of docs/drift-json.md plus the notification keys.
type delivery struct {
	Notification struct {
		Delivery   string   `json:"delivery"`
		Engagement string   `json:"engagement"`
		Events     []string `json:"events"`
		Serial     uint64   `json:"serial"`
	} `json:"notification"`
	Findings map[string][]struct {
		Name  string `json:"name"`
		Type  string `json:"type"`
		Value string `json:"value"`
	} `json:"findings"`
	Facts struct {
		Changed []struct {
			Subject, Kind, Old, New string
			Weakening               bool
		} `json:"changed"`
	} `json:"facts"`
	Checks []struct {
		Name     string   `json:"name"`
		Status   string   `json:"status"`
		Messages []string `json:"messages"`
	} `json:"checks"`
	Baseline *struct {
		Findings int `json:"findings"`
	} `json:"baseline"`
}

// handler verifies and prints deliveries to out.
func handler(secret string, out io.Writer) http.Handler {
	var mu sync.Mutex
	seen := map[string]bool{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
		if err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		if secret != "" {
			mac := hmac.New(sha256.New, []byte(secret))
			mac.Write(body)
			want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
			if !hmac.Equal([]byte(want), []byte(r.Header.Get("X-Hub-Signature-256"))) {
				http.Error(w, "bad signature", http.StatusUnauthorized)
				return
			}
		}
		id := r.Header.Get("X-Reconform-Delivery")
		mu.Lock()
		dup := seen[id]
		seen[id] = true
		mu.Unlock()
		if dup {
			w.WriteHeader(http.StatusOK) // taken before: acknowledge, do nothing
			return
		}
		var d delivery
		if err := json.Unmarshal(body, &d); err != nil {
			http.Error(w, "not JSON", http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		n := d.Notification
		fmt.Fprintf(out, "== %s serial %d %v (delivery %s)\n", n.Engagement, n.Serial, n.Events, n.Delivery)
		if d.Baseline != nil {
			fmt.Fprintf(out, "   baseline: %d findings\n", d.Baseline.Findings)
		}
		for _, c := range d.Checks {
			fmt.Fprintf(out, "   check %s: %s %v\n", c.Name, c.Status, c.Messages)
		}
		for _, c := range d.Facts.Changed {
			fmt.Fprintf(out, "   %s %s: %s -> %s\n", c.Subject, c.Kind, c.Old, c.New)
		}
		for _, list := range []string{"added", "removed", "became_current", "went_historical"} {
			for _, f := range d.Findings[list] {
				fmt.Fprintf(out, "   %s %s %s %s\n", list, f.Name, f.Type, f.Value)
			}
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func main() {
	listen := flag.String("listen", "127.0.0.1:8765", "address to listen on")
	flag.Parse()
	secret := os.Getenv("WATCH_WEBHOOK_SECRET")
	if secret == "" {
		log.Print("WATCH_WEBHOOK_SECRET is not set: signatures are not checked")
	}
	http.Handle("/reconform", handler(secret, os.Stdout))
	log.Printf("listening on http://%s/reconform", *listen)
	log.Fatal(http.ListenAndServe(*listen, nil))
}
