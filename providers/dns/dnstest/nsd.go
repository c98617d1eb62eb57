package dnstest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

// Zone is one zone file for StartNSD, StartBIND and StartKnot.
type Zone struct {
	Name string // apex, e.g. "acme.example"
	File string // zone file path
}

// StartNSD serves zones with NSD, an authoritative server we did not
// write, on a free port of 127.0.0.1, and returns its address. It skips
// the test when nsd is not installed (apt-get install nsd). NSD is stopped
// at test end.
func StartNSD(t testing.TB, zones []Zone) string {
	t.Helper()
	bin, err := exec.LookPath("nsd")
	if err != nil {
		t.Skip("nsd is not installed; the in-process server tests cover the same table")
	}
	dir := t.TempDir()
	var conf strings.Builder
	for _, z := range zones {
		fmt.Fprintf(&conf, "zone:\n  name: %q\n  zonefile: %q\n", z.Name, absPath(t, z.File))
	}
	port := freePort(t)
	confPath := filepath.Join(dir, "nsd.conf")
	err = os.WriteFile(confPath, []byte(fmt.Sprintf(`server:
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
		filepath.Join(dir, "nsd.log"), conf.String())), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	return startServer(t, "nsd", exec.Command(bin, "-d", "-c", confPath), port, zones[0].Name, filepath.Join(dir, "nsd.log"))
}

// startServer starts cmd, a server that listens on 127.0.0.1:port, kills
// it at test end, and returns its address once it answers the SOA of
// zone. When it exits or never answers, the test fails with its log.
func startServer(t testing.TB, name string, cmd *exec.Cmd, port int, zone, logPath string) string {
	t.Helper()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
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
	m.SetQuestion(mdns.Fqdn(zone), mdns.TypeSOA)
	for i := 0; ; i++ {
		if r, _, err := c.Exchange(m, addr); err == nil && r.Rcode == mdns.RcodeSuccess && len(r.Answer) > 0 {
			return addr
		}
		select {
		case err := <-exited:
			log, _ := os.ReadFile(logPath)
			t.Fatalf("%s exited: %v\n%s", name, err, log)
		case <-time.After(50 * time.Millisecond):
		}
		if i == 200 {
			log, _ := os.ReadFile(logPath)
			t.Fatalf("%s did not start answering\n%s", name, log)
		}
	}
}

// freePort returns a port free on 127.0.0.1 for both UDP and TCP (as far
// as anyone can tell before binding it again).
func freePort(t testing.TB) int {
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
