package zeek

import (
	"io"
	"strings"

	"github.com/cipherscope/cipherscope/ingest/batch"
	"github.com/cipherscope/cipherscope/ingest/tlsreg"
)

// connInfo is what discovery needs from a conn.log row.
type connInfo struct {
	ts             int64
	proto, service string
	pkts, ipBytes  *int64
}

// sslRow is an ssl.log row, decoded, waiting for its conn partner.
type sslRow struct {
	uid, clientIP, serverIP, serverName string
	version, cipher, curve              string
	ts, port                            int64
	hasPort                             bool
	leafFP, leafFUID                    string
	chain                               []string // every fingerprint the server sent, leaf first
}

// Assembler collects the rows of any number of conn, ssl and x509 logs and joins them
// when Build is called, so files may come in any order.
type Assembler struct {
	conns map[string]connInfo
	ssl   []sslRow
	certs map[string]*certRow // by fingerprint
	order []string            // fingerprints in first-seen order
	fuids map[string]string   // x509 file id -> fingerprint (logs before Zeek 4 have no fingerprint in ssl.log)
	rows  map[Kind]int64
}

// NewAssembler returns an empty assembler.
func NewAssembler() *Assembler {
	return &Assembler{conns: map[string]connInfo{}, certs: map[string]*certRow{}, fuids: map[string]string{}, rows: map[Kind]int64{}}
}

// Rows counts the rows read per log kind (skipped lines excluded).
func (a *Assembler) Rows(k Kind) int64 { return a.rows[k] }

// Add reads one log file (decompressed). bad decides about malformed lines (see Read).
// Rows of logs other than conn, ssl and x509 are ignored.
func (a *Assembler) Add(name string, r io.Reader, bad func(*LineError) error) (Kind, error) {
	return Read(name, r, bad, func(k Kind, row *Row) error {
		var err *LineError
		switch k {
		case Conn:
			err = a.addConn(row)
		case SSL:
			err = a.addSSL(row)
		case X509:
			err = a.addX509(row)
		default:
			return nil
		}
		if err != nil {
			return bad(err)
		}
		a.rows[k]++
		return nil
	})
}

func (a *Assembler) addConn(r *Row) *LineError {
	uid := r.Str("uid")
	if uid == "" {
		return r.Err("uid", "", "missing connection uid")
	}
	ts, _, err := r.Time("ts")
	if err != nil {
		return err
	}
	c := connInfo{ts: ts, proto: r.Str("proto"), service: r.Str("service")}
	var n [4]int64
	var ok [4]bool
	for i, f := range []string{"orig_pkts", "resp_pkts", "orig_ip_bytes", "resp_ip_bytes"} {
		if n[i], ok[i], err = r.Count(f); err != nil {
			return err
		}
	}
	// A sum with an unknown half is unknown: NULL rather than an undercount.
	if ok[0] && ok[1] {
		c.pkts = batch.Int(n[0] + n[1])
	}
	if ok[2] && ok[3] {
		c.ipBytes = batch.Int(n[2] + n[3])
	}
	a.conns[uid] = c
	return nil
}

func (a *Assembler) addSSL(r *Row) *LineError {
	s := sslRow{uid: r.Str("uid"), serverName: r.Str("server_name"), version: r.Str("version"),
		cipher: r.Str("cipher"), curve: r.Str("curve")}
	if s.uid == "" {
		return r.Err("uid", "", "missing connection uid")
	}
	var err *LineError
	if s.ts, _, err = r.Time("ts"); err != nil {
		return err
	}
	if s.clientIP, err = r.Addr("id.orig_h"); err != nil {
		return err
	}
	if s.serverIP, err = r.Addr("id.resp_h"); err != nil {
		return err
	}
	if s.port, s.hasPort, err = r.Port("id.resp_p"); err != nil {
		return err
	}
	if fps := r.List("cert_chain_fps"); len(fps) > 0 {
		s.leafFP = strings.ToLower(fps[0]) // the chain starts with the server's own certificate
		for _, fp := range fps {
			s.chain = append(s.chain, strings.ToLower(fp))
		}
	}
	if fuids := r.List("cert_chain_fuids"); len(fuids) > 0 {
		s.leafFUID = fuids[0]
	}
	a.ssl = append(a.ssl, s)
	return nil
}

// Build appends one discovery row per ssl row (conn fields NULL when no conn row has its
// uid) and one cert row per distinct x509 fingerprint.
func (a *Assembler) Build(disc, cert *batch.Builder) {
	seen := map[string]*certSeen{}
	for i := range a.ssl {
		s := &a.ssl[i]
		d := a.discovery(s)
		chain := s.chain
		if len(chain) == 0 && d.CertFingerprint != "" {
			chain = []string{d.CertFingerprint} // older layouts: the leaf found through its file id
		}
		// Intermediates count as seen too: the server presented them.
		for _, fp := range chain {
			seen[fp] = seen[fp].add(d)
		}
		disc.AppendDiscovery(d)
	}
	for _, fp := range a.order {
		c := a.certs[fp].cert()
		seen[fp].apply(&c)
		cert.AppendCert(&c)
	}
}

func (a *Assembler) discovery(s *sslRow) *batch.Discovery {
	version := tlsreg.NormalizeVersion(s.version)
	suite := s.cipher
	if st, ok := tlsreg.Lookup(suite); ok {
		suite = st.Name // OpenSSL and SSL_ spellings become the IANA name
	}
	group := tlsreg.NormalizeGroup(s.curve)
	d := &batch.Discovery{ObsUID: s.uid, ObservedAt: s.ts, ClientIP: s.clientIP, ServerIP: s.serverIP,
		ServerName: s.serverName, TLSVersion: version, CipherSuite: suite, KexGroup: group,
		CertFingerprint: s.leafFP}
	if d.CertFingerprint == "" && s.leafFUID != "" {
		d.CertFingerprint = a.fuids[s.leafFUID]
	}
	var service string
	if s.hasPort {
		d.ServerPort = batch.Int(s.port)
	}
	if c, ok := a.conns[s.uid]; ok {
		// conn.ts is the connection's start; ssl.ts comes a few ms later (fixtures/doc.go).
		d.ObservedAt, d.Protocol, d.ByteVolume, d.PacketCount = c.ts, c.proto, c.ipBytes, c.pkts
		service = appService(c.service)
	}
	if service == "" && s.hasPort {
		service = tlsreg.ServiceName(uint16(s.port))
	}
	d.ServiceName = service
	der := tlsreg.Derive(suite, group, version)
	if der.SuiteKnown {
		d.CipherKex, d.CipherAuth, d.CipherEnc, d.CipherMac = der.Kex, der.Auth, der.Enc, der.Mac
		d.ForwardSecrecy = batch.Bool(der.ForwardSecrecy)
	}
	d.PQCKex, d.WeakCrypto = batch.Bool(der.PQCKex), batch.Bool(der.WeakCrypto)
	d.WeakReasons = der.WeakReasons
	if d.WeakReasons == nil {
		d.WeakReasons = []string{}
	}
	return d
}

// appService picks the application protocol from conn's service list ("ssl,smtp"):
// "ssl" says only that TLS was seen, which every row here has.
func appService(s string) string {
	for _, p := range strings.Split(s, ",") {
		switch p = strings.TrimSpace(p); p {
		case "", "ssl", "tls", "dtls":
		default:
			return p
		}
	}
	return ""
}

// certSeen accumulates what the observations say about one certificate.
type certSeen struct {
	first, last int64
	servers     map[string]bool
}

func (c *certSeen) add(d *batch.Discovery) *certSeen {
	if c == nil {
		c = &certSeen{first: d.ObservedAt, last: d.ObservedAt, servers: map[string]bool{}}
	}
	c.first, c.last = min(c.first, d.ObservedAt), max(c.last, d.ObservedAt)
	c.servers[d.ServerIP] = true
	return c
}

// apply sets first/last seen and the server count from the observations; a certificate
// no observation of this run references keeps the x509 sighting time.
func (c *certSeen) apply(out *batch.Cert) {
	if c == nil {
		return
	}
	out.FirstSeen, out.LastSeen = batch.Int(c.first), batch.Int(c.last)
	out.ServerCount = batch.Int(int64(len(c.servers)))
}
