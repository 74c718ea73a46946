// Package zeek reads Zeek conn.log, ssl.log and x509.log files, in the ASCII (TSV) and
// JSON writers' formats, and assembles them into discovery and cert rows: ssl joined to
// conn on uid, and to x509 on the leaf certificate's fingerprint.
package zeek

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode"
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

// maxLine bounds one log line; x509 lines with many SANs are the longest seen.
const maxLine = 16 << 20

// read parses one log (TSV or JSON, already decompressed) and calls fn for every row;
// it returns the kind of the log. The row is reused: fn must not keep it or its bytes. A
// malformed line is passed to bad: when bad returns nil the line is skipped, otherwise
// reading stops with bad's error. fn's error stops reading too.
func read(name string, r io.Reader, bad func(*LineError) error, fn func(Kind, *row) error) (Kind, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 256<<10), maxLine)
	p := parser{file: name}
	var rw row
	line := 0
	for sc.Scan() {
		line++
		text := sc.Bytes()
		if len(text) == 0 {
			continue
		}
		rw.reset(name, line)
		isRow, err := p.parse(&rw, text)
		if err != nil {
			if err := bad(err); err != nil {
				return p.kind, err
			}
			continue
		}
		if !isRow {
			continue // a header line
		}
		if err := fn(p.rowKind(&rw), &rw); err != nil {
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

// parse decodes one non-empty line into r; it reports false for a header line.
func (p *parser) parse(r *row, text []byte) (bool, *LineError) {
	if !p.json && text[0] == '#' {
		return false, p.header(r.line, text)
	}
	if p.tsv != nil {
		return true, p.tsv.row(r, text)
	}
	if t := bytes.TrimLeftFunc(text, unicode.IsSpace); len(t) > 0 && t[0] == '{' {
		p.json = true
		return true, parseJSON(r, text)
	}
	return false, &LineError{File: p.file, Line: r.line, Value: string(text), Reason: "neither a Zeek JSON object nor a TSV row after a #fields header"}
}

// rowKind classifies a row: the TSV #path, or JSON's _path, else by the fields present.
func (p *parser) rowKind(r *row) Kind {
	if p.kind == Unknown || p.json {
		k := Unknown
		if r.isSet(fPath) {
			k = kindOfPath(view(r.bytes(fPath)))
		}
		if k == Unknown {
			k = kindOfFields(r.has)
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
func kindOfFields(has func(field) bool) Kind {
	switch {
	case has(fSubject) || has(fSerial):
		return X509
	case has(fCipher) || has(fServerName) || has(fEstablished) || has(fChainFps) || has(fChainFuids):
		return SSL
	case has(fProto) || has(fConnState) || has(fOrigIPBytes) || has(fOrigPkts):
		return Conn
	}
	return Unknown
}

// Sniff tells the log kind from the first bytes of a file (decompressed): the TSV #path
// or #fields header, or the first JSON row's _path or fields. It returns Unknown when
// they do not tell; only complete lines are looked at.
func Sniff(head []byte) Kind {
	p := parser{}
	var r row
	for line := 1; ; line++ {
		i := bytes.IndexByte(head, '\n')
		if i < 0 {
			return p.kind // headers only, or a partial line
		}
		text := bytes.TrimSuffix(head[:i], []byte{'\r'})
		head = head[i+1:]
		if len(text) == 0 {
			continue
		}
		r.reset("", line)
		isRow, err := p.parse(&r, text)
		if err != nil {
			return Unknown
		}
		if isRow {
			return p.rowKind(&r)
		}
	}
}
