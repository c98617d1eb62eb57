package providers_test

import (
	"context"
	"errors"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/reconform/reconform/providers"
	"github.com/reconform/reconform/providers/providertest"
)

const secret = "SECRET-CANARY-KEY-1234"

func TestHTTPClient(t *testing.T) {
	tests := []struct {
		name      string
		handler   func(n int32, w http.ResponseWriter, r *http.Request)
		wantBody  string
		wantKind  providers.ErrorKind
		wantCalls int32
		budget    int
	}{
		{
			name: "429 with Retry-After then success",
			handler: func(n int32, w http.ResponseWriter, r *http.Request) {
				if n == 1 {
					w.Header().Set("Retry-After", "0")
					w.WriteHeader(http.StatusTooManyRequests)
					return
				}
				w.Write([]byte("ok"))
			},
			wantBody: "ok", wantCalls: 2,
		},
		{
			name: "429 with a Retry-After beyond the longest wait is not retried",
			handler: func(n int32, w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "3600")
				w.WriteHeader(http.StatusTooManyRequests)
			},
			wantKind: providers.KindQuota, wantCalls: 1,
		},
		{
			name: "5xx then success",
			handler: func(n int32, w http.ResponseWriter, r *http.Request) {
				if n < 3 {
					w.WriteHeader(http.StatusBadGateway)
					return
				}
				w.Write([]byte("ok"))
			},
			wantBody: "ok", wantCalls: 3,
		},
		{
			name: "5xx forever gives up",
			handler: func(n int32, w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusServiceUnavailable)
			},
			wantKind: providers.KindTransient, wantCalls: 3,
		},
		{
			name: "bad key is not retried",
			handler: func(n int32, w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusForbidden)
				w.Write([]byte(`{"message":"Invalid authentication credentials"}`))
			},
			wantKind: providers.KindAuth, wantCalls: 1,
		},
		{
			name: "oversized body",
			handler: func(n int32, w http.ResponseWriter, r *http.Request) {
				w.Write([]byte(strings.Repeat("x", 2048)))
			},
			wantKind: providers.KindMalformed, wantCalls: 1,
		},
		{
			name: "budget spent before the second attempt",
			handler: func(n int32, w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusInternalServerError)
			},
			budget: 1, wantKind: providers.KindBudget, wantCalls: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if got := r.Header.Get("User-Agent"); got != "reconform/test" {
					t.Errorf("User-Agent = %q", got)
				}
				tt.handler(calls.Add(1), w, r)
			}))
			defer srv.Close()
			cfg, gate := providertest.Config(t, "testvendor", srv.URL, nil)
			cfg.MaxBodyBytes = 1024
			gate.Budget = tt.budget
			c := providers.NewHTTPClient(cfg, providers.HTTPOptions{Secrets: []string{secret}})
			resp, err := c.Get(context.Background(), srv.URL+"/v1/x?apikey="+secret, nil)
			if got := calls.Load(); got != tt.wantCalls {
				t.Errorf("server saw %d calls, want %d", got, tt.wantCalls)
			}
			if tt.wantKind == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if string(resp.Body) != tt.wantBody {
					t.Errorf("body = %q", resp.Body)
				}
				if strings.Contains(resp.URL, secret) {
					t.Errorf("response URL leaks the key: %s", resp.URL)
				}
				return
			}
			var pe *providers.Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *providers.Error", err)
			}
			if pe.Kind != tt.wantKind {
				t.Errorf("kind = %s, want %s (%v)", pe.Kind, tt.wantKind, err)
			}
			if pe.Retryable {
				t.Errorf("final error still retryable: %v", err)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error leaks the key: %v", err)
			}
		})
	}
}

func TestHTTPClientTimeoutRedactsURL(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	cfg, _ := providertest.Config(t, "slow", srv.URL, nil)
	cfg.Timeout = 20 * time.Millisecond
	c := providers.NewHTTPClient(cfg, providers.HTTPOptions{Secrets: []string{secret}})
	_, err := c.Get(context.Background(), srv.URL+"/q?key="+secret, nil)
	if err == nil {
		t.Fatal("expected a timeout")
	}
	if strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "timed out") {
		t.Errorf("error = %v", err)
	}
}

// TestHTTPClientHugeLimit: the largest max_response_bytes still reads the
// body (the one-byte look-ahead must not overflow into a limit of nothing).
func TestHTTPClientHugeLimit(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	cfg, _ := providertest.Config(t, "v", srv.URL, nil)
	cfg.MaxBodyBytes = math.MaxInt64
	resp, err := providers.NewHTTPClient(cfg, providers.HTTPOptions{}).Get(context.Background(), srv.URL, nil)
	if err != nil || string(resp.Body) != "ok" {
		t.Fatalf("body %q, err %v", resp.Body, err)
	}
}

func TestHTTPClientCancel(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	cfg, _ := providertest.Config(t, "v", srv.URL, nil)
	cfg.Retry.BaseDelay = time.Hour
	cfg.Retry.MaxDelay = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(10 * time.Millisecond); cancel() }()
	_, err := providers.NewHTTPClient(cfg, providers.HTTPOptions{}).Get(ctx, srv.URL, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestRedact(t *testing.T) {
	tests := map[string]struct{ in, want string }{
		"plain":            {"bad key " + secret, "bad key REDACTED"},
		"escaped":          {"key=a%2Fb", "key=REDACTED"},
		"query name":       {`Get "https://x.example/q?apikey=zzz&q=1"`, `Get "https://x.example/q?apikey=REDACTED&q=1"`},
		"userinfo":         {"https://user:pw@x.example/", "https://REDACTED@x.example/"},
		"cut by a snippet": {"bad key " + secret[:9] + "...", "bad key REDACTED..."},
		"snippet cut on a rune boundary, C1 controls gone": {providers.BodySnippet([]byte(strings.Repeat("x", 199) + "\u00e9\u009b")), strings.Repeat("x", 199) + "..."},
		"snippet of a body echoing the key":                {providers.BodySnippet([]byte(strings.Repeat("x", 190) + " " + secret)), strings.Repeat("x", 190) + " REDACTED..."},
		"lower-case escapes":                               {"key=a%2fb and a%2Fb", "key=REDACTED and REDACTED"},
		"escapes of plain letters":                         {"bad key %53ECRET-CANARY-KEY-1234", "bad key REDACTED"},
		"other params kept as sent":                        {"https://x.example/q?token=t0k&q=a%2bc+d&x", "https://x.example/q?token=REDACTED&q=a%2bc+d&x"},
		"userinfo with an @ in it":                         {"see http://u:p%40ss@x.example:8080/p", "see http://REDACTED@x.example:8080/p"},
		"credential param, any case":                       {"GET https://x.example/?ApiKey=abc%2Bdef#frag", "GET https://x.example/?ApiKey=REDACTED#frag"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := providers.Redact(tt.in, secret, "a/b"); got != tt.want {
				t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// A redacted URL is never re-encoded: a key that reached the text in
// another escaping (a server echoing a%2bb) must not be turned back into
// the form it was sent in (a%2Bb) while a credential parameter is blanked.
func TestRedactNeverReencodes(t *testing.T) {
	const key = "k3y+with/slash=="
	in := "echo: https://x.example/q?apikey=zzz&note=k3y%2bwith%2fslash%3d%3d"
	got := providers.Redact(in, key)
	for _, form := range []string{key, "k3y%2Bwith%2Fslash%3D%3D", "k3y%2bwith%2fslash%3d%3d", "k3y+with%2Fslash"} {
		if strings.Contains(got, form) {
			t.Errorf("Redact(%q) = %q still holds %q", in, got, form)
		}
	}
	if want := "echo: https://x.example/q?apikey=REDACTED&note=REDACTED"; got != want {
		t.Errorf("Redact = %q, want %q", got, want)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":                              0,
		"7":                             7 * time.Second,
		"-1":                            0,
		"Thu, 01 Jan 2026 00:00:30 GMT": 30 * time.Second,
		"soon":                          0,
	} {
		if got := providers.ParseRetryAfter(in, now); got != want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func FuzzEachLine(f *testing.F) {
	f.Add([]byte("{\"a\":1}\r\n\r\n{\"b\":2}"))
	f.Fuzz(func(t *testing.T, body []byte) {
		providers.EachLine(body, func(int, []byte) error { return nil })
	})
}

func TestAPIBase(t *testing.T) {
	const def = "https://api.example.com/v1"
	for in, want := range map[string]string{
		"":                             "https://api.example.com/v1",
		"http://127.0.0.1:8080":        "http://127.0.0.1:8080/v1",
		"http://127.0.0.1:8080/":       "http://127.0.0.1:8080/v1",
		"http://127.0.0.1:8080/mirror": "http://127.0.0.1:8080/mirror",
		"http://127.0.0.1:8080/v1/":    "http://127.0.0.1:8080/v1",
	} {
		if got := providers.APIBase(in, def); got != want {
			t.Errorf("APIBase(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestHTTPClientRedactsConfigSecrets: a sensitive value the provider does
// not know about (an endpoint holding a token, set from env()) is redacted
// too, since the engine passes every secret of the configuration.
func TestHTTPClientRedactsConfigSecrets(t *testing.T) {
	const token = "PATH-TOKEN-5678"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no such thing", http.StatusNotFound)
	}))
	defer srv.Close()
	cfg, _ := providertest.Config(t, "ep", srv.URL+"/t/"+token, nil)
	cfg.Secrets = []string{token}
	_, err := providers.NewHTTPClient(cfg, providers.HTTPOptions{}).Get(context.Background(), cfg.Endpoint+"/q", nil)
	if err == nil {
		t.Fatal("expected an error")
	}
	if strings.Contains(err.Error(), token) {
		t.Errorf("error = %v", err)
	}
}

// TestHTTPClientKeepsConnectionsForItsParallelism sends many requests from
// as many goroutines as the parallelism, against a server that counts the
// connections it accepts: every connection is kept for the next request,
// so no more are ever opened than requests were in flight.
func TestHTTPClientKeepsConnectionsForItsParallelism(t *testing.T) {
	for _, parallelism := range []int{providers.DefaultParallelism, 32} {
		t.Run(strconv.Itoa(parallelism), func(t *testing.T) {
			var conns atomic.Int64
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				// A little work keeps the requests overlapping.
				time.Sleep(200 * time.Microsecond)
				w.Write([]byte(`{"ok":true}`))
			}))
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					conns.Add(1)
				}
			}
			srv.Start()
			defer srv.Close()
			c := providers.NewHTTPClient(providers.Config{Address: "test", Parallelism: parallelism}, providers.HTTPOptions{})
			const requests = 2000
			var next atomic.Int64
			var wg sync.WaitGroup
			errs := make(chan error, parallelism)
			for range parallelism {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for next.Add(1) <= requests {
						if _, err := c.Get(context.Background(), srv.URL+"/q", nil); err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			if n := conns.Load(); n > int64(parallelism) {
				t.Errorf("%d requests at parallelism %d opened %d connections, want at most %d", requests, parallelism, n, parallelism)
			}
		})
	}
}
