package difftest

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/cipherscope/cipherscope/query"
)

// A row's canonical text is the same for both sides: strings Go-quoted (so NULL, '' and
// 'NULL' differ), integers in decimal, ip addresses as quoted net/netip text (PostgreSQL's
// inet is re-rendered through net/netip, cipherscope's text is taken as it comes, so a
// non-canonical address from cipherscope is a mismatch), timestamps as UTC RFC 3339 with
// microseconds, lists as [e1, e2] with NULL elements.

// renderRow joins the canonical texts of a row's values.
func renderRow(types []query.Type, vals []any) string {
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = renderValue(types[i], v)
	}
	return strings.Join(parts, " | ")
}

// renderValue is the canonical text of one value of a field of type t.
func renderValue(t query.Type, v any) string {
	if v == nil {
		return "NULL"
	}
	switch x := v.(type) {
	case string:
		if t == query.Int {
			return x // a wide integer already in decimal
		}
		return strconv.Quote(x)
	case netip.Prefix:
		return strconv.Quote(x.Addr().String())
	case netip.Addr:
		return strconv.Quote(x.String())
	case int64:
		return strconv.FormatInt(x, 10)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		return x.UTC().Format("2006-01-02T15:04:05.000000Z")
	case list:
		return renderList(x)
	case []any:
		return renderAnyList(x)
	}
	return fmt.Sprintf("?%T(%v)", v, v)
}

func renderList(l list) string {
	parts := make([]string, len(l))
	for i, e := range l {
		if e == nil {
			parts[i] = "NULL"
		} else {
			parts[i] = strconv.Quote(*e)
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// renderAnyList renders a text[] as pgx decodes it ([]any of string or nil).
func renderAnyList(l []any) string {
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = renderValue(query.String, e)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
