package rowenc

import (
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
)

// flushAt is the buffer size at which a writer hands its bytes to the underlying writer:
// large enough to amortise the copy, small enough to keep memory per response bounded.
const flushAt = 64 << 10

// layout maps output columns to the indexes of a record schema.
type layout struct {
	names []string
	index []int
}

// resolve finds each requested column in schema; nil columns means every schema field,
// in schema order. The output follows the requested order, whatever order the producer
// chose, and ignores any extra columns it added.
func resolve(schema *arrow.Schema, columns []string) (layout, error) {
	if columns == nil {
		columns = make([]string, schema.NumFields())
		for i, f := range schema.Fields() {
			columns[i] = f.Name
		}
	}
	l := layout{names: columns, index: make([]int, len(columns))}
	for i, name := range columns {
		idx := schema.FieldIndices(name)
		if len(idx) == 0 {
			return layout{}, fmt.Errorf("rowenc: column %q is not in the result schema", name)
		}
		l.index[i] = idx[0]
	}
	return l, nil
}

// JSONWriter writes rows as JSON objects whose keys follow the requested column order,
// separated by a fixed separator. The caller writes whatever surrounds them.
type JSONWriter struct {
	w    io.Writer
	l    layout
	keys [][]byte // `"name":` per output column, with a leading comma after the first
	sep  string
	buf  []byte
	apps []appendFunc
	rows int64
}

// NewJSONWriter prepares a writer for records of schema. sep goes between rows
// (for example "," inside a JSON array, "\n" for NDJSON).
func NewJSONWriter(w io.Writer, schema *arrow.Schema, columns []string, sep string) (*JSONWriter, error) {
	l, err := resolve(schema, columns)
	if err != nil {
		return nil, err
	}
	keys := make([][]byte, len(l.names))
	for i, name := range l.names {
		var k []byte
		if i > 0 {
			k = append(k, ',')
		}
		k = AppendString(k, name)
		keys[i] = append(k, ':')
	}
	return &JSONWriter{w: w, l: l, keys: keys, sep: sep, buf: make([]byte, 0, flushAt+4096), apps: make([]appendFunc, len(keys))}, nil
}

// Write renders every row of rec.
func (e *JSONWriter) Write(rec arrow.RecordBatch) error {
	for c, idx := range e.l.index {
		e.apps[c] = newAppender(rec.Column(idx), jsonMode)
	}
	n := int(rec.NumRows())
	for i := 0; i < n; i++ {
		if e.rows > 0 {
			e.buf = append(e.buf, e.sep...)
		}
		e.buf = append(e.buf, '{')
		for c, app := range e.apps {
			e.buf = append(e.buf, e.keys[c]...)
			e.buf = app(e.buf, i)
		}
		e.buf = append(e.buf, '}')
		e.rows++
		if len(e.buf) >= flushAt {
			if err := e.Flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// Rows reports how many rows have been written.
func (e *JSONWriter) Rows() int64 { return e.rows }

// Flush hands buffered bytes to the underlying writer.
func (e *JSONWriter) Flush() error {
	if len(e.buf) == 0 {
		return nil
	}
	_, err := e.w.Write(e.buf)
	e.buf = e.buf[:0]
	return err
}

// CSVWriter writes a header line and one line per row, in the dialect of DuckDB's
// COPY ... TO (FORMAT csv, HEADER): comma separated, "\n" line ends, fields quoted only
// when needed, NULL as an empty field and the empty string as "". Lists are JSON arrays.
type CSVWriter struct {
	w       io.Writer
	l       layout
	buf     []byte
	scratch []byte
	apps    []appendFunc
	cols    []arrow.Array
	rows    int64
}

// NewCSVWriter prepares a writer for records of schema and buffers the header line,
// so an empty result still has one.
func NewCSVWriter(w io.Writer, schema *arrow.Schema, columns []string) (*CSVWriter, error) {
	l, err := resolve(schema, columns)
	if err != nil {
		return nil, err
	}
	e := &CSVWriter{w: w, l: l, buf: make([]byte, 0, flushAt+4096), apps: make([]appendFunc, len(l.names)), cols: make([]arrow.Array, len(l.names))}
	for i, name := range l.names {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		start := len(e.buf)
		e.buf = e.quoteField(append(e.buf, name...), start)
	}
	e.buf = append(e.buf, '\n')
	return e, nil
}

// Write renders every row of rec.
func (e *CSVWriter) Write(rec arrow.RecordBatch) error {
	for c, idx := range e.l.index {
		e.cols[c] = rec.Column(idx)
		e.apps[c] = valueAppender(e.cols[c], csvMode)
	}
	n := int(rec.NumRows())
	for i := 0; i < n; i++ {
		for c, app := range e.apps {
			if c > 0 {
				e.buf = append(e.buf, ',')
			}
			if e.cols[c].IsNull(i) {
				continue
			}
			start := len(e.buf)
			e.buf = e.quoteField(app(e.buf, i), start)
		}
		e.buf = append(e.buf, '\n')
		e.rows++
		if len(e.buf) >= flushAt {
			if err := e.Flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// quoteField quotes the field text at buf[start:] in place when it is empty or holds a
// separator, a quote, a line break or leading/trailing space.
func (e *CSVWriter) quoteField(buf []byte, start int) []byte {
	field := buf[start:]
	if !needsQuotes(field) {
		return buf
	}
	e.scratch = append(e.scratch[:0], field...)
	buf = append(buf[:start], '"')
	for _, b := range e.scratch {
		if b == '"' {
			buf = append(buf, '"')
		}
		buf = append(buf, b)
	}
	return append(buf, '"')
}

func needsQuotes(field []byte) bool {
	if len(field) == 0 || field[0] == ' ' || field[0] == '\t' || field[len(field)-1] == ' ' {
		return true
	}
	for _, b := range field {
		if b == ',' || b == '"' || b == '\n' || b == '\r' {
			return true
		}
	}
	return false
}

// Rows reports how many rows have been written.
func (e *CSVWriter) Rows() int64 { return e.rows }

// Flush hands buffered bytes to the underlying writer.
func (e *CSVWriter) Flush() error {
	if len(e.buf) == 0 {
		return nil
	}
	_, err := e.w.Write(e.buf)
	e.buf = e.buf[:0]
	return err
}
