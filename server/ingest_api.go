package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/cipherscope/cipherscope/engine"
	"github.com/cipherscope/cipherscope/ingest"
	"github.com/cipherscope/cipherscope/ingest/certs"
	"github.com/cipherscope/cipherscope/ingest/native"
	"github.com/cipherscope/cipherscope/ingest/zeek"
	"github.com/cipherscope/cipherscope/query"
)

// POST /api/v1/ingest loads uploaded files as `cipherscope ingest` loads files on disk:
// the upload (one raw body, or the `file` parts of a multipart/form-data body) is spooled
// to a private directory under Config.UploadDir as it arrives, never held in memory, then
// every file goes to ONE ingest run (package ingest): Zeek logs of one upload are joined,
// and the run stores everything or nothing. The directory is removed when the request
// ends, whatever happened. Errors name the uploaded files, never a server path.

// Parameters of POST /ingest (query string; format and skipInvalid also as form fields).
const (
	paramFormat      = "format"
	paramSkipInvalid = "skipInvalid"
	paramName        = "name"
	// formFile is the form field of each uploaded file.
	formFile = "file"
	// defaultUploadName names a raw body without a name parameter, and a file part
	// without a usable filename.
	defaultUploadName = "upload"
)

// Bounds of one upload besides Config.MaxUploadBytes.
const (
	maxUploadFiles    = 1000    // file parts of one multipart body
	maxFormValue      = 1 << 10 // a form field other than a file
	maxUploadNameLen  = 255     // bytes of a file name
	ingestRetryAfter  = 5 * time.Second
	uploadDirPattern  = "cipherscope-upload-"
	uploadFilePattern = "%05d" // spooled files are numbered: no name of the client on disk
)

// rawUploadTypes are the media types of a raw (single file) body; the file's kind is
// detected from its content, so the type only has to say "a file". A body without a
// Content-Type is taken as application/octet-stream.
var rawUploadTypes = []string{
	"application/octet-stream", "text/plain", "text/csv", "text/tab-separated-values",
	"application/x-ndjson", "application/json", "application/gzip", "application/x-gzip",
	"application/vnd.apache.parquet", "application/x-parquet",
	"application/x-pem-file", "application/pem-certificate-chain", "application/pkix-cert",
	"application/x-x509-ca-cert", "application/pkcs7-mime", "application/x-pkcs7-certificates",
}

// errUploadTooLarge is returned by an uploadBody read past Config.MaxUploadBytes.
var errUploadTooLarge = errors.New("upload too large")

// uploadBody is the request body of POST /ingest as the handler reads it: it counts the
// bytes against the limit, and remembers the end of the stream (a chunked stream must
// not be read again after its end: the next request's bytes follow it).
//
// fasthttp's body stream ends with a plain io.EOF also when the client goes away: before
// Content-Length bytes (told apart here by the count) or, in a chunked body, between two
// chunks (not told apart at all; hence raw bodies need a Content-Length, and multipart
// bodies are checked by their closing boundary). A broken chunk is an error that wraps
// io.EOF: only err == io.EOF is the end.
type uploadBody struct {
	r        io.Reader
	n, max   int64
	length   int64 // Content-Length, or < 0 when unknown (chunked)
	eof      bool
	tooLarge bool
	err      error // a read error (the client went away, the read deadline passed)
}

func (b *uploadBody) Read(p []byte) (int, error) {
	switch {
	case b.tooLarge:
		return 0, errUploadTooLarge
	case b.eof:
		return 0, io.EOF
	case b.err != nil:
		return 0, b.err
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	b.note(err)
	if b.n > b.max {
		b.tooLarge = true
		return 0, errUploadTooLarge
	}
	return n, err
}

// drain reads and discards what is left of the body, at most limit bytes, and reports
// whether the body ended (the connection can then serve another request).
func (b *uploadBody) drain(limit int64) bool {
	if b.eof || b.err != nil || b.length >= 0 && b.length-b.n > limit {
		return b.eof
	}
	buf := make([]byte, 32<<10)
	for read, idle := int64(0), 0; !b.eof && b.err == nil && read <= limit && idle < 3; {
		n, err := b.r.Read(buf)
		read += int64(n)
		b.n += int64(n)
		if n == 0 {
			idle++
		}
		b.note(err)
	}
	return b.eof
}

// note records the end of the stream or a read error.
func (b *uploadBody) note(err error) {
	switch {
	case err == io.EOF && b.length >= 0 && b.n < b.length:
		b.err = io.ErrUnexpectedEOF
	case err == io.EOF:
		b.eof = true
	case err != nil:
		b.err = err
	}
}

// uploadBodyKey and ingestIdemKey are fiber Locals keys of POST /ingest.
type (
	uploadBodyKey struct{}
	ingestIdemKey struct{}
)

// streamUpload is requestBody for POST /ingest: it hands the handler the body stream
// and, after it, drains a small rest of the body or closes the connection. It takes the
// Idempotency-Key off the request, so that the guard's idempotency, which hashes the
// body in memory, skips the route; the handler applies the same rules to the spooled
// content instead.
func (s *server) streamUpload(c *fiber.Ctx) error {
	req := c.Request()
	var stream io.Reader = bytes.NewReader(nil)
	if req.IsBodyStream() {
		stream = req.BodyStream()
	}
	b := &uploadBody{r: stream, max: s.cfg.MaxUploadBytes, length: int64(req.Header.ContentLength())}
	c.Locals(uploadBodyKey{}, b)
	if ik := c.Get(HeaderIdempotencyKey); ik != "" {
		c.Locals(ingestIdemKey{}, strings.Clone(ik))
		req.Header.Del(HeaderIdempotencyKey)
	}
	defer func() {
		if !b.drain(maxDrainBytes) {
			c.Context().SetConnectionClose()
		}
	}()
	return c.Next()
}

// errIngestBusy is the answer to an ingest while another one runs: 503 with Retry-After
// (it is an errBusy to the error handler).
type errIngestBusy struct{ errBusy }

func (e errIngestBusy) Error() string {
	return fmt.Sprintf("another ingest is running (one at a time); retry in %s", e.retryAfter)
}

// As lets errors.As find the errBusy, which gives the status and Retry-After.
func (e errIngestBusy) As(target any) bool {
	if t, ok := target.(*errBusy); ok {
		*t = e.errBusy
		return true
	}
	return false
}

// tryIngest takes the ingest slot without waiting and returns its release.
func (s *server) tryIngest() (func(), error) {
	select {
	case s.ingestSlot <- struct{}{}:
		return func() { <-s.ingestSlot }, nil
	default:
		return nil, errIngestBusy{errBusy{retryAfter: ingestRetryAfter}}
	}
}

// ingestRequest is the parameters of one POST /ingest.
type ingestRequest struct {
	opt       ingest.Options
	name      string // of a raw body
	multipart bool
	boundary  string
	given     map[string]bool
	errs      query.ErrorList
}

// param reads one parameter from the query string or (form) a form field.
func (r *ingestRequest) param(key, val string, form bool) {
	add := func(msg, hint string) { r.errs = append(r.errs, paramError(key, val, msg, hint)) }
	if r.given[key] {
		add(fmt.Sprintf("parameter %s is given more than once", key), "give it once, in the query string or as a form field")
		return
	}
	r.given[key] = true
	switch {
	case key == paramFormat:
		f, err := ingest.ParseFormat(val)
		if err != nil {
			add(err.Error(), "")
		}
		r.opt.Format = f
	case key == paramSkipInvalid:
		b, err := strconv.ParseBool(val)
		if err != nil {
			add("skipInvalid must be true or false", "")
		}
		r.opt.SkipInvalid = b
	case key == paramName && !form:
		switch {
		case r.multipart:
			add("name names a raw body; the file parts of a multipart body carry their own filename", "")
		case !validUploadName(val):
			add(fmt.Sprintf("name must be 1-%d bytes of UTF-8 without '/', '\\' or control characters", maxUploadNameLen), "a file name such as ssl.log")
		}
		r.name = val
	case form:
		add(fmt.Sprintf("unknown form field %q", key), "form fields: file (one per file), format, skipInvalid")
	default:
		add(fmt.Sprintf("unknown parameter %q", key), "known parameters: format, skipInvalid, name")
	}
}

// validUploadName accepts a plain file name.
func validUploadName(s string) bool {
	if s == "" || len(s) > maxUploadNameLen || !utf8.ValidString(s) || s == "." || s == ".." {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '/' || r == '\\' })
}

// partName is the name of a file part: its filename (already without directories) with
// control characters replaced, or defaultUploadName.
func partName(p *multipart.Part) string {
	s := strings.ToValidUTF8(p.FileName(), "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '_'
		}
		return r
	}, s)
	for len(s) > maxUploadNameLen {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	if s == "" || s == "." || s == ".." || s == "/" {
		return defaultUploadName
	}
	return s
}

// parseIngestRequest checks the media type and the query string before any of the body
// is read.
func parseIngestRequest(c *fiber.Ctx) (*ingestRequest, error) {
	r := &ingestRequest{given: map[string]bool{}, name: defaultUploadName}
	ct := c.Get(fiber.HeaderContentType)
	if ct == "" {
		ct = fiber.MIMEOctetStream
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return nil, fiber.NewError(fiber.StatusUnsupportedMediaType, fmt.Sprintf("unreadable Content-Type %q: %v", ct, err))
	}
	enc := strings.ToLower(strings.TrimSpace(c.Get(fiber.HeaderContentEncoding)))
	switch {
	case mt == fiber.MIMEMultipartForm:
		r.multipart, r.boundary = true, params["boundary"]
		if r.boundary == "" {
			return nil, fiber.NewError(fiber.StatusBadRequest, "multipart/form-data without a boundary parameter")
		}
	case slices.Contains(rawUploadTypes, mt):
	default:
		hint := ""
		if mt == fiber.MIMEApplicationForm {
			hint = " (curl --data-binary sends that unless told otherwise: add -H 'Content-Type: application/octet-stream')"
		}
		return nil, fiber.NewError(fiber.StatusUnsupportedMediaType, fmt.Sprintf(
			"POST /ingest takes multipart/form-data (one part named file per file) or the raw content of one file as %s; not %s%s",
			strings.Join(rawUploadTypes, ", "), mt, hint))
	}
	if enc != "" && enc != "identity" && (r.multipart || enc != "gzip" && enc != "x-gzip") {
		return nil, fiber.NewError(fiber.StatusUnsupportedMediaType, fmt.Sprintf(
			"Content-Encoding %q is not supported here; upload gzip-compressed files as they are (they are recognised by their content)", enc))
	}
	c.Context().QueryArgs().VisitAll(func(k, v []byte) { r.param(string(k), string(v), false) })
	if len(r.errs) > 0 {
		return nil, r.errs
	}
	return r, nil
}

// spooled is one uploaded file: the name the client gave it and where it lies.
type spooled struct {
	name, path string
	size       int64
}

// upload is the private directory of one request and the files spooled into it.
type upload struct {
	dir   string
	files []spooled
	// digest hashes names and contents for Idempotency-Key (nil without one).
	digest hash.Hash
}

func newUpload(root string) (*upload, error) {
	dir, err := os.MkdirTemp(root, uploadDirPattern) // mode 0700
	if err != nil {
		return nil, err
	}
	return &upload{dir: dir}, nil
}

// remove deletes the directory and everything in it.
func (up *upload) remove(log *slog.Logger) {
	if err := os.RemoveAll(up.dir); err != nil {
		log.Error("removing an upload directory", "dir", up.dir, "err", err)
	}
}

// spoolError is a failure to write the upload to disk (a server problem, 500).
type spoolError struct{ err error }

func (e spoolError) Error() string { return "spooling the upload: " + e.err.Error() }
func (e spoolError) Unwrap() error { return e.err }

// spool copies one file of the upload to disk under a numbered name.
func (up *upload) spool(name string, r io.Reader) error {
	path := filepath.Join(up.dir, fmt.Sprintf(uploadFilePattern, len(up.files)+1))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return spoolError{err}
	}
	var w io.Writer = f
	if up.digest != nil {
		up.digest.Write([]byte(name + "\x00"))
		w = io.MultiWriter(f, up.digest)
	}
	n, err := io.Copy(w, r)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = spoolError{cerr}
	}
	if up.digest != nil {
		_ = binary.Write(up.digest, binary.BigEndian, n)
	}
	up.files = append(up.files, spooled{name: name, path: path, size: n})
	return err
}

// readMultipart spools each file part and returns the other form fields, in order.
func (up *upload) readMultipart(r io.Reader, boundary string) ([][2]string, error) {
	mr := multipart.NewReader(r, boundary)
	var form [][2]string
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return form, nil
		}
		if err != nil {
			return nil, err
		}
		switch key := part.FormName(); key {
		case formFile:
			if len(up.files) == maxUploadFiles {
				return nil, fiber.NewError(fiber.StatusBadRequest, fmt.Sprintf("more than %d files in one upload", maxUploadFiles))
			}
			if err := up.spool(partName(part), part); err != nil {
				return nil, err
			}
		default:
			v, err := io.ReadAll(io.LimitReader(part, maxFormValue+1))
			if err != nil {
				return nil, err
			}
			if len(v) > maxFormValue {
				return nil, query.ErrorList{paramError(key, "", fmt.Sprintf("form field %q is longer than %d bytes", key, maxFormValue), "")}
			}
			form = append(form, [2]string{key, string(v)})
		}
	}
}

// paths are the spooled files in upload order.
func (up *upload) paths() []string {
	out := make([]string, len(up.files))
	for i, f := range up.files {
		out[i] = f.path
	}
	return out
}

// nameOf is the client's name of a spooled path ("" when path is none of them).
func (up *upload) nameOf(path string) string {
	for _, f := range up.files {
		if f.path == path {
			return f.name
		}
	}
	return ""
}

// rename replaces the spooled paths in an ingest message by the client's file names,
// and any other mention of the directory by "upload": no server path reaches a client.
func (up *upload) rename(msg string) string {
	for _, f := range up.files {
		msg = strings.ReplaceAll(msg, f.path, f.name)
	}
	return strings.ReplaceAll(msg, up.dir, defaultUploadName)
}

// bodyError classifies an error met while reading the upload.
func (s *server) bodyError(err error, b *uploadBody) error {
	var se spoolError
	var fe *fiber.Error
	var list query.ErrorList
	switch {
	case b.tooLarge:
		return errUploadLimit(s.cfg.MaxUploadBytes)
	case b.err != nil, errors.Is(err, io.ErrUnexpectedEOF):
		return fiber.NewError(fiber.StatusBadRequest, "the upload was interrupted before its end; nothing was stored")
	case errors.As(err, &se):
		return err // 500, logged
	case errors.As(err, &fe), errors.As(err, &list):
		return err
	}
	return fiber.NewError(fiber.StatusBadRequest, "malformed multipart/form-data body: "+strings.TrimPrefix(err.Error(), "multipart: "))
}

func errUploadLimit(max int64) error {
	return fiber.NewError(fiber.StatusRequestEntityTooLarge, fmt.Sprintf("the upload is larger than the maximum of %d bytes; nothing was stored", max))
}

// ingestSummary is the answer to a successful ingest.
type ingestSummary struct {
	// Files lists the uploaded files in order.
	Files []uploadedFile `json:"files"`
	// Kinds counts the files per detected kind (zeek, pem, der, pkcs7, csv, ndjson, parquet).
	Kinds map[string]int `json:"kinds"`
	// Datasets has one entry per dataset (discovery, cert).
	Datasets map[query.Dataset]datasetCounts `json:"datasets"`
	// Skipped counts the malformed lines or certificates skipped (skipInvalid=true);
	// Examples quotes the first of them.
	Skipped  int64    `json:"skipped"`
	Examples []string `json:"examples"`
	// DurationMs is the time the server spent: receiving, parsing and storing.
	DurationMs int64 `json:"durationMs"`
}

type uploadedFile struct {
	Name  string `json:"name"`
	Bytes int64  `json:"bytes"`
}

// datasetCounts is what one dataset got from an ingest (engine.LoadStats).
type datasetCounts struct {
	// Rows were read from the files.
	Rows int64 `json:"rows"`
	// Inserted rows are new; Updated rows were stored already and changed (a
	// certificate seen again); Duplicates were stored already or repeated in the upload.
	Inserted   int64 `json:"inserted"`
	Updated    int64 `json:"updated"`
	Duplicates int64 `json:"duplicates"`
}

func (up *upload) summary(sum ingest.Summary, took time.Duration) ingestSummary {
	out := ingestSummary{Kinds: sum.Kinds, Datasets: map[query.Dataset]datasetCounts{}, Skipped: sum.Skipped,
		Examples: []string{}, DurationMs: took.Milliseconds()}
	if out.Kinds == nil {
		out.Kinds = map[string]int{}
	}
	for _, f := range up.files {
		out.Files = append(out.Files, uploadedFile{Name: f.name, Bytes: f.size})
	}
	for _, ds := range query.Datasets {
		st := sum.Loaded[ds]
		out.Datasets[ds] = datasetCounts{Rows: sum.Rows[ds], Inserted: st.Inserted, Updated: st.Updated, Duplicates: st.Skipped}
	}
	for _, ex := range sum.Examples {
		out.Examples = append(out.Examples, up.rename(ex))
	}
	return out
}

// auditDetail summarises an ingest in its audit record.
func (o ingestSummary) auditDetail() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ingest: %d files", len(o.Files))
	for _, ds := range query.Datasets {
		d := o.Datasets[ds]
		fmt.Fprintf(&b, "; %s %d rows, %d new, %d updated, %d duplicates", ds, d.Rows, d.Inserted, d.Updated, d.Duplicates)
	}
	if o.Skipped > 0 {
		fmt.Fprintf(&b, "; %d skipped", o.Skipped)
	}
	return b.String()
}

// ingestProblem is the problem document of an input error (422): RFC 7807 with the
// extension members file, line and field where the error has them.
type ingestProblem struct {
	Problem
	File  string `json:"file,omitempty"`
	Line  int    `json:"line,omitempty"`
	Field string `json:"field,omitempty"`
}

// inputProblem renders an input error of the run: the message as detail, with the
// uploaded file's name in place of the spooled path.
func (s *server) inputProblem(c *fiber.Ctx, up *upload, err error) error {
	p := ingestProblem{Problem: newProblem(fiber.StatusUnprocessableEntity, up.rename(err.Error()))}
	var zl *zeek.LineError
	var nl *native.LineError
	var ce *certs.Error
	switch {
	case errors.As(err, &zl):
		p.File, p.Line, p.Field = up.nameOf(zl.File), zl.Line, zl.Field
	case errors.As(err, &nl):
		p.File, p.Line, p.Field = up.nameOf(nl.File), nl.Line, nl.Field
	case errors.As(err, &ce):
		p.File, p.Line, p.Field = up.nameOf(ce.File), ce.Line, "certDer"
	default:
		for _, f := range up.files {
			if strings.HasPrefix(err.Error(), f.path+":") {
				p.File = f.name
			}
		}
	}
	p.Instance = c.Path()
	p.TraceID = requestID(c)
	c.Locals(auditDetailKey{}, "ingest: nothing stored: "+truncateDetail(p.Detail, 200))
	c.Status(p.Status)
	c.Set(fiber.HeaderContentType, ProblemContentType)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // as handleError: quoted values stay readable
	if err := enc.Encode(p); err != nil {
		return err
	}
	return c.Send(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

func truncateDetail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// ingestHandler serves POST /api/v1/ingest.
func (s *server) ingestHandler(c *fiber.Ctx) error {
	start := time.Now()
	body, _ := c.Locals(uploadBodyKey{}).(*uploadBody)
	if body == nil {
		return errors.New("ingest: the request body was not prepared by requestBody")
	}
	r, err := parseIngestRequest(c)
	if err != nil {
		return err
	}
	if s.ingest == nil {
		return fiber.NewError(fiber.StatusServiceUnavailable, "ingest is not available: the server has no database to load into")
	}
	if body.length > s.cfg.MaxUploadBytes {
		return errUploadLimit(s.cfg.MaxUploadBytes)
	}
	if !r.multipart && body.length < 0 {
		return fiber.NewError(fiber.StatusLengthRequired, "a raw upload needs a Content-Length (a chunked body cut short "+
			"cannot be told from a complete one); send multipart/form-data to upload without one")
	}
	ik, _ := c.Locals(ingestIdemKey{}).(string)
	if len(ik) > maxIdempotencyKeyLen {
		return fiber.NewError(fiber.StatusBadRequest, "the Idempotency-Key is longer than 255 characters")
	}
	release, err := s.tryIngest()
	if err != nil {
		return err
	}
	defer release()
	up, err := newUpload(s.cfg.UploadDir)
	if err != nil {
		return spoolError{err}
	}
	defer up.remove(s.log)
	if ik != "" {
		up.digest = sha256.New()
	}

	if r.multipart {
		form, err := up.readMultipart(body, r.boundary)
		if err != nil {
			return s.bodyError(err, body)
		}
		for _, kv := range form {
			r.param(kv[0], kv[1], true)
		}
		if len(r.errs) > 0 {
			return r.errs
		}
		if len(up.files) == 0 {
			return fiber.NewError(fiber.StatusBadRequest, "the multipart body has no file: send each file as a part named file (curl -F file=@ssl.log)")
		}
	} else {
		if err := up.spool(r.name, body); err != nil {
			return s.bodyError(err, body)
		}
		if up.files[0].size == 0 {
			return fiber.NewError(fiber.StatusBadRequest, "the request body is empty: send the content of a file")
		}
	}
	if ik == "" {
		return s.runIngest(c, up, r, start)
	}

	// Idempotency-Key: the rules of the other creating POSTs (idempotency.go), with the
	// parameters and the uploaded names and contents in place of the raw body, whose
	// multipart boundaries differ from one try to the next.
	fmt.Fprintf(up.digest, "\x00%s\x00%t", r.opt.Format, r.opt.SkipInvalid)
	return s.idempotentRun(c, idemKey(c, ik), [32]byte(up.digest.Sum(nil)), func() error {
		return s.runIngest(c, up, r, start)
	})
}

// runIngest runs the ingest over the spooled files and answers: 201 with the summary,
// 422 for an input error, 504 after Config.IngestTimeout.
func (s *server) runIngest(c *fiber.Ctx, up *upload, r *ingestRequest, start time.Time) error {
	ctx, cancel := context.WithDeadline(c.UserContext(), start.Add(s.cfg.IngestTimeout))
	defer cancel()
	// The request context ends when the server shuts down: the run is rolled back.
	stop := context.AfterFunc(c.Context(), cancel)
	defer stop()
	sum, err := s.ingest(ctx, up.paths(), r.opt)
	switch {
	case err == nil:
	case ingest.IsInputError(err):
		return s.inputProblem(c, up, err)
	case errors.Is(err, context.DeadlineExceeded) || engine.ErrorKind(err) == engine.Timeout:
		return fiber.NewError(fiber.StatusGatewayTimeout, fmt.Sprintf("the ingest did not finish within %s; nothing was stored", s.cfg.IngestTimeout))
	case errors.Is(err, context.Canceled) || engine.ErrorKind(err) == engine.Canceled:
		return fiber.NewError(fiber.StatusServiceUnavailable, "the ingest was canceled (the server is shutting down); nothing was stored")
	default:
		return err
	}
	out := up.summary(sum, time.Since(start))
	c.Locals(auditDetailKey{}, out.auditDetail())
	s.log.Info("ingest", "files", len(out.Files), "summary", out.auditDetail(), "took", time.Since(start).Round(time.Millisecond),
		"requestId", requestID(c))
	return c.Status(fiber.StatusCreated).JSON(out)
}
