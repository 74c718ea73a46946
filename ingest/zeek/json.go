package zeek

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/cipherscope/cipherscope/ingest/internal/jsonlex"
)

// parseJSON decodes one JSON line into r. Nested objects (Zeek's JSON writer without
// flattening, e.g. "id": {"orig_h": ...}) become dotted names like the flattened form.
//
// A hand-rolled scanner handles what Zeek writes (flat or nested objects of strings,
// numbers, booleans, null and arrays of scalars) without reflection, maps or per-field
// allocations: encoding/json into map[string]any cost ~60% of a Zeek JSON ingest. It
// gives up on anything unusual (an escape in a key, \u escapes, invalid UTF-8, nested
// arrays, syntax errors) and the line is decoded again with encoding/json, which defines
// the semantics and the error messages (TestJSONFastMatchesSlow keeps the two in step).
func parseJSON(r *row, text []byte) *LineError {
	s := jsonScan{s: text, r: r, name: r.name[:0]}
	ok := s.top()
	r.name = s.name[:0]
	if ok {
		return nil
	}
	file, line := r.file, r.line
	r.reset(file, line)
	return parseJSONSlow(r, text)
}

// jsonScan is the state of the fast scanner over one line.
type jsonScan struct {
	s    []byte
	i    int
	r    *row
	name []byte // the dotted name of the current key
	nkey int    // where in r.keys the next key is expected
}

func (p *jsonScan) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\r', '\n':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonScan) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

// top scans the line's object. Like json.Decoder.Decode, it ignores what follows the
// first complete value.
func (p *jsonScan) top() bool {
	p.ws()
	if p.peek() != '{' {
		return false
	}
	p.i++
	return p.object(0)
}

// object scans the members of an object whose '{' was consumed; prefix is the length
// of the dotted name prefix of its keys in p.name.
func (p *jsonScan) object(prefix int) bool {
	p.ws()
	if p.peek() == '}' {
		p.i++
		return true
	}
	for {
		p.ws()
		if p.peek() != '"' {
			return false
		}
		key, esc, ok := p.str()
		if !ok || esc {
			return false
		}
		p.name = append(p.name[:prefix], key...)
		p.ws()
		if p.peek() != ':' {
			return false
		}
		p.i++
		p.ws()
		if !p.value() {
			return false
		}
		p.ws()
		switch p.peek() {
		case ',':
			p.i++
		case '}':
			p.i++
			return true
		default:
			return false
		}
	}
}

// maxKeyCache bounds the key cache of a row (a file of ever new keys stops adding).
const maxKeyCache = 256

// cachedKey is one key name of the recent lines and the field it names.
type cachedKey struct {
	name  string
	f     field
	known bool
}

// lookup returns the field p.name names. Zeek writes the keys of every line of a log in
// the same order, some missing: the keys are looked up in the order of the lines seen
// so far, near where the previous key matched, and fieldByName (a map lookup, ~0.6 s
// per 1M ssl+conn JSON lines) only serves keys never seen in this file.
func (p *jsonScan) lookup() (field, bool) {
	keys := p.r.keys
	for _, k := range [...]int{p.nkey, p.nkey + 1, p.nkey + 2, p.nkey - 1} {
		if k >= 0 && k < len(keys) && keys[k].name == string(p.name) {
			p.nkey = k + 1
			return keys[k].f, keys[k].known
		}
	}
	f, known := fieldByName[string(p.name)]
	if len(keys) < maxKeyCache {
		name := string(p.name)
		if known {
			name = fieldNames[f] // no allocation for the fields read
		}
		k := min(p.nkey, len(keys))
		p.r.keys = append(keys[:k], append([]cachedKey{{name, f, known}}, keys[k:]...)...)
		p.nkey = k + 1
	}
	return f, known
}

// value scans the value of the key named p.name and stores it when it is a field read.
func (p *jsonScan) value() bool {
	if p.peek() == '{' {
		p.i++
		p.name = append(p.name, '.')
		return p.object(len(p.name))
	}
	f, known := p.lookup()
	switch c := p.peek(); {
	case c == '[':
		p.i++
		start := len(p.r.elems)
		p.ws()
		if p.peek() == ']' {
			p.i++
		} else {
			for {
				p.ws()
				v, ok := p.scalar()
				if !ok {
					return false
				}
				if known {
					if v == nil {
						v = []byte{} // null in a list is an empty string, as jsonValue has it
					}
					p.r.elems = append(p.r.elems, v)
				}
				p.ws()
				if p.peek() == ',' {
					p.i++
					continue
				}
				if p.peek() != ']' {
					return false
				}
				p.i++
				break
			}
		}
		if known {
			p.r.setList(f, start)
		}
		return true
	default:
		isNull := c == 'n'
		v, ok := p.scalar()
		if !ok {
			return false
		}
		if known {
			if isNull {
				p.r.setUnset(f)
			} else {
				p.r.setScalar(f, v)
			}
		}
		return true
	}
}

var (
	litTrue  = []byte("T")
	litFalse = []byte("F")
)

// scalar scans a string, number, true, false or null (nil, true); anything else fails.
func (p *jsonScan) scalar() ([]byte, bool) {
	switch c := p.peek(); {
	case c == '"':
		v, esc, ok := p.str()
		if !ok {
			return nil, false
		}
		if esc {
			return p.unquote(v)
		}
		return v, true
	case c == 't':
		return litTrue, p.literal("true")
	case c == 'f':
		return litFalse, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	case c == '-' || ('0' <= c && c <= '9'):
		return p.number()
	}
	return nil, false
}

func (p *jsonScan) literal(lit string) bool {
	if len(p.s)-p.i >= len(lit) && string(p.s[p.i:p.i+len(lit)]) == lit {
		p.i += len(lit)
		return true
	}
	return false
}

// strCare marks the bytes a string scan must look at: the closing quote, escapes,
// control characters (invalid in JSON strings) and non-ASCII (UTF-8 to check).
var strCare = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	for c := 0x80; c < 256; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// str scans a string whose opening quote is at p.i and returns its raw content, whether
// it has escapes, and false for a string the fast path does not take.
func (p *jsonScan) str() (raw []byte, esc, ok bool) {
	start := p.i + 1
	j := start
	ascii := true
	for {
		for j < len(p.s) && !strCare[p.s[j]] {
			j++
		}
		if j >= len(p.s) {
			return nil, false, false
		}
		switch c := p.s[j]; {
		case c == '"':
			raw = p.s[start:j]
			p.i = j + 1
			if !ascii && !utf8.Valid(raw) {
				return nil, false, false // encoding/json replaces invalid bytes with U+FFFD
			}
			return raw, esc, true
		case c == '\\':
			esc = true
			j += 2
		case c < 0x20:
			return nil, false, false
		default:
			ascii = false
			j++
		}
	}
}

// unquote undoes the simple escapes into the row's buffer; \u escapes go to the slow path.
func (p *jsonScan) unquote(raw []byte) ([]byte, bool) {
	r := p.r
	start := len(r.buf)
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			r.buf = append(r.buf, c)
			continue
		}
		i++
		if i >= len(raw) {
			return nil, false
		}
		switch raw[i] {
		case '"', '\\', '/':
			r.buf = append(r.buf, raw[i])
		case 'b':
			r.buf = append(r.buf, '\b')
		case 'f':
			r.buf = append(r.buf, '\f')
		case 'n':
			r.buf = append(r.buf, '\n')
		case 'r':
			r.buf = append(r.buf, '\r')
		case 't':
			r.buf = append(r.buf, '\t')
		default:
			return nil, false
		}
	}
	return r.buf[start:len(r.buf):len(r.buf)], true
}

// number scans a JSON number (its text is the value, as json.Number keeps it).
func (p *jsonScan) number() ([]byte, bool) {
	start := p.i
	end, ok := jsonlex.Number(p.s, start)
	if !ok {
		return nil, false
	}
	p.i = end
	return p.s[start:end], true
}

// parseJSONSlow decodes a line with encoding/json: the reference for what the fast
// scanner declines, and the source of the error messages.
func parseJSONSlow(r *row, text []byte) *LineError {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return &LineError{File: r.file, Line: r.line, Value: string(text), Reason: "invalid JSON: " + err.Error()}
	}
	if err := r.flatten("", obj); err != nil {
		err.File, err.Line = r.file, r.line
		return err
	}
	return nil
}

func (r *row) flatten(prefix string, obj map[string]any) *LineError {
	for k, v := range obj {
		name := prefix + k
		if sub, ok := v.(map[string]any); ok {
			if err := r.flatten(name+".", sub); err != nil {
				return err
			}
			continue
		}
		val, list, isList, err := jsonValue(v)
		if err != nil {
			return &LineError{Field: name, Value: string(mustJSON(v)), Reason: err.Error()}
		}
		f, ok := fieldByName[name]
		switch {
		case !ok:
		case isList:
			start := len(r.elems)
			for _, e := range list {
				r.elems = append(r.elems, []byte(e))
			}
			r.setList(f, start)
		case val == nil:
			r.setUnset(f)
		default:
			r.setScalar(f, []byte(*val))
		}
	}
	return nil
}

// jsonValue turns a decoded JSON value into the textual form TSV has, so the typed
// accessors serve both formats: numbers keep their text, booleans become T/F, null is
// unset (nil).
func jsonValue(v any) (val *string, list []string, isList bool, err error) {
	str := func(s string) *string { return &s }
	switch x := v.(type) {
	case nil:
		return nil, nil, false, nil // null is unset, like a missing key
	case string:
		return str(x), nil, false, nil
	case json.Number:
		return str(x.String()), nil, false, nil
	case bool:
		if x {
			return str("T"), nil, false, nil
		}
		return str("F"), nil, false, nil
	case []any:
		list := make([]string, 0, len(x))
		for _, e := range x {
			ev, _, elist, err := jsonValue(e)
			if err != nil || elist {
				return nil, nil, false, errNested
			}
			s := ""
			if ev != nil {
				s = *ev
			}
			list = append(list, s)
		}
		return nil, list, true, nil
	}
	return nil, nil, false, errNested
}

type jsonError string

// Error returns the message.
func (e jsonError) Error() string { return string(e) }

const errNested = jsonError("nested containers are not Zeek values")

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte(strconv.Quote(err.Error()))
	}
	return b
}
