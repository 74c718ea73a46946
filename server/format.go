package server

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/gofiber/fiber/v2"

	"github.com/cipherscope/cipherscope/engine"
	"github.com/cipherscope/cipherscope/server/rowenc"
)

// Media types of the dataset routes, in order of preference when the client accepts
// several equally (the first is the default).
const (
	MIMEJSON    = "application/json"
	MIMECSV     = "text/csv"
	MIMENDJSON  = "application/x-ndjson"
	MIMEArrow   = "application/vnd.apache.arrow.stream"
	MIMEParquet = "application/vnd.apache.parquet"
)

// format is one response encoding of query rows.
type format struct {
	// mime is what Accept names; contentType is what the response says.
	mime, contentType string
	// ext names files inside zip archives.
	ext string
	// newWriter starts encoding rows with the given output columns to w.
	newWriter func(w io.Writer, schema *arrow.Schema, columns []string) (listWriter, error)
	// copied, when set, says how the store writes whole exports in this format itself
	// (see serveExport); nil means exports are encoded from scanned batches (Store.Scan).
	copied *copiedForm
}

// copiedForm is an export format the store writes itself: file is what the store
// produces, and envelope turns its NDJSON lines into the data array of a JSON document.
type copiedForm struct {
	file     engine.ExportFormat
	envelope bool
}

// pageMeta is what a JSON list response says besides its rows.
type pageMeta struct {
	limit, page                 int64
	filtered, total             int64 // -1 when unknown
	nextCursor                  string
	cursorPaging, streamedWhole bool
}

// listWriter encodes a result: Write for each batch, then Close once with the page
// metadata (only the JSON envelope uses it; the other formats carry it in headers).
type listWriter interface {
	Write(rec arrow.RecordBatch) error
	Close(meta pageMeta) error
	Rows() int64
}

// formats lists what the dataset routes produce; the first is the default.
var formats = []format{
	{mime: MIMEJSON, contentType: fiber.MIMEApplicationJSONCharsetUTF8, ext: "json", newWriter: newEnvelopeWriter,
		copied: &copiedForm{file: engine.ExportNDJSON, envelope: true}},
	{mime: MIMECSV, contentType: "text/csv; charset=utf-8; header=present", ext: "csv", newWriter: newCSVWriter,
		copied: &copiedForm{file: engine.ExportCSV}},
	{mime: MIMENDJSON, contentType: MIMENDJSON, ext: "ndjson", newWriter: newNDJSONWriter,
		copied: &copiedForm{file: engine.ExportNDJSON}},
	{mime: MIMEArrow, contentType: MIMEArrow, ext: "arrows", newWriter: newArrowWriter},
	{mime: MIMEParquet, contentType: MIMEParquet, ext: "parquet", newWriter: newParquetWriter,
		copied: &copiedForm{file: engine.ExportParquet}},
}

// offeredMIMEs is the list of media types, for negotiation and for the 406 message.
var offeredMIMEs = func() []string {
	out := make([]string, len(formats))
	for i, f := range formats {
		out[i] = f.mime
	}
	return out
}()

// negotiate picks the response format from Accept (q-values honoured by c.Accepts);
// no Accept header means JSON. With returnAsZipFile, application/zip is acceptable too
// and means JSON inside the archive; another accepted format is used inside the archive.
func negotiate(c *fiber.Ctx, zip bool) (format, error) {
	if c.Get(fiber.HeaderAccept) == "" {
		return formats[0], nil
	}
	offers := offeredMIMEs
	if zip {
		offers = append(append([]string(nil), offeredMIMEs...), MIMEZip)
	}
	chosen := c.Accepts(offers...)
	if chosen == MIMEZip {
		return formats[0], nil
	}
	for _, f := range formats {
		if f.mime == chosen {
			return f, nil
		}
	}
	return format{}, fiber.NewError(fiber.StatusNotAcceptable,
		"no acceptable media type; this route produces "+strings.Join(offeredMIMEs, ", ")+
			" (and "+MIMEZip+" with returnAsZipFile=true)")
}

// envelopeWriter writes the JSON list document {"data":[...],"pagination":{...},...}.
type envelopeWriter struct {
	w   io.Writer
	enc *rowenc.JSONWriter
}

func newEnvelopeWriter(w io.Writer, schema *arrow.Schema, columns []string) (listWriter, error) {
	enc, err := rowenc.NewJSONWriter(w, schema, columns, ",")
	if err != nil {
		return nil, err
	}
	if _, err := io.WriteString(w, `{"data":[`); err != nil {
		return nil, err
	}
	return &envelopeWriter{w: w, enc: enc}, nil
}

func (e *envelopeWriter) Write(rec arrow.RecordBatch) error { return e.enc.Write(rec) }
func (e *envelopeWriter) Rows() int64                       { return e.enc.Rows() }

// Close ends the data array and writes pagination and the counts that are known.
func (e *envelopeWriter) Close(m pageMeta) error {
	if err := e.enc.Flush(); err != nil {
		return err
	}
	_, err := e.w.Write(appendEnvelopeTail(make([]byte, 0, 256), m, e.enc.Rows()))
	return err
}

// appendEnvelopeTail appends what follows the rows of a JSON list document: the end of
// the data array, pagination (returned rows) and the counts that are known.
func appendEnvelopeTail(tail []byte, m pageMeta, returned int64) []byte {
	tail = append(tail, `],"pagination":{`...)
	if !m.streamedWhole {
		tail = append(tail, `"limit":`...)
		tail = strconv.AppendInt(tail, m.limit, 10)
		tail = append(tail, ',')
	}
	if !m.cursorPaging && !m.streamedWhole {
		tail = append(tail, `"offset":`...)
		tail = strconv.AppendInt(tail, m.page, 10)
		tail = append(tail, ',')
	}
	tail = append(tail, `"returned":`...)
	tail = strconv.AppendInt(tail, returned, 10)
	if m.cursorPaging {
		tail = append(tail, `,"nextCursor":`...)
		if m.nextCursor == "" {
			tail = append(tail, "null"...)
		} else {
			tail = rowenc.AppendString(tail, m.nextCursor)
		}
	}
	tail = append(tail, '}')
	if m.filtered >= 0 {
		tail = append(tail, `,"filteredCount":`...)
		tail = strconv.AppendInt(tail, m.filtered, 10)
	}
	if m.total >= 0 {
		tail = append(tail, `,"totalCount":`...)
		tail = strconv.AppendInt(tail, m.total, 10)
	}
	return append(tail, '}')
}

// ndjsonWriter writes one JSON object per line, each line ending in "\n".
type ndjsonWriter struct {
	w   io.Writer
	enc *rowenc.JSONWriter
}

func newNDJSONWriter(w io.Writer, schema *arrow.Schema, columns []string) (listWriter, error) {
	enc, err := rowenc.NewJSONWriter(w, schema, columns, "\n")
	if err != nil {
		return nil, err
	}
	return &ndjsonWriter{w: w, enc: enc}, nil
}

func (n *ndjsonWriter) Write(rec arrow.RecordBatch) error { return n.enc.Write(rec) }
func (n *ndjsonWriter) Rows() int64                       { return n.enc.Rows() }

// Close terminates the last line (an empty result is an empty body).
func (n *ndjsonWriter) Close(pageMeta) error {
	if err := n.enc.Flush(); err != nil {
		return err
	}
	if n.enc.Rows() == 0 {
		return nil
	}
	_, err := io.WriteString(n.w, "\n")
	return err
}

// csvWriter adapts rowenc.CSVWriter: a header line always, NULL as an empty field,
// lists as JSON arrays (see README, "CSV").
type csvWriter struct{ enc *rowenc.CSVWriter }

func newCSVWriter(w io.Writer, schema *arrow.Schema, columns []string) (listWriter, error) {
	enc, err := rowenc.NewCSVWriter(w, schema, columns)
	if err != nil {
		return nil, err
	}
	return csvWriter{enc: enc}, nil
}

func (c csvWriter) Write(rec arrow.RecordBatch) error { return c.enc.Write(rec) }
func (c csvWriter) Rows() int64                       { return c.enc.Rows() }
func (c csvWriter) Close(pageMeta) error              { return c.enc.Flush() }

// projection selects the output columns of a batch by index; the store may return extra
// columns (the sort keys a cursor needs), which the binary formats must not carry.
type projection struct {
	schema *arrow.Schema
	index  []int
}

func newProjection(schema *arrow.Schema, columns []string) (projection, error) {
	p := projection{index: make([]int, len(columns))}
	fields := make([]arrow.Field, len(columns))
	for i, name := range columns {
		idx := schema.FieldIndices(name)
		if len(idx) == 0 {
			return projection{}, fmt.Errorf("server: column %q is not in the result schema", name)
		}
		p.index[i] = idx[0]
		fields[i] = schema.Field(idx[0])
	}
	p.schema = arrow.NewSchema(fields, nil)
	return p, nil
}

// apply returns rec restricted to the projection; the caller releases it.
func (p projection) apply(rec arrow.RecordBatch) arrow.RecordBatch {
	cols := make([]arrow.Array, len(p.index))
	for i, idx := range p.index {
		cols[i] = rec.Column(idx)
	}
	return array.NewRecordBatch(p.schema, cols, rec.NumRows())
}

// arrowWriter writes an Arrow IPC stream; the schema message goes out even when the
// result is empty, so readers always learn the columns.
type arrowWriter struct {
	p    projection
	ipc  *ipc.Writer
	rows int64
}

func newArrowWriter(w io.Writer, schema *arrow.Schema, columns []string) (listWriter, error) {
	p, err := newProjection(schema, columns)
	if err != nil {
		return nil, err
	}
	return &arrowWriter{p: p, ipc: ipc.NewWriter(w, ipc.WithSchema(p.schema))}, nil
}

func (a *arrowWriter) Write(rec arrow.RecordBatch) error {
	out := a.p.apply(rec)
	defer out.Release()
	a.rows += out.NumRows()
	return a.ipc.Write(out)
}
func (a *arrowWriter) Rows() int64 { return a.rows }

// Close writes the schema (if no batch did) and the end-of-stream marker.
func (a *arrowWriter) Close(pageMeta) error { return a.ipc.Close() }

// parquetWriter writes a Parquet file (zstd-compressed, Arrow schema stored). Parquet
// puts its footer last, so the whole file is produced before anything is usable; row
// groups are flushed per batch, which keeps memory bounded for streamed exports.
type parquetWriter struct {
	p    projection
	fw   *pqarrow.FileWriter
	rows int64
}

func newParquetWriter(w io.Writer, schema *arrow.Schema, columns []string) (listWriter, error) {
	p, err := newProjection(schema, columns)
	if err != nil {
		return nil, err
	}
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd))
	// The wrapper hides any Close method: the Parquet writer closes a sink that has one,
	// and the sink (response body, zip entry) belongs to the caller.
	fw, err := pqarrow.NewFileWriter(p.schema, struct{ io.Writer }{w}, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		return nil, err
	}
	return &parquetWriter{p: p, fw: fw}, nil
}

func (q *parquetWriter) Write(rec arrow.RecordBatch) error {
	out := q.p.apply(rec)
	defer out.Release()
	q.rows += out.NumRows()
	return q.fw.Write(out)
}
func (q *parquetWriter) Rows() int64          { return q.rows }
func (q *parquetWriter) Close(pageMeta) error { return q.fw.Close() }
