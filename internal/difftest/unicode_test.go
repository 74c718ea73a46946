package difftest

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"sort"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2" // the "duckdb" database/sql driver
	"github.com/jackc/pgx/v5"

	"github.com/cipherscope/cipherscope/internal/pgctype"
)

// The Unicode part of the differential test: PostgreSQL's character tables are measured
// again and compared with the checked-in query/zz_pgctype.go, DuckDB's lower() is measured
// against them where cipherscope relies on DuckDB's ILIKE, and a dataset with one flow per
// interesting code point (every character with a case mapping, both sides of every class
// boundary) is run through case-insensitive and class filters.

// ctypeFile is the generated table file, relative to this package.
const ctypeFile = "../../query/zz_pgctype.go"

// fetchCtype measures PostgreSQL's tables on the test server.
func (e *env) fetchCtype(t *testing.T, ctx context.Context) *pgctype.Tables {
	t.Helper()
	tables, err := pgctype.Fetch(ctx, e.pg)
	if err != nil {
		t.Fatalf("measure PostgreSQL character tables: %v", err)
	}
	return tables
}

// checkCtypeFile fails when the checked-in tables differ from the server's.
func checkCtypeFile(t *testing.T, ctx context.Context, conn *pgx.Conn, tables *pgctype.Tables) {
	v, err := pgctype.Version(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	want, err := pgctype.Render(tables, v)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(ctypeFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s's tables; run `go run -tags duckdb_arrow ./internal/pgctype/gen -out query/zz_pgctype.go`", ctypeFile, v)
	}
}

// checkDuckDBLower measures DuckDB's lower() on every code point and checks the premise
// of query's ILIKE fast path: for every ASCII character c, DuckDB's ILIKE matches the
// same characters as PostgreSQL's, {x : lower(x) == lower(c)}.
func checkDuckDBLower(t *testing.T, ctx context.Context, tables *pgctype.Tables) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT c, unicode(lower(chr(c::INTEGER))) AS l FROM range(1, 1114112) t(c)
		WHERE (c < 55296 OR c > 57343) AND unicode(lower(chr(c::INTEGER))) <> c`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	duck := map[rune]rune{}
	for rows.Next() {
		var c, l int64
		if err := rows.Scan(&c, &l); err != nil {
			t.Fatal(err)
		}
		duck[rune(c)] = rune(l)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	pg := map[rune]rune{}
	for _, p := range tables.Lower {
		pg[p[0]] = p[1]
	}
	for c := rune(1); c < 0x80; c++ {
		if a, b := preimage(duck, c), preimage(pg, c); fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("ILIKE on %q: DuckDB matches %U, PostgreSQL %U", c, a, b)
		}
	}
}

// preimage returns {x : lower(x) == lower(c)} for a lowercase mapping m (absent: identity).
func preimage(m map[rune]rune, c rune) []rune {
	low := func(x rune) rune {
		if l, ok := m[x]; ok {
			return l
		}
		return x
	}
	l := low(c)
	var out []rune
	if low(l) == l {
		out = append(out, l)
	}
	for x, y := range m {
		if y == l && x != l {
			out = append(out, x)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// unicodeCodePoints returns every code point with a case mapping (and its images) and
// the code points on both sides of every class boundary, sorted.
func unicodeCodePoints(tables *pgctype.Tables) []rune {
	set := map[rune]bool{}
	for _, ps := range [][][2]rune{tables.Upper, tables.Lower} {
		for _, p := range ps {
			set[p[0]], set[p[1]] = true, true
		}
	}
	for _, r := range tables.Class {
		for i := 0; i < len(r); i += 2 {
			for _, c := range []rune{r[i] - 1, r[i], r[i+1], r[i+1] + 1} {
				set[c] = true
			}
		}
	}
	var out []rune
	for c := range set {
		if c >= 1 && c <= pgctype.MaxRune && (c < 0xD800 || c > 0xDFFF) {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// unicodeDataset has one flow with one observation per code point, whose clientName is
// that character alone; the other columns copy an observation of the main dataset.
func unicodeDataset(main *dataset, tables *pgctype.Tables) *dataset {
	tmpl := main.obs[0]
	d := &dataset{certs: main.certs[:1]}
	for i, c := range unicodeCodePoints(tables) {
		o := row{}
		for k, v := range tmpl {
			o[k] = v
		}
		o["obsUid"] = fmt.Sprintf("uni-%07d", i)
		o["clientName"] = string(c)
		d.obs = append(d.obs, o)
	}
	return d
}

// unicodeChars are the characters whose case-insensitive filters are checked one by one:
// the folding-orbit and titlecase letters where RE2's or DuckDB's rules differ from
// glibc's, plus a sample of ordinary ones.
var unicodeChars = []string{
	"a", "i", "I", "k", "K", "s", "S", "y", "ß", "ẞ", "ſ", "İ", "ı", "\u212a", "Å", "\u212b", "å",
	"σ", "ς", "Σ", "ǅ", "ǆ", "Ǆ", "ǈ", "ǲ", "µ", "μ", "Μ", "ÿ", "Ÿ", "ϐ", "β", "ϑ", "θ", "ϴ",
	"ι", "\u0345", "\u1fbe", "Ω", "\u2126", "ω", "ﬀ", "ᲀ", "в", "ꙋ", "ᾳ", "ᾼ", "ǰ", "ɐ", "Ɐ",
	"ꞵ", "Ꞵ", "𐐀", "𐐨", "𞤀", "𞤢", "Ⓐ", "ⓐ", "ǝ", "Ǝ", "ȿ", "Ȿ", "é", "É", "ⅰ", "Ⅰ",
}

// unicodeCorpus returns the filters of the Unicode dataset.
func unicodeCorpus() []filterCase {
	var cs []filterCase
	for _, c := range unicodeChars {
		cs = append(cs, disc("clientName ~* '"+c+"'"), disc("clientName ILIKE '"+c+"'"),
			disc("clientName ~* '["+c+"]'"), disc("clientName !~* '[^"+c+"]'"))
	}
	for _, cl := range []string{"alpha", "upper", "lower", "digit", "alnum", "space", "punct", "xdigit", "cntrl", "print", "graph", "blank", "word"} {
		cs = append(cs, disc("clientName ~ '[[:"+cl+":]]'"), disc("clientName ~ '[^[:"+cl+":]]'"))
	}
	for _, f := range []string{
		`clientName ~* '[[:upper:]]'`, `clientName ~* '[[:lower:]]'`, `clientName ~* '[^[:upper:]]'`,
		`clientName ~ '\w'`, `clientName ~ '\W'`, `clientName ~ '\s'`, `clientName ~ '\S'`, `clientName ~ '\d'`,
		`clientName ~ '\D'`, `clientName ~ '[\w]'`, `clientName ~ '[^\W]'`, `clientName ~ '[\s\d]'`,
		`clientName ~* '[a-z]'`, `clientName ~* '[^a-z]'`, `clientName ~* '[A-Z]'`, `clientName ~* '[À-ÿ]'`,
		`clientName ~* '[Ā-ɏ]'`, `clientName ~ '[Ā-ɏ]'`, `clientName ~* '[Ͱ-Ͽ]'`, `clientName ~* '[Ⰰ-ⱟ]'`,
		`clientName ~* '[[=a=]]'`, `clientName ~* '[[=ǅ=]]'`, `clientName ~ '[[.a.]-[.z.]]'`,
		`clientName ~* '(?c)ǅ'`, `clientName ~ '(?i)ǅ'`, `clientName ~* '^.$'`, `clientName ~* 'ǅ|ß'`,
		`clientName ILIKE '_'`, `clientName ILIKE 'ǅ%'`, `clientName ILIKE '\ǅ'`, `clientName NOT ILIKE 'ß'`,
		`clientName ~* '[[:alpha:][:punct:]]'`, `clientName ~ '[^[:alnum:][:space:]]'`,
	} {
		cs = append(cs, disc(f))
	}
	for i := range cs {
		cs[i].origin = "unicode"
	}
	return cs
}
