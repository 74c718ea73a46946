package difftest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/cipherscope/cipherscope/query"
)

// row is one input row keyed by column name (engine.InputSchema names). A value is nil
// (SQL NULL), string (also for ip fields, in canonical netip text), int64, bool, time.Time,
// []byte or list. A NULL list is a plain nil, never a nil list.
type row map[string]any

// list is a list<string> value; a nil element is a NULL element.
type list []*string

// dataset is the whole test data: discovery observations and certificates.
type dataset struct {
	obs   []row
	certs []row
}

// Sizes of the dataset; the brief asks for >= 2,000 observations and >= 300 certificates.
const (
	numFlows = 1150
	numCerts = 320
	seed     = 20240229
)

func sp(s string) *string { return &s }

// Adversarial value pools. nil entries make every nullable column NULL somewhere.
var (
	ipv4Pool = []string{
		"0.0.0.0", "0.0.0.1", "1.2.3.4", "9.255.255.255", "10.0.0.0", "10.0.0.1", "10.1.2.3",
		"10.9.255.255", "10.10.0.0", "10.10.0.1", "10.10.255.255", "10.11.0.0", "10.255.255.255",
		"11.0.0.0", "100.64.0.1", "127.0.0.1", "127.255.255.255", "128.0.0.0", "172.16.0.1",
		"172.31.255.255", "172.32.0.0", "192.168.0.0", "192.168.1.1", "192.168.255.255",
		"223.255.255.255", "224.0.0.1", "255.255.255.254", "255.255.255.255",
	}
	ipv6Pool = []string{
		"::", "::1", "::2", "::ffff:0.0.0.0", "::ffff:10.1.2.3", "::ffff:10.255.255.255",
		"::ffff:11.0.0.0", "::ffff:255.255.255.255", "::a01:203", "64:ff9b::a01:203",
		"2001:db8::", "2001:db8::1", "2001:db8::1:0:0:1", "2001:db8:0:ffff:ffff:ffff:ffff:ffff",
		"2001:db8:1::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db9::", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff",
		"7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "8000::", "fd00::1", "fe80::1",
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	}
	// weirdStrings go into every free-text column: case and non-ASCII folding, LIKE and
	// regex metacharacters, quotes, whitespace, empty.
	weirdStrings = []*string{
		nil, sp(""), sp(" "), sp("ÉCOLE"), sp("école"), sp("e\u0301cole"), sp("Ecole"), sp("straße"),
		sp("STRASSE"), sp("ẞ"), sp("ß"), sp("ſ"), sp("s"), sp("\u212a"), sp("k"), sp("Σ"), sp("σ"), sp("ς"),
		sp("İstanbul"), sp("ı"), sp("😀"), sp("a😀b"), sp("100%"), sp("100"), sp("a_b"), sp("axb"),
		sp(`a\b`), sp(`a\\b`), sp(`\`), sp("it's"), sp(`say "hi"`), sp("tab\there"), sp("line\nbreak"),
		sp("MySQL"), sp("mysql"), sp("MYSQL"), sp("my_sql"), sp("my%sql"), sp("mysqlx"), sp("x.mysql.y"),
		sp("[abc]"), sp("a.b"), sp("a+b"), sp("(x)"), sp("^$"), sp("café"), sp("CAFÉ"), sp("日本語"),
	}
	hostNames = []*string{
		nil, sp(""), sp("example.com"), sp("EXAMPLE.COM"), sp("www.example.com"), sp("mail.example.com"),
		sp("example.com.evil.org"), sp("notexample.com"), sp("mysql.internal"), sp("MySQL-Primary.db"),
		sp("db.école.fr"), sp("DB.ÉCOLE.FR"), sp("straße.de"), sp("xn--strae-oqa.de"), sp("a%b.example"),
		sp("a_b.example"), sp(`back\slash.example`), sp("o'brien.example"), sp("😀.example"),
		sp("host-01"), sp("host-10"), sp("HOST-01"),
	}
	portPool = []any{
		nil, int64(0), int64(1), int64(22), int64(443), int64(443), int64(3306), int64(8443), int64(65535),
		int64(65536), int64(-1), int64(math.MaxInt32), int64(1 << 31), int64(1 << 53), int64(1<<53 + 1),
		int64(math.MaxInt64), int64(math.MinInt64),
	}
	protocols    = []*string{sp("tcp"), sp("tcp"), sp("udp"), sp("TCP"), nil, sp("")}
	serviceNames = []*string{
		sp("https"), sp("https"), sp("mysql"), sp("MySQL"), sp("MYSQL"), sp("mysqlx"), sp("ldaps"), sp("smtps"),
		nil, sp(""), sp("my_sql"), sp("my%sql"), sp(`pg\sql`), sp("ÉCOLE"), sp("école"), sp("imaps"),
	}
	tlsVersions = []*string{sp("SSLv3"), sp("TLSv1.0"), sp("TLSv1.1"), sp("TLSv1.2"), sp("TLSv1.2"), sp("TLSv1.3"), sp("TLSv1.3"), nil, sp("tlsv1.2"), sp("")}
	suites      = []*string{
		sp("TLS_AES_128_GCM_SHA256"), sp("TLS_AES_256_GCM_SHA384"), sp("TLS_CHACHA20_POLY1305_SHA256"),
		sp("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"), sp("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
		sp("TLS_DHE_RSA_WITH_AES_128_CBC_SHA"), sp("TLS_RSA_WITH_3DES_EDE_CBC_SHA"), sp("TLS_RSA_WITH_RC4_128_MD5"),
		sp("TLS_RSA_EXPORT_WITH_RC4_40_MD5"), nil, sp(""), sp("tls_aes_128_gcm_sha256"),
	}
	kexGroups = []*string{sp("x25519"), sp("secp256r1"), sp("secp384r1"), sp("X25519MLKEM768"), sp("ffdhe2048"), nil, sp(""), sp("X25519")}
	kexAlgos  = []*string{sp("ECDHE"), sp("ECDHE"), sp("DHE"), sp("RSA"), sp("ecdhe"), nil, sp("")}
	auths     = []*string{sp("RSA"), sp("ECDSA"), sp("PSK"), nil, sp("")}
	encs      = []*string{sp("AES 128 GCM"), sp("AES 256 GCM"), sp("CHACHA20 POLY1305"), sp("3DES EDE CBC"), sp("RC4 128"), sp("aes 128 gcm"), nil, sp("")}
	macs      = []*string{sp("AEAD"), sp("SHA256"), sp("SHA384"), sp("SHA"), sp("MD5"), nil}
	bools     = []any{true, false, nil}
	reasons   = []any{
		nil, list{}, list{sp("cipher RC4")}, list{sp("protocol SSLv3"), sp("cipher RC4")},
		list{sp("export"), sp("export")}, list{nil}, list{sp("cipher RC4"), nil}, list{sp("")},
		list{sp("ÉCOLE")}, list{sp("100%")}, list{sp(`a\b`), sp("a_b")}, list{sp("protocol TLSv1.0")},
		list{sp("key RSA 1024"), sp("hash MD5"), sp("hash SHA1")},
	}
	// tsPool holds boundary instants: the epoch and around it, leap day, year ends, 2^31 s,
	// the first and last representable days of four-digit years.
	tsPool = []time.Time{
		ts("1970-01-01T00:00:00Z"), ts("1969-12-31T23:59:59.999999Z"), ts("1970-01-01T00:00:00.000001Z"),
		ts("2000-01-01T00:00:00Z"), ts("2024-02-29T12:00:00Z"), ts("2024-12-31T23:59:59.999999Z"),
		ts("2025-01-01T00:00:00Z"), ts("2038-01-19T03:14:07Z"), ts("2038-01-19T03:14:08Z"),
		ts("0001-01-01T00:00:00Z"), ts("9999-12-31T23:59:59.999999Z"), ts("1900-03-01T00:00:00Z"),
		// Inside the two hours where a literal's +02:00 offset matters (timestamps corpus).
		ts("2024-06-01T01:00:00Z"),
	}
	// bigInts may appear alone in a flow; sums over several observations use small values
	// so that they stay inside int64 on both sides.
	bigInts = []any{nil, int64(0), int64(-1), int64(1), int64(math.MaxInt32), int64(1 << 31), int64(1 << 53), int64(math.MaxInt64), int64(math.MinInt64 + 1)}
)

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// pick returns a random element of a pool.
func pick[T any](r *rand.Rand, pool []T) T { return pool[r.IntN(len(pool))] }

// str turns a pool string pointer into a row value (nil stays NULL).
func str(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

// buildDataset returns the deterministic test data.
func buildDataset() *dataset {
	r := rand.New(rand.NewPCG(seed, 1))
	d := &dataset{}
	d.certs = buildCerts(r)
	var fps []*string
	for i, c := range d.certs {
		if i%3 == 0 {
			fps = append(fps, sp(c["certFingerprint"].(string)))
		}
	}
	fps = append(fps, nil, sp(""), sp("DEADBEEF"))
	derived := map[string]row{}
	for i := 0; i < numFlows; i++ {
		key := flowKey(r, fps)
		// Derived fields are a function of cipherSuite and kexGroup, as in real data, so
		// that every flow key has one set of derived values.
		dk := fmt.Sprint(key["cipherSuite"], "|", key["kexGroup"])
		if derived[dk] == nil {
			derived[dk] = derivedFields(r)
		}
		for k, v := range derived[dk] {
			key[k] = v
		}
		d.obs = append(d.obs, observations(r, key, len(d.obs))...)
	}
	return d
}

// flowKey draws the key fields of one flow.
func flowKey(r *rand.Rand, fps []*string) row {
	return row{
		"clientIp":        addr(r),
		"clientName":      str(pick(r, append(weirdStrings, hostNames...))),
		"serverIp":        addr(r),
		"serverName":      str(pick(r, append(hostNames, weirdStrings...))),
		"serverPort":      pick(r, portPool),
		"protocol":        str(pick(r, protocols)),
		"serviceName":     str(pick(r, append(serviceNames, weirdStrings[:12]...))),
		"tlsVersion":      str(pick(r, tlsVersions)),
		"cipherSuite":     str(pick(r, suites)),
		"kexGroup":        str(pick(r, kexGroups)),
		"certFingerprint": str(pick(r, fps)),
	}
}

// addr draws an address: pool values (boundaries) half the time, else random ones inside
// a few prefixes the corpus tests.
func addr(r *rand.Rand) string {
	switch r.IntN(6) {
	case 0, 1:
		return pick(r, ipv4Pool)
	case 2:
		return pick(r, ipv6Pool)
	case 3:
		return fmt.Sprintf("10.%d.%d.%d", r.IntN(12), r.IntN(256), r.IntN(256))
	case 4:
		return fmt.Sprintf("192.168.%d.%d", r.IntN(3), r.IntN(256))
	default:
		return fmt.Sprintf("2001:db8:%x::%x", r.IntN(3), r.IntN(0x10000))
	}
}

func derivedFields(r *rand.Rand) row {
	return row{
		"cipherKex":      str(pick(r, kexAlgos)),
		"cipherAuth":     str(pick(r, auths)),
		"cipherEnc":      str(pick(r, encs)),
		"cipherMac":      str(pick(r, macs)),
		"forwardSecrecy": pick(r, bools),
		"pqcKex":         pick(r, bools),
		"weakCrypto":     pick(r, bools),
		"weakReasons":    pick(r, reasons),
	}
}

// observations returns 1 to 4 observations of a flow (about 1.9 on average), so that
// rollups aggregate. A single observation may carry extreme byte and packet counts.
func observations(r *rand.Rand, key row, first int) []row {
	n := 1
	switch x := r.IntN(10); {
	case x >= 8:
		n = 4
	case x >= 6:
		n = 3
	case x >= 3:
		n = 2
	}
	var out []row
	for i := 0; i < n; i++ {
		o := row{}
		for k, v := range key {
			o[k] = v
		}
		o["obsUid"] = fmt.Sprintf("obs-%05d", first+i)
		o["observedAt"] = observedAt(r)
		if n == 1 {
			o["byteVolume"] = pick(r, bigInts)
			o["packetCount"] = pick(r, bigInts)
		} else {
			o["byteVolume"] = smallCount(r, 5_000_000)
			o["packetCount"] = smallCount(r, 5_000)
		}
		out = append(out, o)
	}
	return out
}

func observedAt(r *rand.Rand) time.Time {
	if r.IntN(4) == 0 {
		return pick(r, tsPool)
	}
	base := ts("2024-01-01T00:00:00Z")
	return base.Add(time.Duration(r.Int64N(int64(400*24*time.Hour))) / time.Microsecond * time.Microsecond)
}

// smallCount is a count that may be NULL, 0 or negative, bounded so sums cannot overflow.
func smallCount(r *rand.Rand, max int64) any {
	switch r.IntN(12) {
	case 0:
		return nil
	case 1:
		return int64(0)
	case 2:
		return int64(-1)
	}
	return r.Int64N(max)
}

// buildCerts returns numCerts certificates with unique fingerprints.
func buildCerts(r *rand.Rand) []row {
	var out []row
	for i := 0; i < numCerts; i++ {
		sum := sha256.Sum256([]byte(fmt.Sprintf("cert-%d", i)))
		cn := pick(r, append(hostNames, weirdStrings...))
		alts := pick(r, altNamePool)
		out = append(out, row{
			"certFingerprint":             hex.EncodeToString(sum[:]),
			"certSerial":                  str(pick(r, []*string{sp(strings.ToUpper(hex.EncodeToString(sum[:8]))), sp("00"), sp("01"), nil, sp("")})),
			"certSubjectAsn1s":            subject(cn),
			"certCommonName":              str(cn),
			"certAltNames":                alts,
			"certIssuerAsn1s":             str(pick(r, issuers)),
			"certNotValidBeforeEpochSecs": pick(r, epochPool),
			"certNotValidAfterEpochSecs":  pick(r, epochPool),
			"certPublicKeyAlgo":           str(pick(r, []*string{sp("RSA"), sp("RSA"), sp("ECDSA"), sp("Ed25519"), sp("DSA"), sp("rsa"), nil})),
			"certPublicKeySize":           pick(r, []any{nil, int64(0), int64(256), int64(384), int64(1024), int64(2048), int64(2048), int64(4096), int64(15360)}),
			"certCurve":                   str(pick(r, []*string{nil, nil, sp("P-256"), sp("P-384"), sp("Ed25519"), sp("")})),
			"certSignatureAlgo":           str(pick(r, []*string{sp("SHA256-RSA"), sp("SHA1-RSA"), sp("MD5-RSA"), sp("ECDSA-SHA384"), sp("Ed25519"), nil})),
			"certIsCa":                    pick(r, bools),
			"certSelfSigned":              pick(r, bools),
			"certSource":                  str(pick(r, []*string{sp("traffic"), sp("traffic"), sp("truststore"), sp("file"), nil, sp("")})),
			"certTxt":                     certText(r, cn, alts),
			"certFirstSeen":               certTime(r),
			"certLastSeen":                certTime(r),
			"certServerCount":             pick(r, []any{nil, int64(0), int64(1), int64(2), int64(17), int64(math.MaxInt64)}),
			"certDer":                     pick(r, []any{nil, []byte{0x30, 0x82, 0x01, 0x0a}}),
		})
	}
	return out
}

var (
	altNamePool = []any{
		nil, list{}, list{nil}, list{sp("")}, list{sp("example.com")},
		list{sp("example.com"), sp("www.example.com"), sp("example.com")},
		list{sp("*.example.com"), nil}, list{sp("EXAMPLE.COM")}, list{sp("mail.example.com"), sp("10.1.2.3")},
		list{sp("db.école.fr"), sp("DB.ÉCOLE.FR")}, list{sp("straße.de")}, list{sp("a%b.example"), sp("a_b.example")},
		list{sp(`back\slash.example`)}, list{sp("o'brien.example")}, list{sp("😀.example")},
		list{sp("admin@example.com"), sp("https://example.com/x")}, list{sp("::1"), sp("2001:db8::1")},
		list{sp("notexample.com")}, list{sp("MySQL-Primary.db"), sp("mysql.internal")},
	}
	issuers = []*string{
		sp("CN=Example Root CA,O=Example,C=US"), sp("CN=Let's Encrypt R3,O=Let's Encrypt,C=US"),
		sp("CN=École CA,O=Straße GmbH,C=DE"), sp("CN=ÉCOLE CA,O=STRASSE GMBH,C=DE"), sp(`CN=a\,b,O=x`),
		sp("CN=100% CA"), sp("CN=my_ca"), nil, sp(""),
	}
	epochPool = []any{
		nil, int64(0), int64(-1), int64(1), int64(math.MaxInt32), int64(1 << 31), int64(1704067200), int64(1735689599),
		int64(1735689600), int64(253402300799), int64(-62135596800), int64(math.MaxInt64), int64(math.MinInt64),
	}
)

func subject(cn *string) any {
	if cn == nil {
		return nil
	}
	return "CN=" + *cn + ",O=Example"
}

// certText is a multi-line dump like `openssl x509 -text`, so that regexes meet newlines.
func certText(r *rand.Rand, cn *string, alts any) any {
	if r.IntN(15) == 0 {
		return nil
	}
	name := "(none)"
	if cn != nil {
		name = *cn
	}
	var dns []string
	if l, ok := alts.(list); ok {
		for _, a := range l {
			if a != nil {
				dns = append(dns, "DNS:"+*a)
			}
		}
	}
	return fmt.Sprintf("Certificate:\n    Data:\n        Version: 3 (0x2)\n        Subject: CN=%s\n"+
		"        X509v3 extensions:\n            X509v3 Subject Alternative Name: \n                %s\n"+
		"    Signature Algorithm: %s\n", name, strings.Join(dns, ", "), pick(r, []string{"sha256WithRSAEncryption", "ecdsa-with-SHA384", "md5WithRSAEncryption"}))
}

func certTime(r *rand.Rand) any {
	if r.IntN(8) == 0 {
		return nil
	}
	return observedAt(r)
}

// checkSizes guards the brief's minimum sizes.
func (d *dataset) checkSizes() error {
	if len(d.obs) < 2000 || len(d.certs) < 300 {
		return fmt.Errorf("dataset too small: %d observations, %d certificates", len(d.obs), len(d.certs))
	}
	return nil
}

// fieldType returns the catalog type of an input column of ds, including the storage-only
// columns of discovery.
func fieldType(ds query.Dataset, name string) query.Type {
	switch name {
	case query.ObservationIDColumn:
		return query.String
	case query.ObservedAtColumn:
		return query.Timestamp
	case "byteVolume", "packetCount":
		return query.Int
	}
	f, ok := query.LookupField(ds, name)
	if !ok {
		panic("difftest: unknown column " + name)
	}
	return f.Type
}
