package query

import (
	"sort"
	"strings"
)

// Dataset names one of the queryable datasets.
type Dataset string

// The datasets of DESIGN section 2.
const (
	// Discovery holds observed communications; queries return rollups per flow key.
	Discovery Dataset = "discovery"
	// Cert holds one row per distinct certificate.
	Cert Dataset = "cert"
)

// Datasets lists every dataset in a stable order.
var Datasets = []Dataset{Discovery, Cert}

// Type is the logical type of a field as the filter language sees it.
type Type string

// The field types of DESIGN section 2.
const (
	String     Type = "string"
	Int        Type = "int"
	Float      Type = "float"
	Bool       Type = "bool"
	IP         Type = "ip"
	Timestamp  Type = "timestamp"
	StringList Type = "list<string>"
)

// Role says where a field's value comes from, which decides when a predicate on it
// can be evaluated: key and derived fields before the discovery rollup, aggregates after.
type Role string

// Field roles.
const (
	// Key fields form the discovery flow key (GROUP BY).
	Key Role = "key"
	// Derived fields are functions of key fields (cipherSuite, kexGroup), so they are
	// constant within a flow and may be filtered before aggregation.
	Derived Role = "derived"
	// Aggregate fields are computed over the observations of a flow in the time frame.
	Aggregate Role = "aggregate"
	// Attribute fields belong to datasets without rollup (cert).
	Attribute Role = "attribute"
)

// Field describes one queryable field. The catalog is the single source of truth for
// type checking, DDL, CSV/JSON headers and the OpenAPI document.
type Field struct {
	Name        string
	Type        Type
	Role        Role
	Dataset     Dataset
	Description string
	// CI marks names that come from CipherInsights and must keep their spelling.
	CI bool
}

// PreAggregate reports whether a predicate on f can be evaluated on single observations,
// before the discovery rollup.
func (f Field) PreAggregate() bool { return f.Role != Aggregate }

// AggregateFields returns the discovery fields computed over a flow's observations, in
// catalog order: the rollup's columns, stored all-time in FlowTable.
func AggregateFields() []Field {
	var out []Field
	for _, f := range Fields(Discovery) {
		if f.Role == Aggregate {
			out = append(out, f)
		}
	}
	return out
}

// Storage conventions, shared by the engine (which creates and fills the tables) and the
// SQL dialects (which read them). Every field is a column of the same, double-quoted name;
// IP fields add two columns used for comparisons, so that a CIDR test is a range scan:
//
//	"<name>"       VARCHAR   canonical text (net/netip String form), for output
//	"<name>__fam"  UTINYINT  4 or 6 (IPv4-mapped IPv6 addresses are family 6)
//	"<name>__num"  HUGEINT   the address as an unsigned 128-bit integer (IPv4 in the low
//	                         32 bits) with the top bit flipped, so signed order = address order
//
// The discovery dataset is normalised into two tables. FlowTable holds one row per
// distinct flow key: FlowIDColumn (an INTEGER surrogate, assigned in load order, so never
// part of a result or of an ORDER BY), then the key fields (with the IP comparison
// columns) and the derived fields, then the aggregate fields over all of the flow's
// observations (the all-time rollup, which every load updates in its transaction).
// DiscoveryTable holds one row per observation: ObservationIDColumn (a source-unique id
// such as the Zeek uid, for de-duplication), ObservedAtColumn (min/max give
// firstSeen/lastSeen; count(*) gives connectionCount), the per-observation "byteVolume"
// and "packetCount" (summed), and FlowIDColumn. A query without a time frame reads the
// flow table alone. A time frame's rollup groups the frame's observations by the integer
// FlowIDColumn and joins the flow table for the key, instead of grouping by ~15 mostly
// VARCHAR key columns (1M observations, 2 cores: 4-7x faster). Predicates on key and
// derived fields run on the flow table.
// The cert dataset stores one row per certificate in CertTable, plus CertDERColumn.
const (
	DiscoveryTable      = "discovery_obs"
	FlowTable           = "discovery_flow"
	FlowIDColumn        = "flowId"
	CertTable           = "cert"
	ObservedAtColumn    = "observedAt"
	ObservationIDColumn = "obsUid"
	CertDERColumn       = "certDer"
	FamilySuffix        = "__fam"
	NumberSuffix        = "__num"
)

var catalog = []Field{
	// discovery: flow key
	{Name: "clientIp", Type: IP, Role: Key, Dataset: Discovery, CI: true, Description: "Client (initiator) IP address, IPv4 or IPv6."},
	{Name: "clientName", Type: String, Role: Key, Dataset: Discovery, CI: true, Description: "Client host name, where known (DNS)."},
	{Name: "serverIp", Type: IP, Role: Key, Dataset: Discovery, CI: true, Description: "Server (responder) IP address, IPv4 or IPv6."},
	{Name: "serverName", Type: String, Role: Key, Dataset: Discovery, CI: true, Description: "Server name: TLS SNI, else the DNS name; NULL when neither was seen."},
	{Name: "serverPort", Type: Int, Role: Key, Dataset: Discovery, Description: "Server TCP/UDP port."},
	{Name: "protocol", Type: String, Role: Key, Dataset: Discovery, Description: "Transport protocol: tcp or udp."},
	{Name: "serviceName", Type: String, Role: Key, Dataset: Discovery, CI: true, Description: "Application service, e.g. https, ldaps, smtps, mysql."},
	{Name: "tlsVersion", Type: String, Role: Key, Dataset: Discovery, Description: "Negotiated protocol version: SSLv3, TLSv1.0, TLSv1.1, TLSv1.2, TLSv1.3."},
	{Name: "cipherSuite", Type: String, Role: Key, Dataset: Discovery, CI: true, Description: "Negotiated cipher suite, IANA name (e.g. TLS_AES_128_GCM_SHA256)."},
	{Name: "kexGroup", Type: String, Role: Key, Dataset: Discovery, Description: "Key-exchange named group or curve, e.g. x25519, secp256r1, X25519MLKEM768."},
	{Name: "certFingerprint", Type: String, Role: Key, Dataset: Discovery, Description: "SHA-256 fingerprint (lowercase hex) of the server's leaf certificate; NULL when none was seen."},
	// discovery: derived from cipherSuite and kexGroup
	{Name: "cipherKex", Type: String, Role: Derived, Dataset: Discovery, CI: true, Description: "Key-exchange algorithm of the cipher suite, e.g. ECDHE, DHE, RSA."},
	{Name: "cipherAuth", Type: String, Role: Derived, Dataset: Discovery, Description: "Authentication algorithm of the cipher suite, e.g. RSA, ECDSA."},
	{Name: "cipherEnc", Type: String, Role: Derived, Dataset: Discovery, CI: true, Description: "Bulk encryption of the cipher suite, e.g. 'AES 128 GCM'."},
	{Name: "cipherMac", Type: String, Role: Derived, Dataset: Discovery, Description: "MAC or PRF hash of the cipher suite, e.g. SHA256, AEAD."},
	{Name: "forwardSecrecy", Type: Bool, Role: Derived, Dataset: Discovery, Description: "Whether the key exchange provides forward secrecy."},
	{Name: "pqcKex", Type: Bool, Role: Derived, Dataset: Discovery, Description: "Whether the key exchange is hybrid or pure post-quantum."},
	{Name: "weakCrypto", Type: Bool, Role: Derived, Dataset: Discovery, Description: "Whether any part of the negotiated cryptography is weak (see weakReasons)."},
	{Name: "weakReasons", Type: StringList, Role: Derived, Dataset: Discovery, Description: "Why the cryptography is weak, e.g. 'protocol SSLv3', 'cipher RC4', 'export'."},
	// discovery: aggregates over the time frame
	{Name: "connectionCount", Type: Int, Role: Aggregate, Dataset: Discovery, Description: "Number of observed connections of the flow in the time frame."},
	{Name: "byteVolume", Type: Int, Role: Aggregate, Dataset: Discovery, CI: true, Description: "Bytes in both directions, summed over the flow's connections."},
	{Name: "packetCount", Type: Int, Role: Aggregate, Dataset: Discovery, Description: "Packets in both directions, summed over the flow's connections."},
	{Name: "firstSeen", Type: Timestamp, Role: Aggregate, Dataset: Discovery, Description: "Time of the flow's first connection in the time frame (UTC)."},
	{Name: "lastSeen", Type: Timestamp, Role: Aggregate, Dataset: Discovery, Description: "Time of the flow's last connection in the time frame (UTC)."},

	// cert
	{Name: "certFingerprint", Type: String, Role: Attribute, Dataset: Cert, Description: "SHA-256 fingerprint of the DER encoding, lowercase hex."},
	{Name: "certSerial", Type: String, Role: Attribute, Dataset: Cert, Description: "Serial number, uppercase hex."},
	{Name: "certSubjectAsn1s", Type: String, Role: Attribute, Dataset: Cert, Description: "Subject distinguished name (RFC 4514)."},
	{Name: "certCommonName", Type: String, Role: Attribute, Dataset: Cert, CI: true, Description: "Subject common name."},
	{Name: "certAltNames", Type: StringList, Role: Attribute, Dataset: Cert, CI: true, Description: "Subject alternative names (DNS names, IP addresses, e-mail addresses, URIs)."},
	{Name: "certIssuerAsn1s", Type: String, Role: Attribute, Dataset: Cert, CI: true, Description: "Issuer distinguished name (RFC 4514)."},
	{Name: "certNotValidBeforeEpochSecs", Type: Int, Role: Attribute, Dataset: Cert, Description: "Start of validity, seconds since the Unix epoch."},
	{Name: "certNotValidAfterEpochSecs", Type: Int, Role: Attribute, Dataset: Cert, CI: true, Description: "End of validity, seconds since the Unix epoch."},
	{Name: "certPublicKeyAlgo", Type: String, Role: Attribute, Dataset: Cert, CI: true, Description: "Public key algorithm: RSA, ECDSA, Ed25519, DSA."},
	{Name: "certPublicKeySize", Type: Int, Role: Attribute, Dataset: Cert, Description: "Public key size in bits."},
	{Name: "certCurve", Type: String, Role: Attribute, Dataset: Cert, Description: "Elliptic curve of the public key (P-256, P-384, Ed25519); NULL for RSA."},
	{Name: "certSignatureAlgo", Type: String, Role: Attribute, Dataset: Cert, Description: "Signature algorithm, e.g. SHA256-RSA, ECDSA-SHA384."},
	{Name: "certIsCa", Type: Bool, Role: Attribute, Dataset: Cert, Description: "Whether basic constraints mark the certificate as a CA."},
	{Name: "certSelfSigned", Type: Bool, Role: Attribute, Dataset: Cert, Description: "Whether subject and issuer are equal and the signature verifies with the certificate's own key."},
	{Name: "certSource", Type: String, Role: Attribute, Dataset: Cert, Description: "Where the certificate came from: traffic, truststore or file."},
	{Name: "certTxt", Type: String, Role: Attribute, Dataset: Cert, CI: true, Description: "Text dump of the certificate, like `openssl x509 -text`."},
	{Name: "certFirstSeen", Type: Timestamp, Role: Attribute, Dataset: Cert, Description: "When the certificate was first seen (UTC)."},
	{Name: "certLastSeen", Type: Timestamp, Role: Attribute, Dataset: Cert, Description: "When the certificate was last seen (UTC)."},
	{Name: "certServerCount", Type: Int, Role: Attribute, Dataset: Cert, Description: "Number of distinct server addresses that presented the certificate."},
}

// Fields returns the fields of a dataset in catalog order. The slice must not be modified.
func Fields(ds Dataset) []Field {
	switch ds {
	case Discovery:
		return discoveryFields
	case Cert:
		return certFields
	}
	return nil
}

// LookupField finds a field of a dataset by its exact, case-sensitive name.
func LookupField(ds Dataset, name string) (Field, bool) {
	for _, f := range Fields(ds) {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// ValidDataset reports whether ds names a dataset.
func ValidDataset(ds Dataset) bool { return Fields(ds) != nil }

var discoveryFields, certFields = split(catalog)

func split(all []Field) (disc, cert []Field) {
	for _, f := range all {
		if f.Dataset == Discovery {
			disc = append(disc, f)
		} else {
			cert = append(cert, f)
		}
	}
	return disc, cert
}

// SuggestFields returns up to three field names of ds closest to name, best first, for
// "did you mean" hints. A case-insensitive match always comes first.
func SuggestFields(ds Dataset, name string) []string {
	type scored struct {
		name string
		dist int
	}
	var cands []scored
	lower := strings.ToLower(name)
	for _, f := range Fields(ds) {
		d := editDistance(lower, strings.ToLower(f.Name))
		if strings.EqualFold(f.Name, name) {
			d = -1
		}
		// Accept a suggestion when it is closer than half the name, or shares a long stem.
		limit := max(2, len(name)/2)
		if d <= limit || (len(lower) >= 4 && strings.Contains(strings.ToLower(f.Name), lower)) {
			cands = append(cands, scored{f.Name, d})
		}
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].dist < cands[j].dist })
	var out []string
	for i := 0; i < len(cands) && i < 3; i++ {
		out = append(out, cands[i].name)
	}
	return out
}

// editDistance is the Levenshtein distance between a and b, counted in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
