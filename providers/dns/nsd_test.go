package dns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/reconform/reconform/providers"
)

// startNSD serves the test zones with NSD, an authoritative server we did
// not write, on a free port of 127.0.0.1. The test is skipped when nsd is
// not installed (apt-get install nsd).
func startNSD(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("nsd")
	if err != nil {
		t.Skip("nsd is not installed; the in-process server tests cover the same table")
	}
	dir := t.TempDir()
	var zones strings.Builder
	for _, z := range []struct{ name, file string }{
		{"acme.example", zoneFile},
		{"113.0.203.in-addr.arpa", reverseV4},
		{"8.b.d.0.1.0.0.2.ip6.arpa", reverseV6},
	} {
		abs, err := filepath.Abs(z.file)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&zones, "zone:\n  name: %q\n  zonefile: %q\n", z.name, abs)
	}
	port := freePort(t)
	conf := filepath.Join(dir, "nsd.conf")
	err = os.WriteFile(conf, []byte(fmt.Sprintf(`server:
  ip-address: 127.0.0.1
  port: %d
  zonesdir: %q
  pidfile: %q
  xfrdfile: %q
  zonelistfile: %q
  logfile: %q
  database: ""
  username: ""
  chroot: ""
  server-count: 1
  verbosity: 1
remote-control:
  control-enable: no
%s`, port, dir, filepath.Join(dir, "nsd.pid"), filepath.Join(dir, "xfrd.state"), filepath.Join(dir, "zone.list"),
		filepath.Join(dir, "nsd.log"), zones.String())), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-d", "-c", conf)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting nsd: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	addr := net.JoinHostPort("127.0.0.1", fmt.Sprint(port))
	c := &mdns.Client{Timeout: 200 * time.Millisecond}
	m := new(mdns.Msg)
	m.SetQuestion("acme.example.", mdns.TypeSOA)
	for i := 0; ; i++ {
		if r, _, err := c.Exchange(m, addr); err == nil && r.Rcode == mdns.RcodeSuccess && len(r.Answer) > 0 {
			return addr
		}
		select {
		case err := <-exited:
			log, _ := os.ReadFile(filepath.Join(dir, "nsd.log"))
			t.Fatalf("nsd exited: %v\n%s", err, log)
		case <-time.After(50 * time.Millisecond):
		}
		if i == 200 {
			t.Fatal("nsd did not start answering")
		}
	}
}

// freePort returns a port free on 127.0.0.1 for both UDP and TCP (as far
// as anyone can tell before binding it again).
func freePort(t *testing.T) int {
	t.Helper()
	for i := 0; i < 20; i++ {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp", pc.LocalAddr().String())
		pc.Close()
		if err == nil {
			l.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// TestResolveZoneNSD runs the zone table against NSD.
func TestResolveZoneNSD(t *testing.T) {
	addr := startNSD(t)
	testResolveZone(t, addr, nil)

	t.Run("referral below a delegation", func(t *testing.T) {
		p, _ := newProvider(t, []string{addr}, nil, 5*time.Second)
		_, err := p.Query(context.Background(), resolveQuery("host.sub.acme.example", "A"))
		var pe *providers.Error
		if !errors.As(err, &pe) || pe.Kind != providers.KindBadInput || !strings.Contains(err.Error(), "referral") {
			t.Errorf("error %v, want a referral error", err)
		}
	})
	t.Run("outside its zones", func(t *testing.T) {
		p, _ := newProvider(t, []string{addr}, nil, 5*time.Second)
		_, err := p.Query(context.Background(), resolveQuery("www.other.example", "A"))
		if ok, _ := providers.IsRetryable(err); !ok || !strings.Contains(fmt.Sprint(err), "REFUSED") {
			t.Errorf("error %v, want a retryable REFUSED", err)
		}
	})
}
