package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func post(t *testing.T, h http.Handler, secret, id, body string) int {
	req := httptest.NewRequest(http.MethodPost, "/reconform", strings.NewReader(body))
	req.Header.Set("X-Reconform-Delivery", id)
	if secret != "" {
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(body))
		req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

func TestReceiver(t *testing.T) {
	var out bytes.Buffer
	h := handler("s3cret", &out)
	body := `{"notification":{"delivery":"d1","engagement":"acme","events":["drift"],"serial":2},"findings":{"added":[{"name":"new.acme.example","type":"A","value":"203.0.113.5"}]},"checks":[]}`
	if code := post(t, h, "s3cret", "d1", body); code != http.StatusNoContent {
		t.Fatalf("a signed delivery: %d", code)
	}
	if !strings.Contains(out.String(), "added new.acme.example A 203.0.113.5") {
		t.Errorf("printed:\n%s", out.String())
	}
	if code := post(t, h, "s3cret", "d1", body); code != http.StatusOK || strings.Count(out.String(), "==") != 1 {
		t.Errorf("a repeat: %d, printed:\n%s", code, out.String())
	}
	if code := post(t, h, "wrong", "d2", body); code != http.StatusUnauthorized {
		t.Errorf("a bad signature: %d", code)
	}
}
