package providers

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
)

// TrustForTests makes c trust the certificates of pool (an httptest TLS
// server's), for tests of https behaviour.
func (c *HTTPClient) TrustForTests(pool *x509.CertPool) {
	c.client.Transport.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: pool}
}
