package difftest

import (
	"fmt"
	"strings"

	"github.com/cipherscope/cipherscope/query"
)

// filterCase is one filter of the corpus. pg is the PostgreSQL text when it is not the
// filter itself after toPG's mechanical translations: list-field predicates are written by
// hand with unnest, because PostgreSQL has no "any element" semantics for operators such as
// LIKE or ~ whose list operand would have to be on the right.
type filterCase struct {
	ds     query.Dataset
	filter string
	pg     string
	// origin says where the case came from ("corpus" or "gen #n"), for reports.
	origin string
}

// pgText returns the PostgreSQL text of a case.
func (c filterCase) pgText() string {
	if c.pg != "" {
		return c.pg
	}
	return toPG(c.filter)
}

func disc(filter string) filterCase {
	return filterCase{ds: query.Discovery, filter: filter, origin: "corpus"}
}
func cert(filter string) filterCase {
	return filterCase{ds: query.Cert, filter: filter, origin: "corpus"}
}

// discPG and certPG are cases whose PostgreSQL text is written by hand.
func discPG(filter, pg string) filterCase {
	return filterCase{ds: query.Discovery, filter: filter, pg: pg, origin: "corpus"}
}
func certPG(filter, pg string) filterCase {
	return filterCase{ds: query.Cert, filter: filter, pg: pg, origin: "corpus"}
}

// anyElem is the PostgreSQL form of "a predicate on a list field holds when it holds for
// any element" (DESIGN section 3), written with unnest so that any element operator
// works (LIKE and ~ cannot take the list on the right of ANY). It has the three-valued
// semantics of SQL's `x = ANY (array)`, which PostgreSQL itself gives list comparisons and
// which query.AnyElemCond documents: NULL for a NULL list, true when some element gives
// true, else NULL when some element gives NULL, else false (so false for an empty list).
// A plain EXISTS would be two-valued and would keep NULL lists under NOT, unlike a NULL
// scalar ("NULL follows SQL"). The corpus checks the form against PostgreSQL's native
// = ANY for the cases where both can be written.
func anyElem(col, elemPred string) string {
	return fmt.Sprintf("(CASE WHEN %[1]s IS NULL THEN NULL"+
		" WHEN EXISTS (SELECT 1 FROM unnest(%[1]s) e WHERE e %[2]s) THEN TRUE"+
		" WHEN EXISTS (SELECT 1 FROM unnest(%[1]s) e WHERE (e %[2]s) IS NULL) THEN NULL"+
		" ELSE FALSE END)", strings.ToLower(col), elemPred)
}

// handCorpus returns the hand-written filters, grouped by operator class.
func handCorpus() []filterCase {
	var cs []filterCase
	for _, group := range [][]filterCase{
		emptyAndStrings(), nullsAndIn(), integers(), aggregates(), timestamps(), booleans(),
		likes(), regexes(), networks(), logic(), lists(), certs(),
	} {
		cs = append(cs, group...)
	}
	return cs
}

func emptyAndStrings() []filterCase {
	return []filterCase{
		disc(""), cert(""),
		disc("serverName = 'example.com'"),
		disc("serverName = 'EXAMPLE.COM'"),
		disc("serverName != 'example.com'"),
		disc("serverName <> 'example.com'"),
		disc("serverName < 'm'"),
		disc("serverName <= 'example.com'"),
		disc("serverName > 'école'"),
		disc("serverName >= ''"),
		disc("serverName = ''"),
		disc("serverName != ''"),
		disc("clientName = 'ÉCOLE'"),
		disc("clientName = 'école'"),
		disc("clientName = 'e\u0301cole'"),
		disc("clientName = 'it''s'"),
		disc(`clientName = 'say "hi"'`),
		disc(`clientName = 'a\b'`),
		disc(`clientName = 'a\\b'`),
		disc(`clientName = '\'`),
		disc("clientName = 'tab\there'"),
		disc("clientName = '😀'"),
		disc("clientName = 'ẞ'"),
		disc("clientName > 'z'"),
		disc("clientName < 'É'"),
		disc("clientName BETWEEN 'a' AND 'z'"),
		disc("clientName NOT BETWEEN 'a' AND 'z'"),
		disc("clientName BETWEEN 'z' AND 'a'"),
		disc("tlsVersion BETWEEN 'TLSv1.0' AND 'TLSv1.2'"),
		disc("tlsVersion NOT BETWEEN 'TLSv1.0' AND 'TLSv1.2'"),
		disc("tlsVersion >= 'TLSv1.2'"),
		disc("cipherKex = 'ECDHE' AND byteVolume > 1000000"),
		disc("cipherEnc = 'AES 128 GCM'"),
		disc("kexGroup = 'X25519MLKEM768' OR kexGroup = 'x25519'"),
		disc("protocol = 'tcp'"),
		disc("protocol != 'tcp'"),
		disc("certFingerprint = 'DEADBEEF'"),
		disc("certFingerprint = ''"),
	}
}

func nullsAndIn() []filterCase {
	return []filterCase{
		disc("serverName IS NULL"),
		disc("serverName IS NOT NULL"),
		disc("serverPort IS NULL"),
		disc("serverPort IS NOT NULL"),
		disc("forwardSecrecy IS NULL"),
		disc("byteVolume IS NULL"),
		disc("packetCount IS NOT NULL"),
		disc("firstSeen IS NULL"),
		disc("certFingerprint IS NULL"),
		disc("serverIp IS NULL"),
		disc("clientIp IS NOT NULL"),
		disc("serverName = NULL"),
		disc("serverName != NULL"),
		disc("serverName IN (NULL)"),
		disc("serviceName IN ('mysql', 'MySQL')"),
		disc("serviceName NOT IN ('https', 'mysql')"),
		disc("serviceName IN ('mysql', NULL)"),
		disc("serviceName NOT IN ('mysql', NULL)"),
		disc("serviceName IN ('')"),
		disc("serviceName NOT IN ('')"),
		disc("tlsVersion IN ('TLSv1.0', 'TLSv1.1')"),
		disc("tlsVersion NOT IN ('TLSv1.2', 'TLSv1.3')"),
		disc("serverPort IN (22, 443, 3306)"),
		disc("serverPort NOT IN (22, 443, NULL)"),
		disc("serverPort NOT IN (22, 443)"),
		disc("serverPort IN ('22', '443')"),
		disc("forwardSecrecy IN (TRUE, NULL)"),
		disc("forwardSecrecy NOT IN (TRUE)"),
		disc("serverIp IN (INET '10.1.2.3', INET '::1', '0.0.0.0')"),
		disc("serverIp NOT IN ('10.1.2.3', '::ffff:10.1.2.3')"),
		disc("firstSeen IN (TIMESTAMP '1970-01-01T00:00:00Z', TIMESTAMP '9999-12-31T23:59:59.999999Z')"),
	}
}

func integers() []filterCase {
	return []filterCase{
		disc("serverPort = 443"),
		disc("serverPort = '443'"),
		disc("serverPort != 443"),
		disc("serverPort < 0"),
		disc("serverPort <= -1"),
		disc("serverPort > 65535"),
		disc("serverPort >= 2147483648"),
		disc("serverPort = 2147483647"),
		disc("serverPort = 9007199254740992"),
		disc("serverPort = 9007199254740993"),
		disc("serverPort = 9223372036854775807"),
		disc("serverPort = -9223372036854775808"),
		disc("serverPort < -9223372036854775807"),
		disc("serverPort BETWEEN 1 AND 1024"),
		disc("serverPort NOT BETWEEN 1 AND 65535"),
		disc("serverPort BETWEEN '1' AND '1024'"),
		disc("serverPort = 443.0"),
		disc("serverPort < 443.5"),
		disc("serverPort > -0.5"),
		disc("serverPort = 0"),
		disc("serverPort >= 0 AND serverPort <= 65535"),
		disc("byteVolume > 1000000"),
		disc("byteVolume = 0"),
		disc("byteVolume < 0"),
		disc("byteVolume = -1"),
		disc("byteVolume >= 9223372036854775807"),
		disc("byteVolume = -9223372036854775807"),
		disc("byteVolume BETWEEN 2147483647 AND 2147483648"),
		disc("packetCount BETWEEN 0 AND 100"),
		disc("packetCount > 9007199254740992"),
	}
}

// aggregates mixes post-aggregation predicates with key predicates: the rollup must be
// computed over every observation before an OR with an aggregate is evaluated.
func aggregates() []filterCase {
	return []filterCase{
		disc("connectionCount > 1"),
		disc("connectionCount = 1"),
		disc("connectionCount >= 4"),
		disc("connectionCount IN (2, 3)"),
		disc("connectionCount BETWEEN 2 AND 3"),
		disc("connectionCount > 1 OR serverPort = 443"),
		disc("connectionCount > 1 AND serverPort = 443"),
		disc("NOT (connectionCount > 1) OR serviceName ~* 'mysql'"),
		disc("connectionCount > 1 OR byteVolume > 1000000"),
		disc("(connectionCount = 1 OR serverName IS NULL) AND NOT (byteVolume < 1000)"),
		disc("connectionCount > 2 OR serverIp <<= INET '10.0.0.0/8'"),
		disc("NOT (connectionCount = 1 AND serverName = 'example.com')"),
		disc("byteVolume > 10000000 OR packetCount < 0"),
		disc("byteVolume IS NULL OR connectionCount > 3"),
		disc("lastSeen > TIMESTAMP '2024-06-01' OR tlsVersion = 'SSLv3'"),
		disc("firstSeen < TIMESTAMP '2024-03-01' AND lastSeen > TIMESTAMP '2024-09-01'"),
		disc("connectionCount > 1 AND (weakCrypto = TRUE OR serverPort IS NULL)"),
	}
}

func timestamps() []filterCase {
	return []filterCase{
		disc("firstSeen >= TIMESTAMP '2024-06-01'"),
		disc("firstSeen < TIMESTAMP '1970-01-01T00:00:00Z'"),
		disc("firstSeen <= TIMESTAMP '1969-12-31T23:59:59.999999Z'"),
		disc("firstSeen = TIMESTAMP '0001-01-01'"),
		disc("lastSeen = TIMESTAMP '9999-12-31T23:59:59.999999Z'"),
		disc("lastSeen > TIMESTAMP '2038-01-19T03:14:07Z'"),
		disc("lastSeen < TIMESTAMP '2024-02-29T12:00:00.000001Z'"),
		disc("firstSeen = TIMESTAMP '2024-02-29T12:00:00Z'"),
		disc("firstSeen BETWEEN TIMESTAMP '2024-01-01' AND TIMESTAMP '2024-12-31T23:59:59.999999Z'"),
		disc("firstSeen NOT BETWEEN TIMESTAMP '2024-01-01' AND TIMESTAMP '2025-01-01'"),
		disc("firstSeen > '2024-06-01'"),
		disc("lastSeen <= '2000-01-01T00:00:00Z'"),
		disc("firstSeen != TIMESTAMP '1970-01-01T00:00:00Z'"),
		// PostgreSQL's timestamp (without time zone) ignores a UTC offset in the literal.
		disc("firstSeen < '2024-06-01T02:00:00+02:00'"),
		disc("firstSeen >= '2024-06-01 01:30:00-00:30'"),
		disc("firstSeen < TIMESTAMP '2024-06-01T02:00:00+00:00'"),
	}
}

func booleans() []filterCase {
	return []filterCase{
		disc("weakCrypto = TRUE"),
		disc("weakCrypto = FALSE"),
		disc("weakCrypto != TRUE"),
		disc("weakCrypto <> FALSE"),
		disc("weakCrypto IS NULL"),
		disc("weakCrypto IS NOT NULL"),
		disc("NOT weakCrypto = TRUE"),
		disc("weakCrypto = 'true'"),
		disc("pqcKex = 't'"),
		disc("pqcKex = 'false'"),
		disc("weakCrypto = 'yes'"),
		disc("weakCrypto = 'off'"),
		disc("forwardSecrecy = true and pqcKex = false"),
		disc("weakCrypto < TRUE"),
		disc("forwardSecrecy = TRUE AND pqcKex = TRUE AND weakCrypto = FALSE"),
	}
}

func likes() []filterCase {
	return []filterCase{
		disc("serverName LIKE '%example.com'"),
		disc("serverName LIKE 'example.com'"),
		disc("serverName LIKE '%.example.com'"),
		disc("serverName NOT LIKE '%example%'"),
		disc("serverName ILIKE '%EXAMPLE%'"),
		disc("serverName NOT ILIKE '%example%'"),
		disc("serverName ILIKE '%école%'"),
		disc("serverName LIKE 'host-_1'"),
		disc(`clientName LIKE '%\%%'`),
		disc(`clientName LIKE '100\%'`),
		disc("clientName LIKE '100%'"),
		disc(`clientName LIKE 'a\_b'`),
		disc("clientName LIKE 'a_b'"),
		disc(`clientName LIKE 'a\\b'`),
		disc(`clientName LIKE '%\\%'`),
		disc(`clientName LIKE '\a%'`),
		disc("clientName LIKE '_'"),
		disc("clientName LIKE '__'"),
		disc("clientName LIKE '_cole'"),
		disc("clientName LIKE '%😀%'"),
		disc("clientName LIKE 'a_b' AND clientName NOT LIKE 'a\\_b'"),
		disc("clientName ILIKE 'école'"),
		disc("clientName ILIKE 'ÉCOLE'"),
		disc("clientName ILIKE 'STRASSE'"),
		disc("clientName ILIKE 'ß'"),
		disc("clientName ILIKE 'ẞ'"),
		disc("clientName ILIKE 's'"),
		disc("clientName ILIKE 'ſ'"),
		disc("clientName ILIKE '\u212a'"),
		disc("clientName ILIKE 'ς'"),
		disc("clientName ILIKE 'k'"),
		disc("clientName ILIKE 'σ'"),
		disc("clientName ILIKE 'İSTANBUL'"),
		disc("clientName ILIKE 'I'"),
		disc("clientName ILIKE 'café'"),
		disc("clientName LIKE ''"),
		disc("clientName NOT LIKE ''"),
		disc("clientName LIKE '%'"),
		disc("clientName NOT LIKE '%'"),
		disc("clientName LIKE 'it''s'"),
		disc(`clientName LIKE '%"%'`),
		disc("clientName LIKE '%\t%'"),
		disc(`serviceName LIKE 'my\%sql'`),
		disc("serviceName LIKE 'my%sql'"),
		disc("serviceName ILIKE 'my_sql'"),
		disc(`serviceName LIKE 'pg\\sql'`),
		disc("serviceName ILIKE 'MYSQL%'"),
		disc("cipherEnc ILIKE 'aes%gcm'"),
		disc("cipherSuite LIKE 'TLS\\_AES%'"),
		disc("cipherSuite LIKE 'TLS_AES%'"),
		disc("cipherSuite NOT ILIKE '%with%'"),
	}
}

func regexes() []filterCase {
	return []filterCase{
		disc("serviceName ~* 'mysql'"),
		disc("serviceName ~ 'mysql'"),
		disc("serviceName !~ 'mysql'"),
		disc("serviceName !~* 'mysql'"),
		disc("serviceName ~ '^mysql$'"),
		disc("serviceName ~* '^my.?sql'"),
		disc("serviceName ~ 'SQL$'"),
		disc("serviceName ~ '^$'"),
		disc("serviceName ~ ''"),
		disc("serviceName !~ ''"),
		disc("serviceName ~ '(?i)mysql'"),
		disc("clientName ~* 'école'"),
		disc("clientName ~* 'ÉCOLE'"),
		disc("clientName ~ 'é'"),
		disc("clientName ~* 'ẞ'"),
		disc("clientName ~* 'ß'"),
		disc("clientName ~* 'STRASSE'"),
		disc("clientName ~* 'straße'"),
		disc("clientName ~* 's'"),
		disc("clientName ~* 'ſ'"),
		disc("clientName ~* 'S'"),
		disc("clientName ~* 'i'"),
		disc("clientName ~* 'İ'"),
		disc("clientName ~* 'k'"),
		disc("clientName ~* '\u212a'"),
		disc("clientName ~* 'σ'"),
		disc("clientName ~* 'ς'"),
		disc("clientName ~* 'Σ'"),
		disc("clientName ~* 'café'"),
		disc("clientName ~ '^.$'"),
		disc("clientName ~ '^..$'"),
		disc("clientName ~ '😀'"),
		disc("clientName ~ '^a.b$'"),
		disc(`clientName ~ '\\'`),
		disc("clientName ~ '%'"),
		disc("clientName ~ '_'"),
		disc("clientName ~ ''''"),
		disc(`clientName ~ '"'`),
		disc(`clientName ~ '\t'`),
		disc(`clientName ~ '\n'`),
		disc("clientName ~ 'line.break'"),
		disc("clientName ~ '(?s)line.break'"),
		disc("clientName ~ '^break'"),
		disc("clientName ~ 'line$'"),
		disc("clientName ~ '[[:digit:]]'"),
		disc(`clientName ~ '\d'`),
		disc(`clientName ~ '\d{3}'`),
		disc("clientName ~ '^[a-z]+$'"),
		disc("clientName ~ '[[:upper:]]'"),
		disc("clientName ~ '[[:alpha:]]'"),
		disc(`clientName ~ '\w'`),
		disc(`clientName ~ '\s'`),
		disc("clientName ~ '[^ -~]'"),
		disc(`clientName ~ '\.'`),
		disc(`clientName ~ '\('`),
		disc(`clientName ~ '\[abc\]'`),
		disc(`clientName ~ '\^\$'`),
		disc(`clientName ~ 'a\+b'`),
		disc("clientName ~ '^(?:a|b)'"),
		disc("clientName ~ 'x*'"),
		disc("clientName ~ 'a.*?b'"),
		disc("serverName ~ '(^|\\.)example\\.com$'"),
		disc(`serverName ~* '^(www|mail)\.'`),
		disc(`serverName ~ 'example\.com$'`),
		disc("serverName !~* 'example'"),
		disc("serverName ~ '^host-[0-9]{2}$'"),
		disc("serverName ~* 'HOST-0?1'"),
		disc("serverName ~* 'db\\.école'"),
		disc("cipherSuite ~ '^TLS_(ECDHE|DHE)_'"),
		disc("cipherSuite ~* 'rc4|3des'"),
		disc("cipherSuite !~ 'GCM|CHACHA'"),
		disc("cipherEnc ~ '^AES [0-9]+ GCM$'"),
	}
}

func networks() []filterCase {
	return []filterCase{
		disc("serverIp << INET '10.0.0.0/8'"),
		disc("serverIp <<= INET '10.0.0.0/8'"),
		disc("serverIp <<= '10.0.0.0/8'"),
		disc("serverIp <<= INET '10.1.2.3/8'"),
		disc("serverIp << INET '10.1.2.3/32'"),
		disc("serverIp <<= INET '10.1.2.3/32'"),
		disc("serverIp <<= INET '10.1.2.3'"),
		disc("serverIp >>= INET '10.1.2.3'"),
		disc("serverIp >> INET '10.1.2.3'"),
		disc("serverIp >>= INET '10.0.0.0/8'"),
		disc("serverIp && INET '10.0.0.0/8'"),
		disc("serverIp && INET '10.1.2.3/8'"),
		disc("serverIp && INET '::/0'"),
		disc("serverIp <<= INET '0.0.0.0/0'"),
		disc("serverIp << INET '0.0.0.0/0'"),
		disc("serverIp <<= INET '::/0'"),
		disc("serverIp <<= INET '::ffff:0.0.0.0/96'"),
		disc("serverIp <<= INET '::ffff:10.0.0.0/104'"),
		disc("serverIp <<= INET '2001:db8::/32'"),
		disc("serverIp <<= INET '2001:db8::/48'"),
		disc("serverIp <<= INET '2001:db8::1/48'"),
		disc("serverIp <<= INET '10.10.0.0/16'"),
		disc("serverIp <<= INET '10.10.0.0/15'"),
		disc("serverIp <<= INET '10.11.0.0/15'"),
		disc("serverIp <<= INET '255.255.255.255/32'"),
		disc("serverIp <<= INET '255.255.255.254/31'"),
		disc("serverIp <<= INET '128.0.0.0/1'"),
		disc("serverIp <<= INET '0.0.0.0/1'"),
		disc("serverIp <<= INET '8000::/1'"),
		disc("serverIp <<= INET 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128'"),
		disc("serverIp <<= INET '::/128'"),
		disc("serverIp <<= INET '::/127'"),
		disc("serverIp >>= INET '::1'"),
		disc("clientIp << INET '192.168.0.0/16' AND serverIp <<= INET '10.0.0.0/8'"),
		disc("serverIp <<= INET '10.10.0.0/16' AND tlsVersion IN ('TLSv1.0', 'TLSv1.1')"),
		disc("serverIp <<= ANY (INET '10.0.0.0/8', INET '192.168.0.0/16')"),
		disc("serverIp <<= ANY (INET '10.0.0.0/8', INET '2001:db8::/32', INET '::ffff:0:0/96')"),
		disc("NOT serverIp <<= ANY (INET '10.0.0.0/8', INET '::/0')"),
		disc("clientIp <<= ANY (INET '255.255.255.255/32', INET '::/128', INET '0.0.0.0/32')"),
		disc("serverIp = INET '10.1.2.3'"),
		disc("serverIp = '10.1.2.3'"),
		disc("serverIp = '::ffff:10.1.2.3'"),
		disc("serverIp = INET '10.1.2.3/32'"),
		disc("serverIp = INET '10.1.2.3/8'"),
		disc("serverIp != INET '10.1.2.3'"),
		disc("serverIp = '::'"),
		disc("serverIp = '0:0:0:0:0:0:0:1'"),
		disc("serverIp = '2001:DB8::1'"),
		disc("serverIp = '::10.1.2.3'"),
		disc("serverIp < INET '10.0.0.0'"),
		disc("serverIp > INET '255.255.255.255'"),
		disc("serverIp >= INET '::'"),
		disc("serverIp BETWEEN INET '10.0.0.0' AND INET '10.255.255.255'"),
		disc("serverIp > INET '10.0.0.0/8'"),
		disc("serverIp <= INET '10.0.0.0/8'"),
		disc("serverIp < '::ffff:0.0.0.0'"),
	}
}

// logic covers SQL three-valued logic over NULLs and operator precedence.
func logic() []filterCase {
	return []filterCase{
		disc("NOT (serverName = 'example.com')"),
		disc("NOT (serverName = 'example.com') OR serverName IS NULL"),
		disc("serverName = 'example.com' OR serverName != 'example.com'"),
		disc("NOT (serverName = 'x' AND serverPort = 443)"),
		disc("NOT (serverName = 'x' OR serverPort = 443)"),
		disc("NOT NOT (serverPort = 443)"),
		disc("NOT (serverPort NOT IN (443, NULL))"),
		disc("NOT (serverPort IN (443, NULL))"),
		disc("NOT (forwardSecrecy = TRUE) AND NOT (forwardSecrecy = FALSE)"),
		disc("(weakCrypto = TRUE OR pqcKex = TRUE) AND NOT (forwardSecrecy = FALSE)"),
		disc("NOT (serviceName !~* 'mysql')"),
		disc("NOT (serviceName LIKE '%sql%')"),
		disc("NOT (serverPort BETWEEN 1 AND 1024)"),
		disc("serviceName ~* 'mysql' OR serviceName IS NULL"),
		disc("NOT (serverName IS NULL)"),
		disc("serverPort = 443 OR serverPort = 22 AND protocol = 'udp'"),
		disc("(serverPort = 443 OR serverPort = 22) AND protocol = 'udp'"),
		disc("NOT serverPort = 443 AND protocol = 'tcp'"),
		disc("serverPort = 443 and protocol = 'tcp' Or NOT serverName is null"),
		disc("NOT (weakCrypto = TRUE OR weakCrypto IS NULL)"),
		disc("(serverName = 'a' OR NOT (serverName = 'a')) AND serverPort > 0"),
		disc("NOT (clientName ILIKE '%école%' AND serverIp <<= INET '10.0.0.0/8')"),
		disc("((((serverPort = 443))))"),
	}
}

// lists covers list<string> fields, whose PostgreSQL text is written by hand (anyElem).
func lists() []filterCase {
	return []filterCase{
		discPG("weakReasons = 'cipher RC4'", anyElem("weakReasons", "= 'cipher RC4'")),
		discPG("weakReasons != 'cipher RC4'", anyElem("weakReasons", "<> 'cipher RC4'")),
		discPG("weakReasons IN ('export', 'hash MD5')", anyElem("weakReasons", "IN ('export', 'hash MD5')")),
		discPG("weakReasons LIKE '%RC4%'", anyElem("weakReasons", "LIKE '%RC4%'")),
		discPG("weakReasons ILIKE '%rc4%'", anyElem("weakReasons", "ILIKE '%rc4%'")),
		discPG("weakReasons NOT LIKE '%RC4%'", anyElem("weakReasons", "NOT LIKE '%RC4%'")),
		discPG("weakReasons ~* '^protocol '", anyElem("weakReasons", "~* '^protocol '")),
		discPG("weakReasons !~ 'RC4'", anyElem("weakReasons", "!~ 'RC4'")),
		discPG("weakReasons = ''", anyElem("weakReasons", "= ''")),
		discPG(`weakReasons LIKE '%\%'`, anyElem("weakReasons", `LIKE '%\%'`)),
		discPG(`weakReasons LIKE 'a\\b'`, anyElem("weakReasons", `LIKE 'a\\b'`)),
		discPG("weakReasons ~* 'école'", anyElem("weakReasons", "~* 'école'")),
		discPG("NOT (weakReasons = 'cipher RC4')", "NOT "+anyElem("weakReasons", "= 'cipher RC4'")),
		// The same two filters against PostgreSQL's own = ANY / <> ANY, which anyElem mirrors.
		discPG("NOT (weakReasons = 'cipher RC4')", "NOT ('cipher RC4' = ANY (weakreasons))"),
		discPG("NOT (weakReasons != 'export')", "NOT ('export' <> ANY (weakreasons))"),
		discPG("NOT (weakReasons = '')", "NOT "+anyElem("weakReasons", "= ''")),
		discPG("NOT (weakReasons ~ 'RC4') AND weakCrypto = TRUE", "NOT "+anyElem("weakReasons", "~ 'RC4'")+" AND weakCrypto = TRUE"),
		disc("weakReasons IS NULL"),
		disc("weakReasons IS NOT NULL"),
		discPG("weakReasons = 'cipher RC4' AND weakCrypto = TRUE", anyElem("weakReasons", "= 'cipher RC4'")+" AND weakCrypto = TRUE"),
		discPG("weakReasons = 'cipher RC4' OR connectionCount > 2", anyElem("weakReasons", "= 'cipher RC4'")+" OR connectionCount > 2"),
		discPG("weakReasons IS NULL OR weakReasons = 'export'", "weakReasons IS NULL OR "+anyElem("weakReasons", "= 'export'")),
		certPG("certAltNames = 'example.com'", anyElem("certAltNames", "= 'example.com'")),
		certPG(`certAltNames ~* '(^|\.)example\.com$'`, anyElem("certAltNames", `~* '(^|\.)example\.com$'`)),
		certPG("certAltNames LIKE '%.example.com'", anyElem("certAltNames", "LIKE '%.example.com'")),
		certPG("certAltNames ILIKE '%ÉCOLE%'", anyElem("certAltNames", "ILIKE '%ÉCOLE%'")),
		cert("certAltNames IS NULL"),
		certPG("NOT (certAltNames = 'example.com')", "NOT "+anyElem("certAltNames", "= 'example.com'")),
		certPG("NOT (certAltNames = 'example.com')", "NOT ('example.com' = ANY (certaltnames))"),
		certPG("NOT (certAltNames LIKE '%example%')", "NOT "+anyElem("certAltNames", "LIKE '%example%'")),
		certPG("certAltNames != 'example.com'", anyElem("certAltNames", "<> 'example.com'")),
		certPG("certAltNames IN ('::1', '10.1.2.3')", anyElem("certAltNames", "IN ('::1', '10.1.2.3')")),
		certPG("certAltNames NOT IN ('example.com')", anyElem("certAltNames", "NOT IN ('example.com')")),
		certPG("certAltNames > 'm'", anyElem("certAltNames", "> 'm'")),
		certPG("certAltNames BETWEEN 'a' AND 'f'", anyElem("certAltNames", "BETWEEN 'a' AND 'f'")),
		certPG("certAltNames = ''", anyElem("certAltNames", "= ''")),
		certPG("certAltNames IS NOT NULL AND NOT (certAltNames LIKE '%')", "certAltNames IS NOT NULL AND NOT "+anyElem("certAltNames", "LIKE '%'")),
		certPG("certAltNames ~ 'o''brien'", anyElem("certAltNames", "~ 'o''brien'")),
	}
}

func certs() []filterCase {
	return []filterCase{
		cert("certCommonName ~* 'example'"),
		cert("certCommonName = 'ÉCOLE'"),
		cert("certCommonName IS NULL"),
		cert("certIssuerAsn1s ~* 'école'"),
		cert(`certIssuerAsn1s LIKE 'CN=a\\,b%'`),
		cert("certIssuerAsn1s LIKE '%Let''s%'"),
		cert("certIssuerAsn1s ILIKE '%strasse%'"),
		cert("certIssuerAsn1s LIKE 'CN=100\\% CA'"),
		cert("certSubjectAsn1s ILIKE 'cn=école%'"),
		cert(`certTxt ~* 'DNS:\s*([^.]+\.)*example\.com'`),
		cert("certTxt ~ 'Subject:.*Signature'"),
		cert(`certTxt ~ 'Subject: CN=\(none\)'`),
		cert("certTxt ~ '^Certificate:'"),
		cert(`certTxt ~ 'ecdsa-with-SHA384\n$'`),
		cert("certTxt ~ 'SHA384$'"),
		cert("certTxt ILIKE '%md5%'"),
		cert("certTxt IS NULL"),
		cert("certNotValidAfterEpochSecs < 1735689600"),
		cert("certNotValidAfterEpochSecs = 9223372036854775807"),
		cert("certNotValidBeforeEpochSecs < 0"),
		cert("certNotValidBeforeEpochSecs = -9223372036854775808"),
		cert("certNotValidAfterEpochSecs BETWEEN 0 AND 2147483647"),
		cert("certNotValidAfterEpochSecs > '1735689599'"),
		cert("certNotValidBeforeEpochSecs IS NULL OR certNotValidAfterEpochSecs IS NULL"),
		cert("certPublicKeyAlgo = 'RSA' AND certPublicKeySize < 2048"),
		cert("certPublicKeyAlgo ILIKE 'rsa'"),
		cert("certPublicKeySize IN (1024, 2048, NULL)"),
		cert("certCurve IS NULL AND certPublicKeyAlgo != 'RSA'"),
		cert("certCurve = ''"),
		cert("certIsCa = TRUE AND certSelfSigned = FALSE"),
		cert("certIsCa IS NULL OR certSelfSigned IS NULL"),
		cert("NOT (certIsCa = TRUE)"),
		cert("certSource IN ('traffic', 'file')"),
		cert("certSource NOT IN ('traffic', NULL)"),
		cert("certFirstSeen < TIMESTAMP '1970-01-01'"),
		cert("certLastSeen >= TIMESTAMP '2025-01-01T00:00:00Z'"),
		cert("certFirstSeen IS NULL"),
		cert("certServerCount > 1"),
		cert("certServerCount = 9223372036854775807"),
		cert("certFingerprint LIKE 'a%'"),
		cert("certFingerprint ~ '^[0-9a-f]{64}$'"),
		cert("certFingerprint > 'f'"),
		cert("certSerial = '00'"),
		cert("certSerial ~ '^0+$'"),
		cert("certSignatureAlgo ~* 'md5|sha1'"),
	}
}

// toPG applies the mechanical translations from the filter language to PostgreSQL:
// `op ANY (v1, v2)` becomes `op ANY (ARRAY[v1, v2])` (ANY (ARRAY[...]) stays), since PostgreSQL's ANY takes an
// array or a subquery. Everything else (unquoted camelCase names that fold to the
// lowercase columns, INET and TIMESTAMP literals, operators) is PostgreSQL already.
func toPG(filter string) string {
	var b strings.Builder
	for i := 0; i < len(filter); {
		if filter[i] == '\'' {
			j := skipString(filter, i)
			b.WriteString(filter[i:j])
			i = j
			continue
		}
		if isAnyKeyword(filter, i) {
			open := strings.IndexByte(filter[i:], '(') + i
			close := matchParen(filter, open)
			inner := filter[open+1 : close]
			b.WriteString(filter[i:open])
			if strings.HasPrefix(strings.ToUpper(strings.TrimSpace(inner)), "ARRAY") {
				b.WriteString("(" + inner + ")") // already PostgreSQL's form
			} else {
				b.WriteString("(ARRAY[" + inner + "])")
			}
			i = close + 1
			continue
		}
		b.WriteByte(filter[i])
		i++
	}
	return b.String()
}

// skipString returns the index just after the string literal starting at i.
func skipString(s string, i int) int {
	for j := i + 1; j < len(s); j++ {
		if s[j] == '\'' {
			if j+1 < len(s) && s[j+1] == '\'' {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(s)
}

// isAnyKeyword reports whether the word ANY followed by "(" starts at i.
func isAnyKeyword(s string, i int) bool {
	if len(s)-i < 3 || !strings.EqualFold(s[i:i+3], "ANY") {
		return false
	}
	if i > 0 && isIdent(s[i-1]) || i+3 < len(s) && isIdent(s[i+3]) {
		return false
	}
	rest := strings.TrimLeft(s[i+3:], " \t\n")
	return strings.HasPrefix(rest, "(")
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// matchParen returns the index of the parenthesis closing the one at open.
func matchParen(s string, open int) int {
	depth := 0
	for i := open; i < len(s); {
		switch s[i] {
		case '\'':
			i = skipString(s, i)
			continue
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i
			}
		}
		i++
	}
	return len(s) - 1
}
