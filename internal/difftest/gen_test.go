package difftest

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cipherscope/cipherscope/query"
)

// numGenerated is how many random filters the generator adds to the hand-written corpus.
const numGenerated = 220

// generator builds random filters, and their PostgreSQL text, from predicates over random
// fields combined with AND, OR and NOT. Values are drawn from the dataset itself (so that
// predicates select something) and from the boundary pools.
type generator struct {
	r       *rand.Rand
	samples map[query.Dataset]map[string][]any
}

// generate returns n filters, deterministic for a given dataset.
func generate(d *dataset, n int) []filterCase {
	g := &generator{r: rand.New(rand.NewPCG(seed, 2)), samples: map[query.Dataset]map[string][]any{
		query.Discovery: sampleValues(d.obs),
		query.Cert:      sampleValues(d.certs),
	}}
	var out []filterCase
	for i := 0; i < n; i++ {
		ds := query.Discovery
		if g.r.IntN(5) < 2 {
			ds = query.Cert
		}
		f, pg := g.expr(ds, 3)
		out = append(out, filterCase{ds: ds, filter: f, pg: pg, origin: fmt.Sprintf("gen #%d", i)})
	}
	return out
}

// sampleValues collects the distinct non-NULL values of every column, in a stable order.
func sampleValues(rows []row) map[string][]any {
	seen := map[string]map[string]bool{}
	out := map[string][]any{}
	for _, r := range rows {
		for k, v := range r {
			if v == nil {
				continue
			}
			key := fmt.Sprintf("%#v", v)
			if l, ok := v.(list); ok {
				key = renderList(l)
			}
			if seen[k] == nil {
				seen[k] = map[string]bool{}
			}
			if !seen[k][key] {
				seen[k][key] = true
				out[k] = append(out[k], v)
			}
		}
	}
	for k := range out {
		vs := out[k]
		sort.SliceStable(vs, func(i, j int) bool { return fmt.Sprintf("%#v", vs[i]) < fmt.Sprintf("%#v", vs[j]) })
	}
	return out
}

// expr returns a random boolean expression of at most the given depth.
func (g *generator) expr(ds query.Dataset, depth int) (string, string) {
	if depth == 0 || g.r.IntN(10) < 3 {
		return g.leaf(ds)
	}
	switch g.r.IntN(5) {
	case 0:
		f, p := g.expr(ds, depth-1)
		return "NOT (" + f + ")", "NOT (" + p + ")"
	case 1, 2:
		return g.join(ds, depth, " AND ")
	default:
		return g.join(ds, depth, " OR ")
	}
}

// join combines two or three operands; without parentheses around the operands half
// the time, so that SQL precedence between AND, OR and NOT is exercised.
func (g *generator) join(ds query.Dataset, depth int, op string) (string, string) {
	var fs, ps []string
	for i := 0; i < 2+g.r.IntN(2); i++ {
		f, p := g.expr(ds, depth-1)
		fs, ps = append(fs, f), append(ps, p)
	}
	f, p := strings.Join(fs, op), strings.Join(ps, op)
	if g.r.IntN(2) == 0 {
		return "(" + f + ")", "(" + p + ")"
	}
	return f, p
}

// leaf returns one predicate over a random field.
func (g *generator) leaf(ds query.Dataset) (string, string) {
	fields := query.Fields(ds)
	f := fields[g.r.IntN(len(fields))]
	if g.r.IntN(12) == 0 {
		not := pick(g.r, []string{"", " NOT"})
		s := f.Name + " IS" + not + " NULL"
		return s, s
	}
	switch f.Type {
	case query.String:
		s := g.stringPred(f.Name, g.stringValue(ds, f.Name))
		return s, s
	case query.StringList:
		return g.listPred(ds, f.Name)
	case query.Int:
		s := g.ordered(f.Name, func() string { return g.intValue(ds, f.Name) })
		return s, s
	case query.Bool:
		s := g.boolPred(f.Name)
		return s, s
	case query.Timestamp:
		s := g.ordered(f.Name, func() string { return g.tsValue(ds, f.Name) })
		return s, s
	case query.IP:
		return g.ipPred(ds, f.Name)
	}
	panic("difftest: no generator for " + string(f.Type))
}

// ordered is a comparison, BETWEEN or IN predicate over values from next.
func (g *generator) ordered(name string, next func() string) string {
	switch g.r.IntN(8) {
	case 0:
		return fmt.Sprintf("%s %sBETWEEN %s AND %s", name, g.maybeNot(), next(), next())
	case 1:
		vals := []string{next(), next()}
		if g.r.IntN(4) == 0 {
			vals = append(vals, "NULL")
		}
		return fmt.Sprintf("%s %sIN (%s)", name, g.maybeNot(), strings.Join(vals, ", "))
	}
	op := pick(g.r, []string{"=", "!=", "<>", "<", "<=", ">", ">="})
	return fmt.Sprintf("%s %s %s", name, op, next())
}

func (g *generator) maybeNot() string {
	if g.r.IntN(3) == 0 {
		return "NOT "
	}
	return ""
}

// stringPred is a predicate of any string operator class on a sample value s.
func (g *generator) stringPred(name, s string) string {
	switch g.r.IntN(6) {
	case 0:
		return g.ordered(name, func() string { return quote(g.mutate(s)) })
	case 1, 2:
		op := pick(g.r, []string{"LIKE", "ILIKE"})
		pat := g.likePattern(s)
		if op == "ILIKE" {
			pat = swapCase(g.r, pat)
		}
		return fmt.Sprintf("%s %s%s %s", name, g.maybeNot(), op, quote(pat))
	default:
		op := pick(g.r, []string{"~", "~*", "!~", "!~*"})
		pat := g.regexPattern(s)
		if strings.Contains(op, "*") {
			pat = swapCase(g.r, pat)
		}
		return fmt.Sprintf("%s %s %s", name, op, quote(pat))
	}
}

// mutate returns s or a near miss of it (case changed, truncated).
func (g *generator) mutate(s string) string {
	switch g.r.IntN(4) {
	case 0:
		return swapCase(g.r, s)
	case 1:
		return prefixRunes(s, g.r.IntN(utf8.RuneCountInString(s)+1))
	}
	return s
}

// likePattern is a LIKE pattern derived from s: the exact text, a prefix or infix with %,
// or with one character replaced by _. Literal parts are escaped with backslashes.
func (g *generator) likePattern(s string) string {
	runes := []rune(s)
	n := len(runes)
	switch g.r.IntN(4) {
	case 0:
		return likeEscape(s)
	case 1:
		return likeEscape(string(runes[:g.r.IntN(n+1)])) + "%"
	case 2:
		i := g.r.IntN(n + 1)
		j := i + g.r.IntN(n-i+1)
		return "%" + likeEscape(string(runes[i:j])) + "%"
	}
	if n == 0 {
		return "_%"
	}
	i := g.r.IntN(n)
	return likeEscape(string(runes[:i])) + "_" + likeEscape(string(runes[i+1:]))
}

// regexPattern is a regex matching a part of s, optionally anchored.
func (g *generator) regexPattern(s string) string {
	runes := []rune(s)
	n := len(runes)
	i := g.r.IntN(n + 1)
	j := i + g.r.IntN(n-i+1)
	p := regexp.QuoteMeta(string(runes[i:j]))
	if i == 0 && g.r.IntN(2) == 0 {
		p = "^" + p
	}
	if j == n && g.r.IntN(2) == 0 {
		p += "$"
	}
	if g.r.IntN(4) == 0 {
		p = strings.Replace(p, "a", "[a-c]", 1)
	}
	return p
}

// listPred is a predicate on a list field: the PostgreSQL text uses anyElem.
func (g *generator) listPred(ds query.Dataset, name string) (string, string) {
	var s string
	if l, ok := pick(g.r, g.samples[ds][name]).(list); ok && len(l) > 0 && l[0] != nil {
		s = *l[0]
	}
	f := g.stringPred(name, s)
	pred := strings.TrimPrefix(f, name+" ")
	return f, anyElem(name, pred)
}

func (g *generator) boolPred(name string) string {
	v := pick(g.r, []string{"TRUE", "FALSE", "'t'", "'false'"})
	op := pick(g.r, []string{"=", "!=", "<>"})
	return fmt.Sprintf("%s %s %s", name, op, v)
}

// stringValue is a sample value of a string field ("" when the field has none).
func (g *generator) stringValue(ds query.Dataset, name string) string {
	vs := g.samples[ds][name]
	if len(vs) == 0 {
		return ""
	}
	return pick(g.r, vs).(string)
}

// intValue is a sample or boundary integer; sometimes an untyped string or a decimal.
func (g *generator) intValue(ds query.Dataset, name string) string {
	var v int64
	switch vs := g.samples[ds][name]; {
	case len(vs) > 0 && g.r.IntN(3) > 0:
		v = pick(g.r, vs).(int64)
	default:
		v = pick(g.r, []int64{0, 1, 2, 3, 4, -1, 443, 1024, 65535, 1 << 31, 1 << 53, 1000000, 9223372036854775807})
	}
	switch g.r.IntN(8) {
	case 0:
		return fmt.Sprintf("'%d'", v)
	case 1:
		if v > -(1<<40) && v < 1<<40 {
			return fmt.Sprintf("%d.5", v)
		}
	}
	return fmt.Sprint(v)
}

// tsValue is a sample or boundary instant as a TIMESTAMP literal or an untyped string.
func (g *generator) tsValue(ds query.Dataset, name string) string {
	t := pick(g.r, tsPool)
	if vs := g.samples[ds][name]; len(vs) > 0 && g.r.IntN(2) == 0 {
		t = pick(g.r, vs).(time.Time)
	}
	if len(g.samples[ds][name]) == 0 && g.r.IntN(2) == 0 {
		// Aggregates have no samples: use observation times.
		t = pick(g.r, g.samples[query.Discovery][query.ObservedAtColumn]).(time.Time)
	}
	text := t.UTC().Format("2006-01-02T15:04:05.999999Z")
	if g.r.IntN(4) == 0 {
		return quote(text)
	}
	return "TIMESTAMP " + quote(text)
}

// ipPred is a network or comparison predicate on an ip field.
func (g *generator) ipPred(ds query.Dataset, name string) (string, string) {
	switch g.r.IntN(8) {
	case 0:
		a, b := g.prefix(ds, name), g.prefix(ds, name)
		f := fmt.Sprintf("%s <<= ANY (INET %s, INET %s)", name, quote(a), quote(b))
		return f, fmt.Sprintf("%s <<= ANY (ARRAY[INET %s, INET %s])", name, quote(a), quote(b))
	case 1:
		s := g.ordered(name, func() string { return "INET " + quote(g.host(ds, name)) })
		return s, s
	}
	op := pick(g.r, []string{"<<", "<<=", "<<=", ">>", ">>=", "&&"})
	s := fmt.Sprintf("%s %s INET %s", name, op, quote(g.prefix(ds, name)))
	return s, s
}

func (g *generator) host(ds query.Dataset, name string) string {
	if g.r.IntN(3) == 0 {
		return addr(g.r)
	}
	return pick(g.r, g.samples[ds][name]).(string)
}

// prefix is a prefix around a sample address, with host bits kept half the time.
func (g *generator) prefix(ds query.Dataset, name string) string {
	a := netip.MustParseAddr(g.host(ds, name))
	if g.r.IntN(8) == 0 && a.Is4() {
		a = netip.AddrFrom16(a.As16()) // the IPv4-mapped form: never inside an IPv4 prefix
	}
	bits := g.r.IntN(a.BitLen() + 1)
	p := netip.PrefixFrom(a, bits)
	if g.r.IntN(2) == 0 {
		p = p.Masked()
	}
	return p.String()
}

// quote renders s as a filter (and PostgreSQL) string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// likeEscape escapes LIKE's metacharacters with PostgreSQL's default escape, backslash.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// swapCase randomly changes the case of letters (ASCII and others).
func swapCase(r *rand.Rand, s string) string {
	var b strings.Builder
	for _, c := range s {
		if r.IntN(2) == 0 {
			if unicode.IsUpper(c) {
				c = unicode.ToLower(c)
			} else {
				c = unicode.ToUpper(c)
			}
		}
		b.WriteRune(c)
	}
	return b.String()
}

func prefixRunes(s string, n int) string {
	runes := []rune(s)
	return string(runes[:min(n, len(runes))])
}
