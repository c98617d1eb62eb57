package quota

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/schema"
)

// KeyIterations is the PBKDF2-HMAC-SHA256 work factor of a key's
// identifier. Vendor API keys are long random strings that no one can
// guess from a hash anyway; the work factor is for the weak ones (a
// password used as a credential, a short test key): whoever holds a
// ledger and its salt can test guesses offline, and each guess costs
// this many HMAC rounds (tens of milliseconds), not one hash.
const KeyIterations = 100_000

// keyIDs caches identifiers for the process: a run derives each once.
// The map is keyed by a SHA-256 of salt, type and secret, so it holds no
// secret either.
var keyIDs sync.Map

// KeyID names a key in the ledger without revealing it: PBKDF2 over the
// provider type and the secret, with the ledger's random salt (so that
// identifiers cannot be compared across ledgers, nor looked up in a
// table made beforehand), 128 bits in hex.
func KeyID(salt []byte, providerType, secret string) string {
	pw := providerType + "\x00" + secret
	memo := sha256.Sum256(append(append([]byte(nil), salt...), pw...))
	if id, ok := keyIDs.Load(memo); ok {
		return id.(string)
	}
	dk, err := pbkdf2.Key(sha256.New, pw, salt, KeyIterations, 16)
	if err != nil {
		// Only FIPS-mode restrictions fail here; a plain hash still
		// reveals nothing beyond what the salt protects.
		h := sha256.Sum256(append(append([]byte(nil), salt...), pw...))
		dk = h[:16]
	}
	id := hex.EncodeToString(dk)
	keyIDs.Store(memo, id)
	return id
}

// AccountSecret is what identifies the account of a provider block's
// quota: the values of its type's QuotaAccountAttributes, joined. A
// provider without credentials (a free API counted per address) has ""
// and so one account per ledger.
func AccountSecret(pb *schema.ProviderBlock, reg providers.Registration) string {
	cfg := providers.Config{Attrs: pb.Attrs}
	var parts []string
	for _, name := range reg.Schema.QuotaAccountAttributes() {
		parts = append(parts, name+"="+cfg.String(name))
	}
	return strings.Join(parts, "\x00")
}
