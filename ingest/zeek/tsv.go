package zeek

import (
	"bytes"
	"strconv"
	"strings"
)

// tsvHeader is what the #-lines of a Zeek ASCII log declare.
type tsvHeader struct {
	sep, setSep, empty, unset []byte
	fields, types             []string
	// slot is the field each column fills (numFields for columns not read); container
	// marks set/vector/table columns.
	slot      []field
	container []bool
}

// header reads one #-line. Zeek writes "#separator \x09" with a space (the separator is
// not known yet); every later header line uses the declared separator.
func (p *parser) header(line int, text []byte) *LineError {
	if p.tsv == nil {
		p.tsv = &tsvHeader{sep: []byte("\t"), setSep: []byte(","), empty: []byte("(empty)"), unset: []byte("-")}
	}
	h := p.tsv
	if rest, ok := bytes.CutPrefix(text, []byte("#separator")); ok {
		v := unescape(string(bytes.TrimLeft(rest, " \t")))
		if v == "" {
			return &LineError{File: p.file, Line: line, Field: "#separator", Value: string(rest), Reason: "empty separator"}
		}
		h.sep = []byte(v)
		return nil
	}
	key, val, _ := strings.Cut(string(text), string(h.sep))
	switch key {
	case "#set_separator":
		h.setSep = []byte(unescape(val))
	case "#empty_field":
		h.empty = []byte(unescape(val))
	case "#unset_field":
		h.unset = []byte(unescape(val))
	case "#path":
		p.kind = kindOfPath(val)
	case "#fields":
		h.fields = strings.Split(val, string(h.sep))
		h.slot = make([]field, len(h.fields))
		for i, f := range h.fields {
			s, ok := fieldByName[f]
			if !ok {
				s = numFields
			}
			h.slot[i] = s
		}
		h.containers()
		if p.kind == Unknown {
			p.kind = kindOfFields(func(f field) bool {
				for _, s := range h.slot {
					if s == f {
						return true
					}
				}
				return false
			})
		}
	case "#types":
		h.types = strings.Split(val, string(h.sep))
		h.containers()
	}
	return nil // #open, #close and unknown comments carry nothing we need
}

// containers recomputes which columns are containers from #types.
func (h *tsvHeader) containers() {
	h.container = make([]bool, len(h.fields))
	for i := range h.container {
		h.container[i] = i < len(h.types) && isContainer(h.types[i])
	}
}

// row splits a data line by the header's separator and decodes the columns read.
func (h *tsvHeader) row(r *row, text []byte) *LineError {
	if h.fields == nil {
		return &LineError{File: r.file, Line: r.line, Value: string(text), Reason: "data line before the #fields header"}
	}
	n := len(h.fields)
	if got := bytes.Count(text, h.sep) + 1; got != n {
		return &LineError{File: r.file, Line: r.line, Value: string(text),
			Reason: "has " + strconv.Itoa(got) + " fields, the #fields header " + strconv.Itoa(n)}
	}
	rest := text
	for i := range n {
		cell, tail, _ := cut(rest, h.sep)
		if f := h.slot[i]; f < numFields {
			h.value(r, f, cell, h.container[i])
		}
		rest = tail
	}
	return nil
}

// cut is bytes.Cut with a fast path for one-byte separators.
func cut(s, sep []byte) (before, after []byte, found bool) {
	var i int
	if len(sep) == 1 {
		i = bytes.IndexByte(s, sep[0])
	} else {
		i = bytes.Index(s, sep)
	}
	if i < 0 {
		return s, nil, false
	}
	return s[:i], s[i+len(sep):], true
}

// value decodes one raw TSV cell. The unset and empty markers are compared before
// unescaping: a literal "-" string is written as \x2d and stays a string.
func (h *tsvHeader) value(r *row, f field, raw []byte, container bool) {
	switch {
	case bytes.Equal(raw, h.unset):
		r.setUnset(f)
	case container && bytes.Equal(raw, h.empty):
		r.setList(f, len(r.elems))
	case bytes.Equal(raw, h.empty):
		r.setScalar(f, raw[:0])
	case container:
		start := len(r.elems)
		for {
			e, tail, more := cut(raw, h.setSep)
			r.elems = append(r.elems, r.unescapeTo(e))
			if !more {
				break
			}
			raw = tail
		}
		r.setList(f, start)
	default:
		r.setScalar(f, r.unescapeTo(raw))
	}
}

// unescapeTo returns b unescaped: b itself when it has no backslash, else a copy in
// r.buf.
func (r *row) unescapeTo(b []byte) []byte {
	if bytes.IndexByte(b, '\\') < 0 {
		return b
	}
	start := len(r.buf)
	r.buf = appendUnescaped(r.buf, b)
	return r.buf[start:len(r.buf):len(r.buf)]
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
	return string(appendUnescaped(nil, []byte(s)))
}

func appendUnescaped(dst, s []byte) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			switch {
			case s[i+1] == '\\':
				dst = append(dst, '\\')
				i++
				continue
			case s[i+1] == 'x' && i+3 < len(s) && isHex(s[i+2]) && isHex(s[i+3]):
				dst = append(dst, unhex(s[i+2])<<4|unhex(s[i+3]))
				i += 3
				continue
			}
		}
		dst = append(dst, c)
	}
	return dst
}

func isHex(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
