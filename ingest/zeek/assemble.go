package zeek

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"strings"
	"sync/atomic"
	"unicode/utf8"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/cipherscope/cipherscope/engine"
	"github.com/cipherscope/cipherscope/ingest/batch"
	"github.com/cipherscope/cipherscope/ingest/tlsreg"
	"github.com/cipherscope/cipherscope/query"
)

// Assembler collects the rows of any number of conn, ssl and x509 logs and joins them:
// ssl to conn on uid, and to x509 on the leaf certificate's fingerprint (or file id).
//
// Two ways to read ssl.log: Add holds its rows until Pending joins them, so files may
// come in any order; Stream joins each row as it is read and hands the discovery
// batches on at once, which needs every conn and x509 log added first (the ingest
// package reads them first, and falls back to Add for a file that mixes logs).
//
// # Memory
//
// Nothing is kept per row as Go structs with pointers, which the garbage collector
// scanned again and again as they piled up (the first version took 57 s and 3 GB for
// 1M Zeek JSON observations, growing faster than the rows):
//
//   - conn.log: a compact index by uid (connIndex), about 90 bytes per row.
//   - ssl.log read with Add: each row goes straight into Arrow builders of the discovery
//     columns it determines alone (uid, addresses, names, suite and what derives from
//     it), cut into batches of batch.DefaultSize rows: about 250-300 bytes per row,
//     depending on name lengths, plus 32 bytes of what the join still needs (ssl.ts,
//     port, server address number, leaf file id, where its chain starts) and 4 bytes per
//     chain entry (fingerprints are interned). Stream holds one batch of that at a time.
//   - x509.log: one struct per distinct certificate (few), and the file id map.
//   - per distinct certificate what the observations say (first and last seen), and the
//     distinct (certificate, server) pairs, 8-16 bytes each.
//
// A batch is joined (adding observedAt, protocol, serviceName, certFingerprint,
// byteVolume and packetCount from the conn index and the x509 file ids) and released
// as a whole.
type Assembler struct {
	mem   memory.Allocator
	conns *connIndex
	ssl   *sslBuffer
	certs map[string]*certRow // by fingerprint
	order []string            // fingerprints in first-seen order
	fuids map[string]string   // x509 file id -> fingerprint (logs before Zeek 4 have no fingerprint in ssl.log)
	rows  map[Kind]int64
	read  atomic.Int64 // rows read, for progress reports from other goroutines

	// What the observations joined so far say about each certificate (by the number of
	// its fingerprint), and the (fingerprint, server) pairs seen.
	seen  []certSeen
	pairs map[uint64]struct{}
}

// NewAssembler returns an empty assembler whose batches use mem (nil: the default allocator).
func NewAssembler(mem memory.Allocator) *Assembler {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	return &Assembler{mem: mem, conns: newConnIndex(), ssl: newSSLBuffer(mem),
		certs: map[string]*certRow{}, fuids: map[string]string{}, rows: map[Kind]int64{}, pairs: map[uint64]struct{}{}}
}

// Rows counts the rows read per log kind (skipped lines excluded).
func (a *Assembler) Rows(k Kind) int64 { return a.rows[k] }

// RowsRead is the number of rows read so far, of any kind; safe to call while a file is
// being read.
func (a *Assembler) RowsRead() int64 { return a.read.Load() }

// Add reads one log file (decompressed). bad decides about malformed lines: when it
// returns nil the line is skipped, otherwise reading stops with its error. Rows of logs
// other than conn, ssl and x509 are ignored.
func (a *Assembler) Add(name string, r io.Reader, bad func(*LineError) error) (Kind, error) {
	return read(name, r, bad, func(k Kind, row *row) error {
		var err *LineError
		switch k {
		case Conn:
			err = a.addConn(row)
		case SSL:
			err = a.ssl.add(row)
		case X509:
			err = a.addX509(row)
		default:
			return nil
		}
		if err != nil {
			return bad(err)
		}
		a.rows[k]++
		a.read.Add(1)
		return nil
	})
}

// ErrNotSSL stops Stream at a row of another log than ssl.log: the rows streamed before
// it may have missed their conn or x509 partner. Read such a file with Add.
var ErrNotSSL = errors.New("zeek: a log streamed as ssl.log holds conn or x509 rows")

// Stream reads an ssl.log whose rows can be joined at once, because every conn and x509
// log has been read with Add: each batch of batch.DefaultSize rows becomes a discovery
// batch (as Pending makes them) handed to emit, which owns it, so memory stays bounded
// whatever the size of the log. Call Pending first if Add read ssl rows (else they are
// emitted here). A conn or x509 row ends it with ErrNotSSL; bad and emit errors end it
// too. Rows of other logs are ignored.
func (a *Assembler) Stream(name string, r io.Reader, bad func(*LineError) error, emit func(arrow.RecordBatch) error) (Kind, error) {
	flush := func() error {
		for len(a.ssl.chunks) > 0 {
			ch := a.ssl.chunks[0]
			a.ssl.chunks[0] = chunk{}
			a.ssl.chunks = a.ssl.chunks[1:]
			d := a.finish(ch)
			ch.rec.Release()
			if err := emit(d); err != nil {
				return err
			}
		}
		return nil
	}
	k, err := read(name, r, bad, func(k Kind, row *row) error {
		switch k {
		case Conn, X509:
			return ErrNotSSL
		case SSL:
		default:
			return nil
		}
		if err := a.ssl.add(row); err != nil {
			return bad(err)
		}
		a.rows[k]++
		a.read.Add(1)
		return flush()
	})
	if err != nil {
		return k, err
	}
	a.ssl.cut()
	return k, flush()
}

// Release frees the batches of rows not built yet (after an error).
func (a *Assembler) Release() { a.ssl.release() }

func (a *Assembler) addConn(r *row) *LineError {
	uid := r.bytes(fUID)
	if len(uid) == 0 {
		return r.Err(fUID, nil, "missing connection uid")
	}
	ts, _, err := r.Time(fTS)
	if err != nil {
		return err
	}
	c := connRec{ts: ts, proto: a.conns.strs.id(r.bytes(fProto)), service: a.conns.strs.id(appService(r.bytes(fService)))}
	var n [4]int64
	var ok [4]bool
	for i, f := range [4]field{fOrigPkts, fRespPkts, fOrigIPBytes, fRespIPBytes} {
		if n[i], ok[i], err = r.Count(f); err != nil {
			return err
		}
	}
	// A sum with an unknown half is unknown: NULL rather than an undercount.
	c.hasPkts, c.pkts = ok[0] && ok[1], n[0]+n[1]
	c.hasBytes, c.bytes = ok[2] && ok[3], n[2]+n[3]
	a.conns.put(uid, c)
	return nil
}

// appService picks the application protocol from conn's service list ("ssl,smtp"):
// "ssl" says only that TLS was seen, which every row here has.
func appService(s []byte) []byte {
	for len(s) > 0 {
		p, rest, _ := bytes.Cut(s, []byte{','})
		s = rest
		switch p = bytes.TrimSpace(p); string(p) {
		case "", "ssl", "tls", "dtls":
		default:
			return p
		}
	}
	return nil
}

// sslSide is what the join needs of an ssl row besides its Arrow columns; no pointers.
type sslSide struct {
	ts     int64  // ssl.ts, µs: observedAt when no conn row has the uid
	chain  uint32 // the row's certificate chain is chunk.chains[chain : chain+nchain]
	nchain uint32
	fuid   uint32 // the leaf's file id + 1 (sslBuffer.fuids), 0: none
	server uint32 // the server address's number (sslBuffer.servers)
	port   int32  // the server port, -1: none
}

// sslColumns are the discovery columns an ssl row determines alone, in InputSchema order.
var sslColumns = []string{"obsUid", "clientIp", "clientName", "serverIp", "serverName", "serverPort",
	"tlsVersion", "cipherSuite", "kexGroup", "cipherKex", "cipherAuth", "cipherEnc", "cipherMac",
	"forwardSecrecy", "pqcKex", "weakCrypto", "weakReasons"}

// sslBuffer holds the ssl rows read so far: Arrow batches of sslColumns plus their sslSides.
type sslBuffer struct {
	schema *arrow.Schema
	rb     *array.RecordBuilder
	// the builders of rb, typed
	uid, client, clientName, server, serverName *array.StringBuilder
	version, suite, group                       *array.StringBuilder
	kex, auth, enc, mac                         *array.StringBuilder
	port                                        *array.Int64Builder
	fs, pqc, weak                               *array.BooleanBuilder
	reasons                                     *array.ListBuilder
	reasonVals                                  *array.StringBuilder

	strings []*array.StringBuilder // the string builders, for reserve
	dataLen []int                  // their data sizes in the last batch

	n      int // rows in rb
	cuts   int // batches cut so far
	chunks []chunk
	sides  []sslSide // of the rows in rb
	chains []uint32  // of the rows in rb

	fps     interner // lower-case fingerprints
	fuids   interner // leaf certificates' x509 file ids
	servers map[netip.Addr]uint32
	derived map[string]*suiteInfo // by raw version \x00 cipher \x00 curve
	key, ip []byte                // scratch
}

// chunk is a batch of ssl rows and what their join needs.
type chunk struct {
	rec    arrow.RecordBatch
	sides  []sslSide
	chains []uint32 // sslSide.chain indexes it
}

// suiteInfo is what a (version, cipher, curve) triple normalises and derives to.
type suiteInfo struct {
	version, suite, group string
	der                   tlsreg.Derived
}

func newSSLBuffer(mem memory.Allocator) *sslBuffer {
	in := engine.InputSchema(query.Discovery)
	fields := make([]arrow.Field, len(sslColumns))
	for i, name := range sslColumns {
		idx := in.FieldIndices(name)
		fields[i] = in.Field(idx[0])
	}
	b := &sslBuffer{schema: arrow.NewSchema(fields, nil), fps: newInterner(), fuids: newInterner(),
		servers: map[netip.Addr]uint32{}, derived: map[string]*suiteInfo{}}
	b.rb = array.NewRecordBuilder(mem, b.schema)
	str := func(i int) *array.StringBuilder { return b.rb.Field(i).(*array.StringBuilder) }
	boolean := func(i int) *array.BooleanBuilder { return b.rb.Field(i).(*array.BooleanBuilder) }
	b.uid, b.client, b.clientName, b.server, b.serverName = str(0), str(1), str(2), str(3), str(4)
	b.port = b.rb.Field(5).(*array.Int64Builder)
	b.version, b.suite, b.group = str(6), str(7), str(8)
	b.kex, b.auth, b.enc, b.mac = str(9), str(10), str(11), str(12)
	b.fs, b.pqc, b.weak = boolean(13), boolean(14), boolean(15)
	b.reasons = b.rb.Field(16).(*array.ListBuilder)
	b.reasonVals = b.reasons.ValueBuilder().(*array.StringBuilder)
	b.strings = []*array.StringBuilder{b.uid, b.client, b.server, b.serverName, b.version, b.suite, b.group,
		b.kex, b.auth, b.enc, b.mac, b.reasonVals}
	b.dataLen = make([]int, len(b.strings))
	return b
}

// reserve sizes the builders for a whole batch, the strings as long as the last
// batch's: growing them by doubling cost more than the appends. The first batch grows:
// small logs should not reserve 64K rows.
func (b *sslBuffer) reserve() {
	b.rb.Reserve(batch.DefaultSize)
	b.sides = make([]sslSide, 0, batch.DefaultSize)
	b.chains = make([]uint32, 0, 2*batch.DefaultSize)
	for i, sb := range b.strings {
		sb.ReserveData(b.dataLen[i])
	}
}

// add validates an ssl row and appends it; nothing is appended when it is invalid.
func (b *sslBuffer) add(r *row) *LineError {
	uid := r.bytes(fUID)
	if len(uid) == 0 {
		return r.Err(fUID, nil, "missing connection uid")
	}
	ts, _, err := r.Time(fTS)
	if err != nil {
		return err
	}
	client, err := r.Addr(fOrigH)
	if err != nil {
		return err
	}
	server, err := r.Addr(fRespH)
	if err != nil {
		return err
	}
	port, hasPort, err := r.Port(fRespP)
	if err != nil {
		return err
	}

	if b.n == 0 && b.cuts > 0 {
		b.reserve()
	}
	side := sslSide{ts: ts, port: -1, chain: uint32(len(b.chains))}
	b.uid.BinaryBuilder.Append(uid)
	b.ip = client.AppendTo(b.ip[:0])
	b.client.BinaryBuilder.Append(b.ip)
	b.clientName.AppendNull()
	b.ip = server.AppendTo(b.ip[:0])
	b.server.BinaryBuilder.Append(b.ip)
	appendBytes(b.serverName, r.bytes(fServerName))
	if hasPort {
		b.port.Append(port)
		side.port = int32(port)
	} else {
		b.port.AppendNull()
	}
	s := b.suiteOf(r.bytes(fVersion), r.bytes(fCipher), r.bytes(fCurve))
	appendString(b.version, s.version)
	appendString(b.suite, s.suite)
	appendString(b.group, s.group)
	if s.der.SuiteKnown {
		appendString(b.kex, s.der.Kex)
		appendString(b.auth, s.der.Auth)
		appendString(b.enc, s.der.Enc)
		appendString(b.mac, s.der.Mac)
		b.fs.Append(s.der.ForwardSecrecy)
	} else {
		b.kex.AppendNull()
		b.auth.AppendNull()
		b.enc.AppendNull()
		b.mac.AppendNull()
		b.fs.AppendNull()
	}
	b.pqc.Append(s.der.PQCKex)
	b.weak.Append(s.der.WeakCrypto)
	b.reasons.Append(true) // an empty list, not NULL, when nothing is weak
	for _, w := range s.der.WeakReasons {
		appendString(b.reasonVals, w)
	}

	// The chain starts with the server's own certificate.
	for _, fp := range r.List(fChainFps) {
		b.chains = append(b.chains, b.internFP(fp))
	}
	side.nchain = uint32(len(b.chains)) - side.chain
	if fuids := r.List(fChainFuids); len(fuids) > 0 {
		side.fuid = b.fuids.id(fuids[0]) + 1
	}
	id, ok := b.servers[server]
	if !ok {
		id = uint32(len(b.servers))
		b.servers[server] = id
	}
	side.server = id
	b.sides = append(b.sides, side)
	b.n++
	if b.n >= batch.DefaultSize {
		b.cut()
	}
	return nil
}

// suiteOf normalises and derives a (version, cipher, curve) triple once per distinct
// triple: the registry lookups cost more than the rest of a row.
func (b *sslBuffer) suiteOf(version, cipher, curve []byte) *suiteInfo {
	b.key = append(append(append(append(append(b.key[:0], version...), 0), cipher...), 0), curve...)
	if s, ok := b.derived[string(b.key)]; ok {
		return s
	}
	s := &suiteInfo{version: tlsreg.NormalizeVersion(string(version)), suite: string(cipher),
		group: tlsreg.NormalizeGroup(string(curve))}
	if st, ok := tlsreg.Lookup(s.suite); ok {
		s.suite = st.Name // OpenSSL and SSL_ spellings become the IANA name
	}
	s.der = tlsreg.Derive(s.suite, s.group, s.version)
	b.derived[string(b.key)] = s
	return s
}

// internFP returns the number of a fingerprint, lower-cased.
func (b *sslBuffer) internFP(fp []byte) uint32 {
	var tmp [96]byte
	lower := tmp[:0]
	ascii := true
	for _, c := range fp {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower = append(lower, c)
	}
	if !ascii {
		lower = []byte(strings.ToLower(string(fp)))
	}
	return b.fps.id(lower)
}

// cut turns the rows in the builders into a batch.
func (b *sslBuffer) cut() {
	if b.n > 0 {
		for i, sb := range b.strings {
			b.dataLen[i] = sb.DataLen()
		}
		b.chunks = append(b.chunks, chunk{b.rb.NewRecordBatch(), b.sides, b.chains})
		b.sides, b.chains = nil, nil
		b.n = 0
		b.cuts++
	}
}

func (b *sslBuffer) release() {
	for _, c := range b.chunks {
		c.rec.Release()
	}
	b.chunks = nil
	b.rb.Release()
}

// appendString appends s, NULL when empty, without converting it to a new []byte.
func appendString(sb *array.StringBuilder, s string) {
	if s == "" {
		sb.AppendNull()
		return
	}
	sb.BinaryBuilder.Append(unsafe.Slice(unsafe.StringData(s), len(s)))
}

// appendBytes appends v, NULL when empty.
func appendBytes(sb *array.StringBuilder, v []byte) {
	if len(v) == 0 {
		sb.AppendNull()
		return
	}
	sb.BinaryBuilder.Append(v)
}

// certSeen accumulates what the observations say about one certificate.
type certSeen struct {
	seen        bool
	first, last int64
	servers     int64
}

// Build returns one discovery batch per batch of ssl rows added (conn fields NULL when
// no conn row has the uid), in engine.InputSchema, and appends one cert row per distinct
// x509 fingerprint to cert: Pending, then Certs.
func (a *Assembler) Build(cert *batch.Builder) []arrow.RecordBatch {
	out := a.Pending()
	a.Certs(cert)
	return out
}

// Pending joins the ssl rows read with Add and returns them as discovery batches (the
// caller owns them), releasing the ssl rows as it goes. Call it after every conn and
// x509 log has been added.
func (a *Assembler) Pending() []arrow.RecordBatch {
	b := a.ssl
	b.cut()
	var out []arrow.RecordBatch
	for i, ch := range b.chunks {
		out = append(out, a.finish(ch))
		ch.rec.Release()
		b.chunks[i] = chunk{}
	}
	b.chunks = nil
	return out
}

// Certs appends one cert row per distinct x509 fingerprint to cert, with first and last
// seen and the server count from the observations joined (Pending, Stream) so far.
func (a *Assembler) Certs(cert *batch.Builder) {
	for _, fp := range a.order {
		c := a.certs[fp].cert()
		if id, ok := a.ssl.fps.lookup(fp); ok && int(id) < len(a.seen) && a.seen[id].seen {
			s := a.seen[id]
			// A certificate no observation of this run references keeps the x509 sighting time.
			c.FirstSeen, c.LastSeen, c.ServerCount = batch.Int(s.first), batch.Int(s.last), batch.Int(s.servers)
		}
		cert.AppendCert(&c)
	}
}

// finish adds the join's columns to one batch of ssl rows and records, per certificate
// of each row's chain, when and by how many servers it was seen.
func (a *Assembler) finish(c chunk) arrow.RecordBatch {
	b := a.ssl
	ch, sides, chains := c.rec, c.sides, c.chains
	n := len(sides)
	obsAt := array.NewTimestampBuilder(a.mem, &arrow.TimestampType{Unit: arrow.Microsecond})
	proto := array.NewStringBuilder(a.mem)
	service := array.NewStringBuilder(a.mem)
	certFP := array.NewStringBuilder(a.mem)
	byteVol := array.NewInt64Builder(a.mem)
	pkts := array.NewInt64Builder(a.mem)
	defer func() {
		for _, bl := range []array.Builder{obsAt, proto, service, certFP, byteVol, pkts} {
			bl.Release()
		}
	}()
	for _, bl := range []array.Builder{obsAt, proto, service, certFP, byteVol, pkts} {
		bl.Reserve(n)
	}
	proto.ReserveData(4 * n)
	service.ReserveData(8 * n)
	certFP.ReserveData(64 * n) // SHA-256 in hex
	uids := ch.Column(0).(*array.String)
	for i := range n {
		s := &sides[i]
		at, svc := s.ts, ""
		if c, ok := a.conns.get(uids.Value(i)); ok {
			// conn.ts is the connection's start; ssl.ts comes a few ms later (fixtures/doc.go).
			at, svc = c.ts, a.conns.strs.name(c.service)
			appendString(proto, a.conns.strs.name(c.proto))
			appendInt(byteVol, c.bytes, c.hasBytes)
			appendInt(pkts, c.pkts, c.hasPkts)
		} else {
			proto.AppendNull()
			byteVol.AppendNull()
			pkts.AppendNull()
		}
		obsAt.UnsafeAppend(arrow.Timestamp(at))
		if svc == "" && s.port >= 0 {
			svc = tlsreg.ServiceName(uint16(s.port))
		}
		appendString(service, svc)
		chain := chains[s.chain : s.chain+s.nchain]
		fp := ""
		if len(chain) > 0 {
			fp = b.fps.name(chain[0])
		}
		if fp == "" && s.fuid != 0 {
			fp = a.fuids[b.fuids.name(s.fuid-1)]
			if fp != "" {
				// Older layouts: the leaf found through its file id is the chain seen.
				id := b.fps.id(unsafe.Slice(unsafe.StringData(fp), len(fp)))
				chain = []uint32{id}
			}
		}
		appendString(certFP, fp)
		// Intermediates count as seen too: the server presented them.
		for _, id := range chain {
			for int(id) >= len(a.seen) {
				a.seen = append(a.seen, certSeen{})
			}
			c := &a.seen[id]
			if !c.seen {
				c.seen, c.first, c.last = true, at, at
			}
			c.first, c.last = min(c.first, at), max(c.last, at)
			key := uint64(id)<<32 | uint64(s.server)
			if _, dup := a.pairs[key]; !dup {
				a.pairs[key] = struct{}{}
				c.servers++
			}
		}
	}
	joined := map[string]arrow.Array{"observedAt": obsAt.NewArray(), "protocol": proto.NewArray(),
		"serviceName": service.NewArray(), "certFingerprint": certFP.NewArray(),
		"byteVolume": byteVol.NewArray(), "packetCount": pkts.NewArray()}
	schema := engine.InputSchema(query.Discovery)
	cols := make([]arrow.Array, schema.NumFields())
	for i, f := range schema.Fields() {
		if c, ok := joined[f.Name]; ok {
			cols[i] = c
			continue
		}
		idx := b.schema.FieldIndices(f.Name)
		cols[i] = ch.Column(idx[0])
		cols[i].Retain()
	}
	out := array.NewRecordBatch(schema, cols, int64(n))
	for _, c := range cols {
		c.Release()
	}
	return out
}

func appendInt(b *array.Int64Builder, v int64, ok bool) {
	if ok {
		b.Append(v)
	} else {
		b.AppendNull()
	}
}
