// Package dnstest runs small DNS servers on 127.0.0.1 for tests: an
// authoritative server for one zone file (UDP and TCP on one port, with
// truncation, referrals and deliberate failures) and a server that never
// answers. Nothing here reaches beyond loopback.
package dnstest

import (
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

// Server is a small authoritative server for a few zones, on 127.0.0.1
// over UDP and TCP on the same port. It answers like a real authoritative
// server (CNAME chains inside the zone, NXDOMAIN/NODATA with the SOA,
// referrals below delegations, REFUSED outside the zone, UDP answers
// truncated to the client's buffer) and counts the questions it receives.
// Names with a special first label misbehave on purpose:
//
//	servfail.<zone>  SERVFAIL
//	refused.<zone>   REFUSED
//	noedns.<zone>    FORMERR when the query carries EDNS0, else NXDOMAIN
type Server struct {
	Addr string

	soa     map[string]mdns.RR   // zone apex -> its SOA
	records map[string][]mdns.RR // canonical owner -> records
	cuts    []string             // delegation points below an apex

	mu      sync.Mutex
	queries []string // "name TYPE net", in order
}

// Start starts a server for the zone files (each with its SOA), stopped
// at test end.
func Start(t testing.TB, paths ...string) *Server {
	t.Helper()
	s := &Server{soa: map[string]mdns.RR{}, records: map[string][]mdns.RR{}}
	for _, path := range paths {
		s.load(t, path)
	}
	for owner, rrs := range s.records {
		if _, apex := s.soa[owner]; apex {
			continue
		}
		for _, rr := range rrs {
			if rr.Header().Rrtype == mdns.TypeNS {
				s.cuts = append(s.cuts, owner)
				break
			}
		}
	}
	s.start(t)
	return s
}

func (s *Server) load(t testing.TB, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zp := mdns.NewZoneParser(f, "", path)
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		owner := mdns.CanonicalName(rr.Header().Name)
		s.records[owner] = append(s.records[owner], rr)
		if _, ok := rr.(*mdns.SOA); ok {
			s.soa[owner] = rr
		}
	}
	if err := zp.Err(); err != nil {
		t.Fatalf("zone %s: %v", path, err)
	}
}

// zone returns the apex of the closest zone holding name, "" for none.
func (s *Server) zone(name string) string {
	best := ""
	for apex := range s.soa {
		if mdns.IsSubDomain(apex, name) && len(apex) > len(best) {
			best = apex
		}
	}
	return best
}

// start binds UDP and TCP on one free port of 127.0.0.1.
func (s *Server) start(t testing.TB) {
	t.Helper()
	var pc net.PacketConn
	var l net.Listener
	for i := 0; ; i++ {
		var err error
		pc, err = net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		l, err = net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			break
		}
		pc.Close()
		if i == 20 {
			t.Fatalf("no free port for UDP and TCP: %v", err)
		}
	}
	s.Addr = pc.LocalAddr().String()
	udp := &mdns.Server{PacketConn: pc, Handler: s}
	tcp := &mdns.Server{Listener: l, Handler: s}
	var started sync.WaitGroup
	started.Add(2)
	udp.NotifyStartedFunc = started.Done
	tcp.NotifyStartedFunc = started.Done
	go udp.ActivateAndServe()
	go tcp.ActivateAndServe()
	started.Wait()
	t.Cleanup(func() {
		udp.Shutdown()
		tcp.Shutdown()
	})
}

// Queries returns the questions received so far, in order, each as
// "name TYPE udp|tcp" (name without the trailing dot).
func (s *Server) Queries() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.queries...)
}

// Count returns how many questions mention name (any type, any transport).
func (s *Server) Count(name string) int {
	n := 0
	for _, q := range s.Queries() {
		if strings.HasPrefix(q, name+" ") {
			n++
		}
	}
	return n
}

// ServeDNS answers one question (the mdns.Handler interface).
func (s *Server) ServeDNS(w mdns.ResponseWriter, req *mdns.Msg) {
	_, udp := w.RemoteAddr().(*net.UDPAddr)
	m := new(mdns.Msg)
	m.SetReply(req)
	if len(req.Question) != 1 {
		m.Rcode = mdns.RcodeFormatError
		w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	name := mdns.CanonicalName(q.Name)
	network := "tcp"
	if udp {
		network = "udp"
	}
	s.mu.Lock()
	s.queries = append(s.queries, strings.TrimSuffix(name, ".")+" "+mdns.TypeToString[q.Qtype]+" "+network)
	s.mu.Unlock()

	s.answer(m, req, name, q.Qtype)
	if opt := req.IsEdns0(); opt != nil && m.Rcode != mdns.RcodeFormatError {
		m.SetEdns0(opt.UDPSize(), false)
	}
	if udp {
		size := mdns.MinMsgSize
		if opt := req.IsEdns0(); opt != nil {
			size = int(opt.UDPSize())
		}
		m.Truncate(size)
	}
	w.WriteMsg(m)
}

func (s *Server) answer(m, req *mdns.Msg, name string, qtype uint16) {
	switch {
	case strings.HasPrefix(name, "servfail."):
		m.Rcode = mdns.RcodeServerFailure
		return
	case strings.HasPrefix(name, "refused."):
		m.Rcode = mdns.RcodeRefused
		return
	case strings.HasPrefix(name, "noedns.") && req.IsEdns0() != nil:
		m.Rcode = mdns.RcodeFormatError
		return
	}
	zone := s.zone(name)
	if zone == "" {
		m.Rcode = mdns.RcodeRefused
		return
	}
	m.Authoritative = true
	for hops := 0; hops < 16; hops++ {
		for _, cut := range s.cuts {
			if mdns.IsSubDomain(cut, name) {
				m.Authoritative = false
				for _, rr := range s.records[cut] {
					if rr.Header().Rrtype == mdns.TypeNS {
						m.Ns = append(m.Ns, rr)
					}
				}
				return
			}
		}
		var cname *mdns.CNAME
		var matched []mdns.RR
		for _, rr := range s.lookup(name) {
			if c, ok := rr.(*mdns.CNAME); ok {
				cname = c
			}
			if rr.Header().Rrtype == qtype {
				matched = append(matched, rr)
			}
		}
		if cname != nil && qtype != mdns.TypeCNAME {
			m.Answer = append(m.Answer, cname)
			name = mdns.CanonicalName(cname.Target)
			if s.zone(name) != zone {
				return // leaves the zone: the resolver's job
			}
			continue
		}
		m.Answer = append(m.Answer, matched...)
		if len(matched) == 0 {
			if !s.exists(name) && len(s.lookup(name)) == 0 {
				m.Rcode = mdns.RcodeNameError
			}
			m.Ns = append(m.Ns, s.soa[zone])
		}
		return
	}
}

// lookup returns name's records, synthesised from the wildcard at its
// closest encloser when name does not exist (RFC 4592).
func (s *Server) lookup(name string) []mdns.RR {
	if rrs := s.records[name]; len(rrs) > 0 || s.exists(name) {
		return rrs
	}
	encloser := name
	for {
		i := strings.IndexByte(encloser, '.')
		if i < 0 || i == len(encloser)-1 {
			return nil
		}
		encloser = encloser[i+1:]
		if s.exists(encloser) {
			break
		}
	}
	var out []mdns.RR
	for _, rr := range s.records["*."+encloser] {
		c := mdns.Copy(rr)
		c.Header().Name = name
		out = append(out, c)
	}
	return out
}

// exists reports whether name owns records or is an empty non-terminal.
func (s *Server) exists(name string) bool {
	for owner := range s.records {
		if mdns.IsSubDomain(name, owner) {
			return true
		}
	}
	return false
}

// Drop reads UDP questions and never answers.
type Drop struct {
	Addr string
	mu   sync.Mutex
	n    int
}

// StartDrop starts a Drop server, stopped at test end.
func StartDrop(t testing.TB) *Drop {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &Drop{Addr: pc.LocalAddr().String()}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 65535)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
			d.mu.Lock()
			d.n++
			d.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		pc.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
	})
	return d
}

// Count is how many packets arrived.
func (d *Drop) Count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.n
}
