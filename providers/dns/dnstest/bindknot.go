package dnstest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// StartBIND serves zones with BIND 9 (named), as authoritative only, on a
// free port of 127.0.0.1, and returns its address and the path of its log,
// where every query it receives is logged ("query: NAME IN TYPE"), so a
// test can prove a name was never asked. It skips the test when named is
// not installed (apt-get install bind9). named is stopped at test end.
func StartBIND(t testing.TB, zones []Zone) (addr, queryLog string) {
	t.Helper()
	bin, err := exec.LookPath("named")
	if err != nil {
		t.Skip("named (BIND 9) is not installed; the in-process server tests cover the same table")
	}
	dir := t.TempDir()
	var conf strings.Builder
	for _, z := range zones {
		fmt.Fprintf(&conf, "zone %q { type primary; file %q; };\n", z.Name, absPath(t, z.File))
	}
	port := freePort(t)
	confPath := filepath.Join(dir, "named.conf")
	err = os.WriteFile(confPath, []byte(fmt.Sprintf(`options {
  directory %q;
  pid-file %q;
  listen-on port %d { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion no;
  notify no;
  dnssec-validation no;
  querylog yes;
  // The test zone's big RRsets exceed BIND's default limit of 100
  // records of one type at a name (9.18.28 and later).
  max-records-per-type 0;
};
controls { };
logging {
  channel all { file %q; print-time yes; severity info; };
  category default { all; };
  category queries { all; };
};
%s`, dir, filepath.Join(dir, "named.pid"), port, filepath.Join(dir, "named.log"), conf.String())), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	// -f: foreground; -4: IPv4 only; -n 1: one worker is plenty.
	logPath := filepath.Join(dir, "named.log")
	return startServer(t, "named", exec.Command(bin, "-f", "-4", "-n", "1", "-c", confPath), port, zones[0].Name, logPath), logPath
}

// StartKnot serves zones with Knot DNS (knotd) on a free port of
// 127.0.0.1 and returns its address. It skips the test when knotd is not
// installed (apt-get install knot). knotd is stopped at test end.
func StartKnot(t testing.TB, zones []Zone) string {
	t.Helper()
	bin, err := exec.LookPath("knotd")
	if err != nil {
		t.Skip("knotd (Knot DNS) is not installed; the in-process server tests cover the same table")
	}
	dir := t.TempDir()
	var conf strings.Builder
	for _, z := range zones {
		fmt.Fprintf(&conf, "  - domain: %q\n    file: %q\n", z.Name, absPath(t, z.File))
	}
	port := freePort(t)
	confPath := filepath.Join(dir, "knot.conf")
	err = os.WriteFile(confPath, []byte(fmt.Sprintf(`server:
    listen: 127.0.0.1@%d
    rundir: %q
log:
  - target: %q
    any: info
database:
    storage: %q
template:
  - id: default
    storage: %q
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
zone:
%s`, port, dir, filepath.Join(dir, "knot.log"), filepath.Join(dir, "db"), dir, conf.String())), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	return startServer(t, "knotd", exec.Command(bin, "-c", confPath), port, zones[0].Name, filepath.Join(dir, "knot.log"))
}

func absPath(t testing.TB, path string) string {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}
