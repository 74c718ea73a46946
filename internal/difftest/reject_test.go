package difftest

import (
	"context"
	"strings"
	"testing"

	"github.com/cipherscope/cipherscope/query"
)

// rejectCase is a filter cipherscope must reject, with its exact error text
// ("filter:line:col: message"). pgRejects says whether PostgreSQL rejects it too; the
// others are accepted by PostgreSQL but outside the filter language by design (RE2 lacks
// backreferences and lookaround; field names are case-sensitive; PostgreSQL-only escapes).
type rejectCase struct {
	ds        query.Dataset
	filter    string
	want      string
	pgRejects bool
}

func rejectCases() []rejectCase {
	d, c := query.Discovery, query.Cert
	return []rejectCase{
		// type errors, rejected by PostgreSQL too
		{d, "serverPort = 'abc'", "filter:1:14: invalid input syntax for type int: 'abc'", true},
		{d, "serverPort = '443.0'", "filter:1:14: invalid input syntax for type int: '443.0'", true},
		{d, "serverName > 5", "filter:1:14: serverName is a string field; 5 is a number", true},
		{d, "serverPort ~ '4'", "filter:1:12: regular expression operator ~ needs a string field; serverPort is an int field", true},
		{d, "serverName <<= INET '10.0.0.0/8'", "filter:1:12: operator <<= needs an ip field; serverName is a string field", true},
		{d, "serverIp <<= INET 'not-an-ip'", "filter:1:14: invalid input syntax for type inet: 'not-an-ip'", true},
		{d, "serverIp <<= INET '10.0.0.0/33'", "filter:1:14: invalid input syntax for type inet: '10.0.0.0/33'", true},
		{d, "serverIp = 'example.com'", "filter:1:12: invalid input syntax for type inet: 'example.com'", true},
		{d, "serverIp = INET '10.1.2.3%eth0'", "filter:1:12: invalid input syntax for type inet: '10.1.2.3%eth0' (zones are not supported)", true},
		{d, "serverIp LIKE '10.%'", "filter:1:10: LIKE needs a string field; serverIp is an ip field", true},
		{d, "weakCrypto = 1", "filter:1:14: weakCrypto is a bool field; 1 is a number", true},
		{d, "weakCrypto = 'maybe'", "filter:1:14: invalid input syntax for type bool: 'maybe'", true},
		{d, "firstSeen > TIMESTAMP '2024-13-01'", "filter:1:13: timestamp '2024-13-01' is out of range (no such date or time)", true},
		{d, "firstSeen > TIMESTAMP '2024-02-30'", "filter:1:13: timestamp '2024-02-30' is out of range (no such date or time)", true},
		{d, "firstSeen ~ '2024'", "filter:1:11: regular expression operator ~ needs a string field; firstSeen is a timestamp field", true},
		{d, "connectionCount ~ '1'", "filter:1:17: regular expression operator ~ needs a string field; connectionCount is an int field", true},
		{c, "certAltNames <<= INET '10.0.0.0/8'", "filter:1:14: operator <<= needs an ip field; certAltNames is a list<string> field (predicates test its string elements)", true},
		// invalid patterns, rejected by both
		{d, `clientName LIKE '%\'`, "filter:1:19: LIKE pattern must not end with escape character", true},
		{d, "clientName ~ '(unclosed'", "filter:1:15: invalid regular expression: missing closing ): (unclosed", true},
		{d, "clientName ~ '[z-a]'", "filter:1:16: invalid regular expression: invalid character class range: z-a", true},
		{d, "clientName ~ 'a{2,1}'", "filter:1:16: invalid regular expression: invalid repeat count: {2,1}", true},
		{d, "clientName ~ '*a'", "filter:1:15: invalid regular expression: missing argument to repetition operator: *", true},
		// syntax and names, rejected by both
		{d, "unknownField = 1", "filter:1:1: unknown field \"unknownField\" in dataset discovery", true},
		{d, "serverName = 'x' AND", "filter:1:21: unexpected end of filter", true},
		{d, "serverName = 'unterminated", "filter:1:14: unterminated string literal", true},
		{d, "(serverPort = 443", "filter:1:18: unexpected end of filter", true},
		{d, "serverPort = 443 serverPort = 22", "filter:1:18: unexpected name \"serverPort\"", true},
		{d, "serverPort IN ()", "filter:1:16: unexpected \")\"", true},
		// accepted by PostgreSQL, outside the language by design
		{d, "firstSeen < TIMESTAMP '2024-06-01T02:00:00+02:00'", "filter:1:13: PostgreSQL ignores the time zone of a TIMESTAMP literal; write the time in UTC or use an untyped string such as '2024-06-01T02:00:00+02:00'", false},
		{d, `clientName ~ 'a\z'`, "filter:1:16: invalid regular expression: invalid escape \\z", true},
		{d, "clientName ~ 'a(?i)b'", "filter:1:16: regular expression options such as (?i) are allowed only at the start of the pattern", true},
		{d, "clientName ~ 'a{256}'", "filter:1:16: invalid regular expression: invalid repeat count: {256} (PostgreSQL allows at most 255)", true},
		{d, "clientName ~ '[[:nope:]]'", "filter:1:16: invalid regular expression: invalid character class [:nope:]", true},
		{d, "clientName ~ '[[.space.]]'", "filter:1:16: collating element or equivalence class [.space.] is not supported; only single characters are", false},
		{d, `clientName ~ '(a)\1'`, "filter:1:18: backreference \\1 is supported by PostgreSQL but not by cipherscope's regular expressions (RE2)", false},
		{d, "clientName ~ 'a(?=b)'", "filter:1:16: lookahead (?= is supported by PostgreSQL but not by cipherscope's regular expressions (RE2)", false},
		{d, "clientName ~ 'a(?!b)'", "filter:1:16: negative lookahead (?! is supported by PostgreSQL but not by cipherscope's regular expressions (RE2)", false},
		{d, "clientName ~ '(?<=a)b'", "filter:1:15: lookbehind (?<= is supported by PostgreSQL but not by cipherscope's regular expressions (RE2)", false},
		{d, `clientName ~ '\mfoo\M'`, "filter:1:15: word-boundary escape \\m is supported by PostgreSQL but not by cipherscope's regular expressions (RE2)", false},
		{d, `clientName ~ 'a\b'`, "filter:1:16: \\b means something else in PostgreSQL (backspace / backslash) than in RE2 (word boundary), so it is not accepted", false},
		{d, "serverport = 443", "filter:1:1: unknown field \"serverport\" in dataset discovery", false},
		{c, "certcommonname = 'x'", "filter:1:1: unknown field \"certcommonname\" in dataset cert", false},
	}
}

// checkRejected asserts cipherscope's exact error for each rejectCase, that the engine
// refuses it too, and whether PostgreSQL rejects it.
func (e *env) checkRejected(t *testing.T, ctx context.Context) {
	for _, rc := range rejectCases() {
		_, err := query.Analyze(query.Request{Dataset: rc.ds, Filter: rc.filter})
		switch {
		case err == nil:
			t.Errorf("%s: cipherscope accepts %q, want error %q", rc.ds, rc.filter, rc.want)
			continue
		case err.Error() != rc.want:
			t.Errorf("%s: %q\n  error: %q\n  want:  %q", rc.ds, rc.filter, err.Error(), rc.want)
		}
		names, types := columns(rc.ds)
		if _, err := engineRows(ctx, e.db, query.Request{Dataset: rc.ds, Filter: rc.filter, Columns: names}, types); err == nil {
			t.Errorf("%s: engine Select accepts %q", rc.ds, rc.filter)
		} else if !strings.Contains(err.Error(), rc.want) {
			t.Errorf("%s: engine Select error for %q is %q, want it to contain %q", rc.ds, rc.filter, err, rc.want)
		}
		pg := e.pgRun(ctx, filterCase{ds: rc.ds, filter: rc.filter})
		if (pg.err != nil) != rc.pgRejects {
			t.Errorf("%s: %q: PostgreSQL error %v, want rejected=%v", rc.ds, rc.filter, pg.err, rc.pgRejects)
		}
	}
}
