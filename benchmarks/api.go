package benchmarks

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow/ipc"
)

// apiPath runs each case through the HTTP API of a `cipherscope serve` child process on
// loopback. A run is timed from sending the request until the last byte of the body has
// been read; parsing the body to count rows happens after the clock stops. An export's
// body goes to a file in the scratch directory, as the DuckDB path's COPY writes one.
type apiPath struct {
	base   string // http://127.0.0.1:PORT
	tmpDir string // where export bodies are written
	key    string // x-api-key, empty when the server needs none
	client *http.Client
	snaps  map[string]string // case name -> snapshot id created by Prepare
	seq    int
}

func newAPIPath(base, key, tmpDir string) *apiPath {
	// One keep-alive connection, no compression: the body is measured as the server sends it.
	tr := &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 1}
	return &apiPath{base: base, key: key, tmpDir: tmpDir, client: &http.Client{Transport: tr}, snaps: map[string]string{}}
}

// Name implements runner.
func (a *apiPath) Name() string { return "api" }

// acceptOf is the Accept header that selects a case's format.
func acceptOf(f Format) string {
	switch f {
	case CSV, Zip:
		return "text/csv"
	case NDJSON:
		return "application/x-ndjson"
	case Arrow:
		return "application/vnd.apache.arrow.stream"
	}
	return "application/json"
}

// wantContentType is the media type the server must answer for the case to count: a
// server that ignores an option and sends JSON anyway has not implemented it.
func wantContentType(c Case) string {
	if c.Params.Get("returnAsZipFile") == "true" {
		return "application/zip"
	}
	return acceptOf(c.Format)
}

// requestURL builds the GET URL of a page or export case.
func (a *apiPath) requestURL(c Case) string {
	v := url.Values{}
	if c.Filter != "" {
		v.Set("filter", c.Filter)
	}
	for _, col := range c.Columns {
		v.Add("columns", col)
	}
	for _, s := range c.sortParams() {
		v.Add("sorts", s)
	}
	if c.Limit > 0 {
		v.Set("limit", fmt.Sprint(c.Limit))
	}
	if c.OffsetPage > 0 {
		v.Set("offset", fmt.Sprint(c.OffsetPage))
	}
	if !c.TimeFrame.Begin.IsZero() {
		v.Set("timeFrame[begin]", fmt.Sprint(c.TimeFrame.Begin.Unix()))
	}
	if !c.TimeFrame.End.IsZero() {
		v.Set("timeFrame[end]", fmt.Sprint(c.TimeFrame.End.Unix()))
	}
	for k, vals := range c.Params {
		for _, x := range vals {
			v.Add(k, x)
		}
	}
	return a.base + "/api/v1/dta_" + string(c.Dataset) + "?" + v.Encode()
}

// Prepare implements runner: a snapshot-diff case creates its snapshot here (untimed).
func (a *apiPath) Prepare(ctx context.Context, c Case) error {
	if c.Kind != SnapshotDiff {
		return nil
	}
	a.seq++
	id := fmt.Sprintf("bench-%s-%d-%d", c.Name, time.Now().Unix(), a.seq)
	body, _ := json.Marshal(map[string]any{
		"snapshotId": id, "dtaCommand": string(c.Dataset),
		"dtaArgs": map[string]any{"columns": c.Columns, "filter": c.Filter},
	})
	resp, data, err := a.do(ctx, http.MethodPost, a.base+"/api/v1/dta_snapshots", "application/json", body)
	if err != nil {
		return err
	}
	if err := statusError(c, resp, data); err != nil {
		return err
	}
	a.snaps[c.Name] = id
	return nil
}

// Cleanup implements runner.
func (a *apiPath) Cleanup(ctx context.Context, c Case) error {
	id, ok := a.snaps[c.Name]
	if !ok {
		return nil
	}
	delete(a.snaps, c.Name)
	_, _, err := a.do(ctx, http.MethodDelete, a.base+"/api/v1/dta_snapshots/"+url.PathEscape(id), "", nil)
	return err
}

// Run implements runner.
func (a *apiPath) Run(ctx context.Context, c Case) (outcome, error) {
	method, target, accept, body := http.MethodGet, a.requestURL(c), acceptOf(c.Format), []byte(nil)
	switch c.Kind {
	case SnapshotDiff:
		method, body = http.MethodPost, []byte(`{}`)
		target = a.base + "/api/v1/dta_snapshots/" + url.PathEscape(a.snaps[c.Name]) + "/diff"
	case CBOM:
		v := url.Values{}
		if c.Filter != "" {
			v.Set("filter", c.Filter)
		}
		target = a.base + "/api/v1/cbom?" + v.Encode()
	}
	sink, err := a.newSink(c)
	if err != nil {
		return outcome{}, err
	}
	defer sink.discard()
	start := time.Now()
	resp, err := a.send(ctx, method, target, accept, body, sink.w)
	elapsed := time.Since(start)
	if err != nil {
		return outcome{}, err
	}
	data, err := sink.bytes()
	if err != nil {
		return outcome{}, err
	}
	if err := statusError(c, resp, data); err != nil {
		return outcome{}, err
	}
	if err := checkContentType(c, resp); err != nil {
		return outcome{}, err
	}
	out, err := parseBody(c, data)
	if err != nil {
		return outcome{}, fmt.Errorf("api %s: %w", c.Name, err)
	}
	out.Bytes, out.Elapsed = int64(len(data)), elapsed
	out.Server, err = serverTime(resp.Header.Get("Server-Timing"))
	return out, err
}

// serverTime adds up the durations of a Server-Timing header ("name;dur=ms, ..."); an
// absent header is 0, a malformed one an error (the server's own header must parse).
func serverTime(header string) (time.Duration, error) {
	var total time.Duration
	if header == "" {
		return 0, nil
	}
	for _, metric := range strings.Split(header, ",") {
		_, params, _ := strings.Cut(strings.TrimSpace(metric), ";")
		for _, p := range strings.Split(params, ";") {
			v, ok := strings.CutPrefix(strings.TrimSpace(p), "dur=")
			if !ok {
				continue
			}
			ms, err := strconv.ParseFloat(v, 64)
			if err != nil || ms < 0 {
				return 0, fmt.Errorf("Server-Timing %q: bad duration %q", header, v)
			}
			total += time.Duration(ms * float64(time.Millisecond))
		}
	}
	return total, nil
}

// bodySink receives a response body: memory for pages, a file for exports.
type bodySink struct {
	w    io.Writer
	file *os.File
	buf  *bytes.Buffer
}

func (a *apiPath) newSink(c Case) (*bodySink, error) {
	if c.Kind != Export {
		buf := &bytes.Buffer{}
		return &bodySink{w: buf, buf: buf}, nil
	}
	f, err := os.CreateTemp(a.tmpDir, "api-export-*")
	if err != nil {
		return nil, err
	}
	return &bodySink{w: f, file: f}, nil
}

// bytes returns the body (read back from the file, after the clock stopped).
func (s *bodySink) bytes() ([]byte, error) {
	if s.file == nil {
		return s.buf.Bytes(), nil
	}
	return os.ReadFile(s.file.Name())
}

func (s *bodySink) discard() {
	if s.file != nil {
		s.file.Close()
		os.Remove(s.file.Name())
	}
}

// do sends one request and reads the whole body into memory.
func (a *apiPath) do(ctx context.Context, method, target, accept string, body []byte) (*http.Response, []byte, error) {
	var buf bytes.Buffer
	resp, err := a.send(ctx, method, target, accept, body, &buf)
	return resp, buf.Bytes(), err
}

// send sends one request and copies the whole body to dst.
func (a *apiPath) send(ctx context.Context, method, target, accept string, body []byte, dst io.Writer) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return nil, err
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.key != "" {
		req.Header.Set("x-api-key", a.key)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("api %s %s: %w", method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(dst, resp.Body); err != nil {
		return nil, fmt.Errorf("api %s %s: reading body: %w", method, req.URL.Path, err)
	}
	return resp, nil
}

// unavailableStatus are the answers of a server that lacks a feature (bad parameter,
// no route, no such representation, not implemented, too large without streaming).
var unavailableStatus = map[int]bool{400: true, 404: true, 405: true, 406: true, 415: true, 501: true, 507: true}

// statusError turns a non-2xx answer into NotAvailableError or a plain error.
func statusError(c Case, resp *http.Response, body []byte) error {
	if resp.StatusCode/100 == 2 {
		return nil
	}
	detail := problemDetail(body)
	if unavailableStatus[resp.StatusCode] {
		feature := c.Feature
		if feature == "" {
			feature = "the request"
		}
		return notAvailable("%s: HTTP %d %s", feature, resp.StatusCode, detail)
	}
	return fmt.Errorf("api %s: HTTP %d %s", c.Name, resp.StatusCode, detail)
}

// problemDetail extracts a one-line reason from an RFC 7807 body (or the raw start).
func problemDetail(body []byte) string {
	var p struct{ Title, Detail string }
	if json.Unmarshal(body, &p) == nil && (p.Title != "" || p.Detail != "") {
		return strings.TrimSpace(p.Title + ": " + p.Detail)
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 160 {
		s = s[:160] + "..."
	}
	return s
}

// checkContentType makes sure the server answered in the requested representation.
func checkContentType(c Case, resp *http.Response) error {
	if c.Kind == SnapshotDiff || c.Kind == CBOM {
		return nil
	}
	got, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	want := wantContentType(c)
	if got != want && !(want == "application/zip" && got == "application/x-zip-compressed") {
		return notAvailable("%s: asked for %s, server answered %q", c.Feature, want, got)
	}
	return nil
}

// parseBody counts the rows of a response body in the case's format.
func parseBody(c Case, body []byte) (outcome, error) {
	switch {
	case c.Kind == SnapshotDiff:
		return parseDiff(body)
	case c.Kind == CBOM:
		var doc struct{ Components []json.RawMessage }
		err := json.Unmarshal(body, &doc)
		return outcome{Rows: int64(len(doc.Components))}, err
	case c.Params.Get("returnAsZipFile") == "true":
		n, err := zipCSVRows(body)
		return outcome{Rows: n}, err
	}
	switch c.Format {
	case CSV:
		n, err := csvRows(bytes.NewReader(body))
		return outcome{Rows: n}, err
	case NDJSON:
		return outcome{Rows: int64(bytes.Count(bytes.TrimSpace(body), []byte("\n")) + boolInt(len(bytes.TrimSpace(body)) > 0))}, nil
	case Arrow:
		n, err := arrowRows(body)
		return outcome{Rows: n}, err
	}
	return parsePage(c, body)
}

// arrowRows counts the rows of an Arrow IPC stream, which must be complete.
func arrowRows(body []byte) (int64, error) {
	rd, err := ipc.NewReader(bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("arrow stream: %w", err)
	}
	defer rd.Release()
	var n int64
	for rd.Next() {
		n += rd.RecordBatch().NumRows()
	}
	if err := rd.Err(); err != nil {
		return 0, fmt.Errorf("arrow stream: %w", err)
	}
	return n, nil
}

// parsePage reads {"data": [...], "filteredCount", "totalCount"} (counts may also sit in
// "pagination").
func parsePage(c Case, body []byte) (outcome, error) {
	var page struct {
		Data          []json.RawMessage
		FilteredCount *int64
		TotalCount    *int64
		Pagination    struct {
			FilteredCount *int64
			TotalCount    *int64
		}
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return outcome{}, err
	}
	out := outcome{Rows: int64(len(page.Data))}
	if c.Counts {
		f, t := firstNonNil(page.FilteredCount, page.Pagination.FilteredCount), firstNonNil(page.TotalCount, page.Pagination.TotalCount)
		if f == nil || t == nil {
			return outcome{}, notAvailable("%s: response has no filteredCount/totalCount", c.Feature)
		}
		out.Counts = []int64{*f, *t}
	}
	return out, nil
}

// parseDiff counts diff rows: added + removed + 2 per changed row (a changed row is one
// row on each side of a symmetric difference, which is what the SQL paths count).
func parseDiff(body []byte) (outcome, error) {
	var d struct {
		Data                    []json.RawMessage
		Added, Removed, Changed []json.RawMessage
	}
	if err := json.Unmarshal(body, &d); err != nil {
		return outcome{}, err
	}
	return outcome{Rows: int64(len(d.Data) + len(d.Added) + len(d.Removed) + 2*len(d.Changed))}, nil
}

// csvRows counts CSV records after the header (quoted newlines are handled by the parser).
func csvRows(r io.Reader) (int64, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	var n int64
	for {
		_, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, err
		}
		n++
	}
	return max(0, n-1), nil
}

// zipCSVRows counts the CSV records of every entry of a zip body.
func zipCSVRows(body []byte) (int64, error) {
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		return 0, err
	}
	var total int64
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			return 0, err
		}
		n, err := csvRows(rc)
		rc.Close()
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

func firstNonNil(a, b *int64) *int64 {
	if a != nil {
		return a
	}
	return b
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
