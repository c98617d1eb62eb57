// Package pgtest gives tests a real PostgreSQL server: the one named by
// RECONFORM_TEST_PG (a connection string), or else a throwaway cluster
// made with initdb in a temporary folder, as an unprivileged user when the
// tests run as root, listening on 127.0.0.1 on a free port. One cluster
// serves a whole test binary (Main stops it); each test gets a database
// of its own.
//
// Without a server (no RECONFORM_TEST_PG, no initdb found) a test skips
// with one line saying how to get one; under CI=true it fails instead.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvConn names a server to use instead of a throwaway cluster.
const EnvConn = "RECONFORM_TEST_PG"

// Cluster is a running server.
type Cluster struct {
	// Admin connects as a superuser to the maintenance database.
	Admin string
	// Password is the superuser's password (in Admin too).
	Password string
	// Dir is the cluster's folder ("" for a server given by EnvConn).
	Dir  string
	Port int

	bin   string
	cred  *syscall.Credential
	owned bool
}

var (
	once    sync.Once
	shared  *Cluster
	initErr error
	dbSeq   int
	dbMu    sync.Mutex
)

// Options tune a throwaway cluster.
type Options struct {
	// Durable keeps PostgreSQL's defaults (fsync, full page writes), for
	// benchmarks; tests turn durability off to run faster.
	Durable bool
	// Settings are extra postgresql.conf lines.
	Settings []string
}

// Main runs the tests and stops the shared cluster after them: call it
// from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if shared != nil {
		shared.Stop()
	}
	os.Exit(code)
}

// Server returns the shared server, starting it on first use; it skips
// (or fails under CI) when there is none.
func Server(t testing.TB) *Cluster {
	t.Helper()
	once.Do(func() {
		if conn := os.Getenv(EnvConn); conn != "" {
			shared = &Cluster{Admin: conn}
			return
		}
		shared, initErr = Start(Options{})
	})
	if initErr != nil {
		unavailable(t, initErr)
	}
	return shared
}

// ErrNoServer says no PostgreSQL could be found or made.
var ErrNoServer = errors.New("no PostgreSQL server")

func unavailable(t testing.TB, err error) {
	t.Helper()
	msg := fmt.Sprintf("PostgreSQL tests need a server: %v (install Debian's postgresql, or set %s)", err, EnvConn)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// Database makes a new empty database on the shared server for this test
// and returns a connection string to it (as the superuser). It is dropped
// when the test ends.
func Database(t testing.TB) string {
	t.Helper()
	c := Server(t)
	dbMu.Lock()
	dbSeq++
	name := fmt.Sprintf("rf_test_%d_%d", os.Getpid(), dbSeq)
	dbMu.Unlock()
	if err := c.Exec(context.Background(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("creating test database: %v", err)
	}
	t.Cleanup(func() {
		c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return c.ConnString(name)
}

// ConnString connects to database db as the superuser.
func (c *Cluster) ConnString(db string) string {
	u, err := url.Parse(c.Admin)
	if err != nil {
		return c.Admin
	}
	u.Path = "/" + db
	return u.String()
}

// Exec runs SQL on the maintenance database.
func (c *Cluster) Exec(ctx context.Context, sql string, args ...any) error {
	conn, err := pgx.Connect(ctx, c.Admin)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql, args...)
	return err
}

// Start makes and starts a throwaway cluster.
func Start(opts Options) (*Cluster, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	c := &Cluster{bin: bin, owned: true}
	cred, owner, err := unprivileged()
	if err != nil {
		return nil, err
	}
	c.cred = cred
	base, err := os.MkdirTemp("", "reconform-pg-")
	if err != nil {
		return nil, err
	}
	c.Dir = base
	fail := func(err error) (*Cluster, error) {
		c.Stop()
		return nil, err
	}
	if owner != nil {
		if err := os.Chown(base, owner[0], owner[1]); err != nil {
			return fail(err)
		}
	}
	pw := make([]byte, 12)
	rand.Read(pw)
	c.Password = "pw-" + hex.EncodeToString(pw)
	pwfile := filepath.Join(base, "pw")
	if err := os.WriteFile(pwfile, []byte(c.Password+"\n"), 0o600); err != nil {
		return fail(err)
	}
	if owner != nil {
		os.Chown(pwfile, owner[0], owner[1])
	}
	data := filepath.Join(base, "data")
	if out, err := c.run("initdb", "-D", data, "-U", "rfadmin", "--pwfile="+pwfile, "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		return fail(fmt.Errorf("initdb: %v: %s", err, out))
	}
	port, err := freePort()
	if err != nil {
		return fail(err)
	}
	c.Port = port
	conf := []string{
		"listen_addresses = '127.0.0.1'",
		fmt.Sprintf("port = %d", port),
		fmt.Sprintf("unix_socket_directories = '%s'", base),
		"max_connections = 200",
	}
	if !opts.Durable {
		conf = append(conf, "fsync = off", "synchronous_commit = off", "full_page_writes = off")
	}
	conf = append(conf, opts.Settings...)
	f, err := os.OpenFile(filepath.Join(data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fail(err)
	}
	fmt.Fprintln(f, strings.Join(conf, "\n"))
	f.Close()
	if out, err := c.run("pg_ctl", "-D", data, "-l", filepath.Join(base, "log"), "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(base, "log"))
		return fail(fmt.Errorf("pg_ctl start: %v: %s %s", err, out, log))
	}
	c.Admin = fmt.Sprintf("postgres://rfadmin:%s@127.0.0.1:%d/postgres?sslmode=disable", c.Password, port)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		err := c.Exec(ctx, "SELECT 1")
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return fail(fmt.Errorf("the new cluster does not answer: %w", err))
		}
		time.Sleep(50 * time.Millisecond)
	}
	return c, nil
}

// Stop stops a throwaway cluster (immediately: its data is thrown away)
// and removes its folder.
func (c *Cluster) Stop() {
	if c == nil || !c.owned || c.Dir == "" {
		return
	}
	c.run("pg_ctl", "-D", filepath.Join(c.Dir, "data"), "-m", "immediate", "-w", "stop")
	os.RemoveAll(c.Dir)
}

// Kill stops the server at once, as a crash or a network cut would look
// to its clients; Restart brings it back.
func (c *Cluster) Kill() error {
	out, err := c.run("pg_ctl", "-D", filepath.Join(c.Dir, "data"), "-m", "immediate", "-w", "stop")
	if err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
}

// Restart starts a killed server again.
func (c *Cluster) Restart() error {
	out, err := c.run("pg_ctl", "-D", filepath.Join(c.Dir, "data"), "-l", filepath.Join(c.Dir, "log"), "-w", "-t", "60", "start")
	if err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
}

// Owned reports whether the cluster is a throwaway one (Kill works).
func (c *Cluster) Owned() bool { return c.owned }

func (c *Cluster) run(name string, args ...string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(c.bin, name), args...)
	cmd.Dir = os.TempDir()
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LC_ALL=C"}
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	return cmd.CombinedOutput()
}

// findBin finds the folder of initdb and pg_ctl: PATH, then Debian's
// /usr/lib/postgresql/<version>/bin (newest first).
func findBin() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("%w: initdb is not installed", ErrNoServer)
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// unprivileged is who runs the cluster: PostgreSQL refuses to run as
// root, so as root the user "nobody" (owner is its uid and gid, for the
// folders); otherwise the current user (nil).
func unprivileged() (*syscall.Credential, []int, error) {
	if os.Geteuid() != 0 {
		return nil, nil, nil
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		return nil, nil, fmt.Errorf("%w: running as root and there is no user nobody to run it as", ErrNoServer)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, []int{uid, gid}, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
