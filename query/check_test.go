package query

import (
	"errors"
	"reflect"
	"testing"
)

type wantErr struct {
	kind   ErrorKind
	offset int
	token  string
	msg    string
	hint   string
}

// checkErrors lists filters that parse but do not check, with every expected error.
var checkErrors = []struct {
	ds     Dataset
	filter string
	want   []wantErr
}{
	{Discovery, "cipherSuit = 'x'", []wantErr{{UnknownFieldError, 0, "cipherSuit", `unknown field "cipherSuit" in dataset discovery`, "did you mean cipherSuite, cipherAuth, cipherKex?"}}},
	{Discovery, "certTxt ~ 'x'", []wantErr{{UnknownFieldError, 0, "certTxt", `unknown field "certTxt" in dataset discovery`, "certTxt is a field of the cert dataset"}}},
	{Discovery, "serverip = '10.0.0.1' OR zzzzzzzz = 1", []wantErr{
		{UnknownFieldError, 0, "serverip", `unknown field "serverip" in dataset discovery`, "did you mean serverIp, serverName, serverPort?"},
		{UnknownFieldError, 25, "zzzzzzzz", `unknown field "zzzzzzzz" in dataset discovery`, ""}}},
	{Discovery, "serverPort ~ '44'", []wantErr{{TypeError, 11, "~", "regular expression operator ~ needs a string field; serverPort is an int field", ""}}},
	{Discovery, "serverIp LIKE '10.%'", []wantErr{{TypeError, 9, "LIKE", "LIKE needs a string field; serverIp is an ip field", ""}}},
	{Discovery, "firstSeen NOT ILIKE '2026%'", []wantErr{{TypeError, 10, "NOT ILIKE", "NOT ILIKE needs a string field; firstSeen is a timestamp field", ""}}},
	{Discovery, "weakCrypto ~* 'x'", []wantErr{{TypeError, 11, "~*", "regular expression operator ~* needs a string field; weakCrypto is a bool field", ""}}},
	{Discovery, "serviceName <<= '10.0.0.0/8'", []wantErr{{TypeError, 12, "<<=", "operator <<= needs an ip field; serviceName is a string field", ""}}},
	{Discovery, "serverPort && ANY ('1.2.3.4', '1.2.3.5')", []wantErr{{TypeError, 11, "&&", "operator && needs an ip field; serverPort is an int field", ""}}},
	{Discovery, "firstSeen > 'yesterday'", []wantErr{{TypeError, 12, "'yesterday'", "invalid timestamp 'yesterday'; use RFC 3339 (2026-01-02T15:04:05Z), YYYY-MM-DD or YYYY-MM-DD HH:MM:SS[.ffffff][+hh:mm]", ""}}},
	{Discovery, "firstSeen > '2026-02-30'", []wantErr{{TypeError, 12, "'2026-02-30'", "timestamp '2026-02-30' is out of range (no such date or time)", ""}}},
	{Discovery, "firstSeen > 5", []wantErr{{TypeError, 12, "5", "firstSeen is a timestamp field; 5 is a number", "write a time as TIMESTAMP '2026-01-02T15:04:05Z' or '2026-01-02'"}}},
	{Discovery, "serviceName = 443", []wantErr{{TypeError, 14, "443", "serviceName is a string field; 443 is a number", "quote text values: '443'"}}},
	{Discovery, "serverPort = 'https'", []wantErr{{TypeError, 13, "'https'", "invalid input syntax for type int: 'https'", ""}}},
	{Discovery, "serverPort = 99999999999999999999", []wantErr{{TypeError, 13, "99999999999999999999", "number 99999999999999999999 is out of range for int field serverPort (64-bit)", ""}}},
	{Discovery, "serverPort > '99999999999999999999'", []wantErr{{TypeError, 13, "'99999999999999999999'", "value '99999999999999999999' is out of range for type int (64-bit)", ""}}},
	{Discovery, "serverPort = 1e999", []wantErr{{TypeError, 13, "1e999", "number 1e999 is out of range", ""}}},
	{Discovery, "serverPort = TRUE", []wantErr{{TypeError, 13, "TRUE", "serverPort is an int field; TRUE is a boolean", "use a number"}}},
	{Discovery, "weakCrypto = 'maybe'", []wantErr{{TypeError, 13, "'maybe'", "invalid input syntax for type bool: 'maybe'", ""}}},
	{Discovery, "serverIp = '10.0.0.256'", []wantErr{{TypeError, 11, "'10.0.0.256'", "invalid input syntax for type inet: '10.0.0.256'", ""}}},
	{Discovery, "serverIp <<= '10.0.0.0/33'", []wantErr{{TypeError, 13, "'10.0.0.0/33'", "invalid input syntax for type inet: '10.0.0.0/33'", ""}}},
	{Discovery, "serverIp = 'fe80::1%eth0'", []wantErr{{TypeError, 11, "'fe80::1%eth0'", "invalid input syntax for type inet: 'fe80::1%eth0' (zones are not supported)", ""}}},
	{Discovery, "serverIp = 167772161", []wantErr{{TypeError, 11, "167772161", "serverIp is an ip field; 167772161 is a number", "write an address as INET '10.0.0.1' or INET '10.0.0.0/8'"}}},
	{Discovery, "serverName = INET '10.0.0.1'", []wantErr{{TypeError, 13, "INET '10.0.0.1'", "serverName is a string field; INET '10.0.0.1' is an INET value", "quote text values: '10.0.0.1'"}}},
	{Discovery, "weakReasons = 1", []wantErr{{TypeError, 14, "1", "weakReasons is a list<string> field (predicates test its string elements); 1 is a number", "quote text values: '1'"}}},
	{Discovery, "serverPort BETWEEN 'a' AND TRUE", []wantErr{
		{TypeError, 19, "'a'", "invalid input syntax for type int: 'a'", ""},
		{TypeError, 27, "TRUE", "serverPort is an int field; TRUE is a boolean", "use a number"}}},
	{Discovery, "serverPort IN (1, 'x', 2.5)", []wantErr{{TypeError, 18, "'x'", "invalid input syntax for type int: 'x'", ""}}},
	{Discovery, "serverName", []wantErr{{TypeError, 0, "serverName", "serverName is a string field, not a condition", "compare it with a value, e.g. serverName = ..., or test serverName IS NOT NULL"}}},
	{Discovery, "serverName ~ '(a)\\1'", []wantErr{{TypeError, 17, `\1`, `backreference \1 is supported by PostgreSQL but not by cipherscope's regular expressions (RE2)`, "RE2 has no backreferences; match the text explicitly"}}},
	{Discovery, "serverName ~ 'it''s(?=x)'", []wantErr{{TypeError, 19, "(?=", "lookahead (?= is supported by PostgreSQL but not by cipherscope's regular expressions (RE2)", "rewrite the pattern without lookaround, or combine two predicates with AND NOT"}}},
	{Discovery, "serverName ~ '(?<!a)b'", []wantErr{{TypeError, 14, "(?<!", "negative lookbehind (?<! is supported by PostgreSQL but not by cipherscope's regular expressions (RE2)", "rewrite the pattern without lookaround, or combine two predicates with AND NOT"}}},
	{Discovery, "serverName ~ '(?<=a)b'", []wantErr{{TypeError, 14, "(?<=", "lookbehind (?<= is supported by PostgreSQL but not by cipherscope's regular expressions (RE2)", "rewrite the pattern without lookaround, or combine two predicates with AND NOT"}}},
	{Discovery, "serverName ~ '(?!a)b'", []wantErr{{TypeError, 14, "(?!", "negative lookahead (?! is supported by PostgreSQL but not by cipherscope's regular expressions (RE2)", "rewrite the pattern without lookaround, or combine two predicates with AND NOT"}}},
	{Discovery, "serverName ~ '[(?=]\\yx'", []wantErr{{TypeError, 19, `\y`, `word-boundary escape \y is supported by PostgreSQL but not by cipherscope's regular expressions (RE2)`, `use \b (word boundary) or \B`}}},
	{Discovery, "serverName ~ 'a\\bc'", []wantErr{{TypeError, 15, `\b`, `\b means something else in PostgreSQL (backspace / backslash) than in RE2 (word boundary), so it is not accepted`, "for a word boundary use (^|[^[:alnum:]_]) or write the character itself"}}},
	{Discovery, "serverName ~ '(?m)^a'", []wantErr{{TypeError, 14, "(?m", "regular expression option or group (?m is not supported", "only (?:...), (?i), (?c) and (?s) are accepted"}}},
	{Discovery, "serverName ~ 'a(b'", []wantErr{{TypeError, 14, "a(b", "invalid regular expression: missing closing ): a(b", ""}}},
	{Discovery, "serverName ~ 'x**'", []wantErr{{TypeError, 15, "**", "invalid regular expression: invalid nested repetition operator: **", ""}}},
	{Discovery, "serverName ~ 5", []wantErr{{TypeError, 13, "5", "a regular expression must be a string; 5 is a number", ""}}},
	{Discovery, "serverName LIKE 'abc\\'", []wantErr{{TypeError, 20, `\`, "LIKE pattern must not end with escape character", `write \\ for a literal backslash`}}},
	{Cert, "certIsCa = 'x' AND certNotValidAfterEpochSecs < '2026-01-01'", []wantErr{
		{TypeError, 11, "'x'", "invalid input syntax for type bool: 'x'", ""},
		{TypeError, 48, "'2026-01-01'", "invalid input syntax for type int: '2026-01-01'", ""}}},
}

func TestCheckErrors(t *testing.T) {
	for _, tc := range checkErrors {
		e, err := Parse(tc.filter)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.filter, err)
			continue
		}
		_, err = Check(tc.ds, tc.filter, e)
		var list ErrorList
		if !errors.As(err, &list) {
			t.Errorf("Check(%q) = %v, want errors", tc.filter, err)
			continue
		}
		var got []wantErr
		for _, e := range list {
			got = append(got, wantErr{e.Kind, e.Offset, e.Token, e.Message, e.Hint})
			if e.Param != ParamFilter || e.Line != 1 || e.Column != e.Offset+1-nonASCII(tc.filter[:e.Offset]) {
				t.Errorf("Check(%q): param %q line %d column %d", tc.filter, e.Param, e.Line, e.Column)
			}
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Check(%q):\n got %+v\nwant %+v", tc.filter, got, tc.want)
		}
	}
}

func nonASCII(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i]&0xC0 == 0x80 {
			n++
		}
	}
	return n
}

func TestCheckAcceptsUntypedLiterals(t *testing.T) {
	for _, f := range []string{
		"serverPort = '443'", "serverPort = ' +443 '", "serverPort > 1.5", "serverPort = 1e3",
		"firstSeen > '2026-01-01'", "firstSeen > '2026-01-01 10:00:00.123456+02'", "lastSeen < '2026-01-01T10:00:00Z'",
		"firstSeen BETWEEN TIMESTAMP '2026-01-01' AND '2026-02-01 00:00'",
		"serverIp = '10.0.0.1'", "serverIp <<= '10.1.2.3/8'", "clientIp IN ('::1', INET '10.0.0.1', NULL)",
		"weakCrypto = 'yes'", "weakCrypto = 't'", "pqcKex <> 'off'", "weakCrypto = NULL",
		"weakReasons = 'export' OR weakReasons ~ 'RC4' OR weakReasons IS NULL",
		"serverName ~ '(?i)abc' AND serverName ~ '[[:alpha:]]+\\d' AND serverName ~ '[]a]' AND serverName ~ '[^]\\d]'",
	} {
		e, err := Parse(f)
		if err == nil {
			_, err = Check(Discovery, f, e)
		}
		if err != nil {
			t.Errorf("%q: %v", f, err)
		}
	}
}
