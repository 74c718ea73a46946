// Package zeek reads Zeek conn.log, ssl.log and x509.log files, in the ASCII (TSV) and
// JSON writers' formats, and assembles them into discovery and cert rows: ssl joined to
// conn on uid, and to x509 on the leaf certificate's fingerprint.
package zeek

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Kind is the Zeek log a file holds.
type Kind string

// The logs this package understands.
const (
	Conn    Kind = "conn"
	SSL     Kind = "ssl"
	X509    Kind = "x509"
	Unknown Kind = ""
)

// LineError is a malformed line: the file, the 1-based line, the field and value at
// fault (either may be empty for a line that is broken as a whole), and why.
type LineError struct {
	File   string
	Line   int
	Field  string
	Value  string
	Reason string
}

// Error renders `file:line: field "x": value "…": reason`.
func (e *LineError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	if e.Field != "" {
		fmt.Fprintf(&b, "field %q: ", e.Field)
	}
	if e.Field != "" || e.Value != "" {
		fmt.Fprintf(&b, "value %q: ", truncate(e.Value, 80))
	}
	b.WriteString(e.Reason)
	return b.String()
}

// truncate keeps error messages readable when a whole line is the value.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Value is one field of a row. Unset fields (TSV "-", a missing JSON key) have Set false.
type Value struct {
	Set    bool
	Str    string   // the unescaped scalar, or "" for a list
	List   []string // the elements of a set or vector
	IsList bool
}

// Row is one log line, its fields addressed by Zeek's dotted names.
type Row struct {
	File string
	Line int
	idx  map[string]int
	vals []Value
}

// Get returns the value of a field; a field the log does not have is unset.
func (r *Row) Get(name string) Value {
	if i, ok := r.idx[name]; ok {
		return r.vals[i]
	}
	return Value{}
}

// Has reports whether the log has the field at all (set or not), which tells layouts apart.
func (r *Row) Has(name string) bool {
	_, ok := r.idx[name]
	return ok
}

// Err builds the LineError of a field of this row.
func (r *Row) Err(field, value, reason string) *LineError {
	return &LineError{File: r.File, Line: r.Line, Field: field, Value: value, Reason: reason}
}

// maxLine bounds one log line; x509 lines with many SANs are the longest seen.
const maxLine = 16 << 20

// Read parses one log (TSV or JSON, already decompressed) and calls fn for every row;
// it returns the kind of the log. A malformed line is passed to bad: when bad returns
// nil the line is skipped, otherwise reading stops with bad's error. fn's error stops
// reading too.
func Read(name string, r io.Reader, bad func(*LineError) error, fn func(Kind, *Row) error) (Kind, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), maxLine)
	var p parser
	p.file = name
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if text == "" {
			continue
		}
		row, err := p.parse(line, text)
		if err != nil {
			if err := bad(err); err != nil {
				return p.kind, err
			}
			continue
		}
		if row == nil {
			continue // a header line
		}
		if err := fn(p.rowKind(row), row); err != nil {
			return p.kind, err
		}
	}
	if err := sc.Err(); err != nil {
		return p.kind, fmt.Errorf("%s:%d: %w", name, line+1, err)
	}
	return p.kind, nil
}

// parser holds the per-file state: the TSV header, or the JSON mode once seen.
type parser struct {
	file string
	tsv  *tsvHeader
	json bool
	kind Kind
}

func (p *parser) parse(line int, text string) (*Row, *LineError) {
	if !p.json && strings.HasPrefix(text, "#") {
		return nil, p.header(line, text)
	}
	if p.tsv != nil {
		return p.tsv.row(p.file, line, text)
	}
	if strings.HasPrefix(strings.TrimSpace(text), "{") {
		p.json = true
		return parseJSON(p.file, line, text)
	}
	return nil, &LineError{File: p.file, Line: line, Value: text, Reason: "neither a Zeek JSON object nor a TSV row after a #fields header"}
}

// rowKind classifies a row: the TSV #path, or JSON's _path, else by the fields present.
func (p *parser) rowKind(r *Row) Kind {
	if p.kind == Unknown || p.json {
		k := Unknown
		if v := r.Get("_path"); v.Set {
			k = kindOfPath(v.Str)
		}
		if k == Unknown {
			k = kindOfFields(r.Has)
		}
		if p.kind == Unknown {
			p.kind = k
		}
		return k
	}
	return p.kind
}

func kindOfPath(path string) Kind {
	switch path {
	case "conn":
		return Conn
	case "ssl":
		return SSL
	case "x509", "files_x509":
		return X509
	}
	return Unknown
}

// kindOfFields recognises a log by fields only it has, for JSON without _path and TSV
// without #path.
func kindOfFields(has func(string) bool) Kind {
	switch {
	case has("certificate.subject") || has("certificate.serial"):
		return X509
	case has("cipher") || has("server_name") || has("established") || has("cert_chain_fps") || has("cert_chain_fuids"):
		return SSL
	case has("proto") || has("conn_state") || has("orig_ip_bytes") || has("orig_pkts"):
		return Conn
	}
	return Unknown
}
