// Package smtptest gives tests a real SMTP server we did not write:
// aiosmtpd (Debian's python3-aiosmtpd) on 127.0.0.1, with STARTTLS
// (a throwaway certificate for 127.0.0.1) and AUTH when asked, saving
// every message it accepts. Without it a test skips with one line saying
// how to get it; under CI=true it fails instead.
package smtptest

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	_ "embed"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

//go:embed server.py
var script []byte

// Options say what the server offers.
type Options struct {
	// TLS offers (and requires) STARTTLS.
	TLS bool
	// User and Password, when set, offer AUTH and accept only them.
	User, Password string
	// FailFirst answers the first n messages with 451.
	FailFirst int
}

// Server is a running aiosmtpd.
type Server struct {
	Host string
	Port int
	// CAFile is the PEM of the certificate the server presents (TLS).
	CAFile string
	dir    string
}

// Received is one accepted message.
type Received struct {
	Raw           []byte
	MailFrom      string   `json:"mail_from"`
	RcptTos       []string `json:"rcpt_tos"`
	TLS           bool     `json:"tls"`
	Authenticated bool     `json:"authenticated"`
}

// python finds an interpreter that has aiosmtpd: Debian's /usr/bin/python3
// first (where python3-aiosmtpd installs), then python3 on the PATH.
func python() (string, error) {
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		path, err := exec.LookPath(p)
		if err != nil {
			continue
		}
		if exec.Command(path, "-c", "import aiosmtpd").Run() == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("no python3 with aiosmtpd")
}

func unavailable(t testing.TB, err error) {
	t.Helper()
	msg := fmt.Sprintf("e-mail tests need a real SMTP server: %v (apt-get install python3-aiosmtpd)", err)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// Start starts a server for the test; it stops when the test ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	py, err := python()
	if err != nil {
		unavailable(t, err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "mail")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	sp := filepath.Join(dir, "server.py")
	if err := os.WriteFile(sp, script, 0o644); err != nil {
		t.Fatal(err)
	}
	s := &Server{Host: "127.0.0.1", dir: out}
	cert, key := "-", "-"
	if o.TLS {
		cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
		if err := selfSigned(cert, key); err != nil {
			t.Fatal(err)
		}
		s.CAFile = cert
	}
	user, pass := "-", "-"
	if o.User != "" {
		user, pass = o.User, o.Password
	}
	for try := 0; ; try++ {
		s.Port = freePort(t)
		cmd := exec.Command(py, sp, strconv.Itoa(s.Port), out, cert, key, user, pass, strconv.Itoa(o.FailFirst))
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			unavailable(t, err)
		}
		ready := make(chan bool, 1)
		go func() {
			line, _ := bufio.NewReader(stdout).ReadString('\n')
			ready <- strings.TrimSpace(line) == "ready"
		}()
		ok := false
		select {
		case ok = <-ready:
		case <-time.After(30 * time.Second):
		}
		if ok {
			t.Cleanup(func() {
				stdin.Close()
				done := make(chan struct{})
				go func() { cmd.Wait(); close(done) }()
				select {
				case <-done:
				case <-time.After(10 * time.Second):
					cmd.Process.Kill()
					<-done
				}
			})
			return s
		}
		cmd.Process.Kill()
		cmd.Wait()
		if try == 2 {
			t.Fatalf("aiosmtpd did not start: %s", stderr.String())
		}
	}
}

// Messages are the messages accepted so far, in order.
func (s *Server) Messages(t testing.TB) []Received {
	t.Helper()
	names, _ := filepath.Glob(filepath.Join(s.dir, "*.eml"))
	sort.Strings(names)
	var out []Received
	for _, n := range names {
		raw, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		var r Received
		meta, err := os.ReadFile(strings.TrimSuffix(n, ".eml") + ".json")
		if err == nil {
			json.Unmarshal(meta, &r)
		}
		r.Raw = raw
		out = append(out, r)
	}
	return out
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// selfSigned writes a certificate for 127.0.0.1 and localhost.
func selfSigned(certPath, keyPath string) error {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "reconform smtptest"},
		NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		return err
	}
	kb, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		return err
	}
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return err
	}
	return os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
}
