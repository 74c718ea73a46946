package zeek

import (
	"strconv"
	"strings"
)

// tsvHeader is what the #-lines of a Zeek ASCII log declare.
type tsvHeader struct {
	sep, setSep, empty, unset string
	fields, types             []string
	idx                       map[string]int
}

// header reads one #-line. Zeek writes "#separator \x09" with a space (the separator is
// not known yet); every later header line uses the declared separator.
func (p *parser) header(line int, text string) *LineError {
	if p.tsv == nil {
		p.tsv = &tsvHeader{sep: "\t", setSep: ",", empty: "(empty)", unset: "-"}
	}
	h := p.tsv
	if rest, ok := strings.CutPrefix(text, "#separator"); ok {
		v := unescape(strings.TrimLeft(rest, " \t"))
		if v == "" {
			return &LineError{File: p.file, Line: line, Field: "#separator", Value: rest, Reason: "empty separator"}
		}
		h.sep = v
		return nil
	}
	key, val, _ := strings.Cut(text, h.sep)
	switch key {
	case "#set_separator":
		h.setSep = unescape(val)
	case "#empty_field":
		h.empty = unescape(val)
	case "#unset_field":
		h.unset = unescape(val)
	case "#path":
		p.kind = kindOfPath(val)
	case "#fields":
		h.fields = strings.Split(val, h.sep)
		h.idx = make(map[string]int, len(h.fields))
		for i, f := range h.fields {
			h.idx[f] = i
		}
		if p.kind == Unknown {
			p.kind = kindOfFields(func(n string) bool { _, ok := h.idx[n]; return ok })
		}
	case "#types":
		h.types = strings.Split(val, h.sep)
	}
	return nil // #open, #close and unknown comments carry nothing we need
}

// row splits a data line by the header's separator and decodes every value.
func (h *tsvHeader) row(file string, line int, text string) (*Row, *LineError) {
	if h.fields == nil {
		return nil, &LineError{File: file, Line: line, Value: text, Reason: "data line before the #fields header"}
	}
	parts := strings.Split(text, h.sep)
	if len(parts) != len(h.fields) {
		return nil, &LineError{File: file, Line: line, Value: text,
			Reason: "has " + strconv.Itoa(len(parts)) + " fields, the #fields header " + strconv.Itoa(len(h.fields))}
	}
	vals := make([]Value, len(parts))
	for i, raw := range parts {
		vals[i] = h.value(raw, i)
	}
	return &Row{File: file, Line: line, idx: h.idx, vals: vals}, nil
}

// value decodes one raw TSV cell. The unset and empty markers are compared before
// unescaping: a literal "-" string is written as \x2d and stays a string.
func (h *tsvHeader) value(raw string, i int) Value {
	container := i < len(h.types) && isContainer(h.types[i])
	switch {
	case raw == h.unset:
		return Value{IsList: container}
	case raw == h.empty && container:
		return Value{Set: true, IsList: true, List: []string{}}
	case raw == h.empty:
		return Value{Set: true}
	case container:
		elems := strings.Split(raw, h.setSep)
		for j, e := range elems {
			elems[j] = unescape(e)
		}
		return Value{Set: true, IsList: true, List: elems}
	}
	return Value{Set: true, Str: unescape(raw)}
}

func isContainer(typ string) bool {
	return strings.HasPrefix(typ, "set[") || strings.HasPrefix(typ, "vector[") || strings.HasPrefix(typ, "table[")
}

// unescape undoes Zeek's ASCII escaping: \xNN is a byte and \\ a backslash. Any other
// backslash is kept as is, so DN escapes such as "\," survive (Zeek writes them "\\,").
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			switch {
			case s[i+1] == '\\':
				b.WriteByte('\\')
				i++
				continue
			case s[i+1] == 'x' && i+3 < len(s)+0 && isHex(s[i+2]) && isHex(s[i+3]):
				n, _ := strconv.ParseUint(s[i+2:i+4], 16, 8)
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

func isHex(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}
