package native

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/cipherscope/cipherscope/ingest/internal/jsonlex"
)

// ndjsonScan takes a native NDJSON line apart without encoding/json: it checks that the
// line is one JSON object and finds the raw bytes of each member's value. Decoding each
// line into map[string]json.RawMessage and every string again was 80% of an NDJSON
// ingest. It declines (scan returns false) what it does not handle exactly like
// encoding/json (an escape in a key, anything after the object) and the line goes the
// slow way, which also words the errors.
type ndjsonScan struct {
	s       []byte
	i       int
	keys    []ndjsonMember
	vals    [][]byte       // raw value per schema column, nil when missing
	index   map[string]int // column name -> schema index
	unknown int            // index in keys of the first member that is not a column, or -1
}

type ndjsonMember struct {
	name, raw []byte
}

// bind sets the columns the members are matched with.
func (p *ndjsonScan) bind(s *arrow.Schema) {
	p.index = make(map[string]int, s.NumFields())
	for i, f := range s.Fields() {
		p.index[f.Name] = i
	}
	p.vals = make([][]byte, s.NumFields())
	p.match()
}

// has reports whether the scanned line has the key.
func (p *ndjsonScan) has(key string) bool {
	for _, k := range p.keys {
		if string(k.name) == key {
			return true
		}
	}
	return false
}

// match assigns the members to columns (the last of duplicate keys wins, as in a map).
func (p *ndjsonScan) match() {
	if p.index == nil {
		return
	}
	clear(p.vals)
	p.unknown = -1
	for n, k := range p.keys {
		i, ok := p.index[string(k.name)]
		if !ok {
			if p.unknown < 0 {
				p.unknown = n
			}
			continue
		}
		p.vals[i] = k.raw
	}
}

// scan takes a trimmed line apart.
func (p *ndjsonScan) scan(line []byte) bool {
	p.s, p.i, p.keys = line, 0, p.keys[:0]
	if p.peek() != '{' {
		return false
	}
	p.i++
	p.ws()
	if p.peek() == '}' {
		p.i++
	} else {
		for {
			key, esc, ok := p.memberKey()
			if !ok || esc || !utf8.Valid(key) {
				return false
			}
			start := p.i
			if !p.value(0) {
				return false
			}
			p.keys = append(p.keys, ndjsonMember{key, p.s[start:p.i]})
			p.ws()
			if p.peek() == ',' {
				p.i++
				continue
			}
			if p.peek() != '}' {
				return false
			}
			p.i++
			break
		}
	}
	if p.i != len(p.s) {
		return false // json.Unmarshal rejects trailing data
	}
	p.match()
	return true
}

// memberKey reads an object member's key and its colon, with the white space around
// them; esc reports an escape in the key.
func (p *ndjsonScan) memberKey() (key []byte, esc, ok bool) {
	p.ws()
	if p.peek() != '"' {
		return nil, false, false
	}
	if key, esc, ok = p.str(); !ok {
		return nil, false, false
	}
	p.ws()
	if p.peek() != ':' {
		return nil, false, false
	}
	p.i++
	p.ws()
	return key, esc, true
}

func (p *ndjsonScan) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *ndjsonScan) ws() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\r' || p.s[p.i] == '\n') {
		p.i++
	}
}

// maxDepth bounds nesting in values (no column holds more than a list).
const maxDepth = 64

// value checks one value of any kind.
func (p *ndjsonScan) value(depth int) bool {
	if depth > maxDepth {
		return false
	}
	switch c := p.peek(); {
	case c == '"':
		_, _, ok := p.str()
		return ok
	case c == '{' || c == '[':
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		p.i++
		p.ws()
		if p.peek() == end {
			p.i++
			return true
		}
		for {
			p.ws()
			if c == '{' {
				if _, _, ok := p.memberKey(); !ok {
					return false
				}
			}
			if !p.value(depth + 1) {
				return false
			}
			p.ws()
			if p.peek() == ',' {
				p.i++
				continue
			}
			if p.peek() != end {
				return false
			}
			p.i++
			return true
		}
	case c == 't':
		return p.lit("true")
	case c == 'f':
		return p.lit("false")
	case c == 'n':
		return p.lit("null")
	case c == '-' || ('0' <= c && c <= '9'):
		return p.number()
	}
	return false
}

func (p *ndjsonScan) lit(s string) bool {
	if bytes.HasPrefix(p.s[p.i:], []byte(s)) {
		p.i += len(s)
		return true
	}
	return false
}

func (p *ndjsonScan) number() bool {
	end, ok := jsonlex.Number(p.s, p.i)
	if ok {
		p.i = end
	}
	return ok
}

// str checks a string at p.i (its quote) and returns its raw content and whether it
// has escapes. Any byte from 0x20 on is allowed, as encoding/json's syntax check does.
func (p *ndjsonScan) str() (raw []byte, esc, ok bool) {
	start := p.i + 1
	for j := start; j < len(p.s); j++ {
		switch c := p.s[j]; {
		case c == '"':
			p.i = j + 1
			return p.s[start:j], esc, true
		case c == '\\':
			esc = true
			j++
			if j >= len(p.s) {
				return nil, false, false
			}
			switch p.s[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(p.s) || !isHex4(p.s[j+1:j+5]) {
					return nil, false, false
				}
				j += 4
			default:
				return nil, false, false
			}
		case c < 0x20:
			return nil, false, false
		}
	}
	return nil, false, false
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// plainString returns the content of a raw JSON string that needs no decoding (no
// escapes, valid UTF-8), and false for anything else.
func plainString(raw []byte) ([]byte, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return nil, false
	}
	v := raw[1 : len(raw)-1]
	if bytes.IndexByte(v, '\\') >= 0 || !utf8.Valid(v) {
		return nil, false
	}
	return v, true
}

// appendJSONBytes is appendJSON for a raw value found by ndjsonScan (nil: missing),
// without decoding what needs none.
func appendJSONBytes(b array.Builder, t arrow.DataType, raw []byte) error {
	if raw == nil || string(raw) == "null" {
		b.AppendNull()
		return nil
	}
	switch t.ID() {
	case arrow.STRING:
		if v, ok := plainString(raw); ok {
			b.(*array.StringBuilder).BinaryBuilder.Append(v) // "" is a value; null is NULL
			return nil
		}
	case arrow.TIMESTAMP, arrow.BINARY:
		if v, ok := plainString(raw); ok {
			return appendText(b, t, unsafe.String(unsafe.SliceData(v), len(v)))
		}
	case arrow.LIST:
		if l, ok := plainList(raw); ok {
			lb := b.(*array.ListBuilder)
			lb.Append(true)
			vb := lb.ValueBuilder().(*array.StringBuilder)
			for _, s := range l {
				vb.BinaryBuilder.Append(s)
			}
			return nil
		}
	default:
		return appendText(b, t, string(raw))
	}
	return appendJSON(b, t, json.RawMessage(raw))
}

// plainList returns the elements of a raw JSON array of plain strings (see plainString)
// written without spaces, as the native writers do, and false for anything else.
func plainList(raw []byte) ([][]byte, bool) {
	if len(raw) < 2 || raw[0] != '[' || raw[len(raw)-1] != ']' {
		return nil, false
	}
	in := raw[1 : len(raw)-1]
	if len(in) == 0 {
		return [][]byte{}, true
	}
	var out [][]byte
	for {
		if len(in) < 2 || in[0] != '"' {
			return nil, false
		}
		end := bytes.IndexByte(in[1:], '"')
		if end < 0 {
			return nil, false
		}
		v, ok := plainString(in[:end+2])
		if !ok {
			return nil, false
		}
		out = append(out, v)
		in = in[end+2:]
		if len(in) == 0 {
			return out, true
		}
		if in[0] != ',' {
			return nil, false
		}
		in = in[1:]
	}
}
