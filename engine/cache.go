package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/reconform/reconform/engine/backend"
	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

// cacheFormat is the version of a cache entry; other versions are misses.
const cacheFormat = 1

// answerCache keeps provider answers in the backend's cache (local files
// by default), one entry per query: this file decides what an entry holds
// and when it may be used; the backend only stores it. Reads and writes
// never fail a run: a missing, expired or corrupt entry is a miss, and a
// failed write is only logged.
type answerCache struct {
	store backend.Cache
}

// cacheEntry is one stored answer.
type cacheEntry struct {
	Format   int              `json:"format"`
	Stored   time.Time        `json:"stored"`
	Findings []schema.Finding `json:"findings"`
	Facts    []schema.Fact    `json:"facts,omitempty"`
	Warnings []string         `json:"warnings,omitempty"`
}

// cacheKey identifies an answer: the provider TYPE (so two instances of a
// type with the same settings share answers), endpoint, the provider's
// non-sensitive own attributes (a file provider's path changes its
// answers), op, subject, rrtypes and params. Secrets never enter it, nor do
// settings that do not change answers (rate, budget, timeout, cache_ttl).
func cacheKey(pb *schema.ProviderBlock, endpoint string, q schema.Query) string {
	h := sha256.New()
	fmt.Fprintf(h, "reconform-cache-v%d\x00%s\x00%s\x00", cacheFormat, pb.Type, endpoint)
	common := map[string]bool{}
	for _, a := range schema.CommonProviderAttributes {
		common[a.Name] = true
	}
	var names []string
	for name := range pb.Attrs {
		if !common[name] && !pb.Sensitive[name] {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		v := pb.Attrs[name]
		var enc []byte
		if v.IsWhollyKnown() {
			enc, _ = ctyjson.Marshal(v, v.Type())
		}
		fmt.Fprintf(h, "%s=%s\x00", name, enc)
	}
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00", q.Op, q.Subject.Value, strings.Join(q.RRTypes, ","))
	var keys []string
	for k := range q.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "%s=%s\x00", k, q.Params[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// get returns the stored answer for key when it is younger than ttl.
func (c *answerCache) get(ctx context.Context, key string, ttl time.Duration, now time.Time) (providers.Answer, bool) {
	data, ok := c.store.Get(ctx, key)
	if !ok {
		return providers.Answer{}, false
	}
	var e cacheEntry
	if err := json.Unmarshal(data, &e); err != nil || e.Format != cacheFormat || e.Stored.IsZero() {
		return providers.Answer{}, false
	}
	if now.Sub(e.Stored) > ttl || e.Stored.After(now.Add(time.Minute)) {
		return providers.Answer{}, false
	}
	// A damaged or hand-edited entry must not put findings into the state
	// that no provider could have given: such an entry is a miss too.
	for _, f := range e.Findings {
		if f.Name == "" || f.Type == "" || schema.NewFinding(f.Name, f.Type, f.Value).ID() != f.ID() {
			return providers.Answer{}, false
		}
	}
	return providers.Answer{Findings: e.Findings, Facts: e.Facts, Warnings: e.Warnings}, true
}

// put stores an answer.
func (c *answerCache) put(ctx context.Context, key string, ans providers.Answer, now time.Time) error {
	data, err := json.Marshal(cacheEntry{Format: cacheFormat, Stored: now.UTC(), Findings: ans.Findings, Facts: ans.Facts, Warnings: ans.Warnings})
	if err != nil {
		return err
	}
	return c.store.Put(ctx, key, data, now)
}
