package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/cipherscope/cipherscope/engine"
	"github.com/cipherscope/cipherscope/query"
	"github.com/cipherscope/cipherscope/server/rowenc"
)

// queryOptions are the flags of `query`.
type queryOptions struct {
	db, filter, columns, sorts, format string
	limit                              int64
}

// runQuery runs one query on a database file and writes the rows to stdout: a JSON
// array with one object per line, or CSV with a header. Filter errors go to stderr
// with a caret under the offending token, and exit code 2.
func runQuery(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("query", "--db FILE discovery|cert [--filter F] [--columns a,b] [--sorts 'f desc'] [--limit N] [--format json|csv]", e.stderr)
	var o queryOptions
	fs.StringVar(&o.db, "db", defaultDB, "database `file` (opened read-only)")
	fs.StringVar(&o.filter, "filter", "", "filter expression, e.g. \"tlsVersion = 'TLSv1.3'\"")
	fs.StringVar(&o.columns, "columns", "", "comma-separated fields to output (default: all)")
	fs.StringVar(&o.sorts, "sorts", "", "comma-separated sort keys, each 'field asc' or 'field desc'")
	fs.Int64Var(&o.limit, "limit", 0, "maximum number of rows (0: all)")
	fs.StringVar(&o.format, "format", "json", "output `format`: json or csv")
	pos, err := parseFlags(fs, args, e.getenv)
	if err != nil {
		return err
	}
	req, err := o.request(pos)
	if err != nil {
		return reportQueryError(e, err)
	}
	db, err := engine.Open(ctx, engine.Config{Path: o.db, ReadOnly: true})
	if err != nil {
		return err
	}
	defer db.Close()
	rr, err := db.Select(ctx, req)
	if err != nil {
		return reportQueryError(e, err)
	}
	defer rr.Release()
	return writeRows(e.stdout, rr, o.format, columnsOf(req))
}

// request builds the query from the positional dataset and the flags.
func (o queryOptions) request(pos []string) (query.Request, error) {
	if len(pos) != 1 {
		return query.Request{}, usagef("give exactly one dataset: discovery or cert")
	}
	ds := query.Dataset(pos[0])
	if !query.ValidDataset(ds) {
		return query.Request{}, usagef("unknown dataset %q: use discovery or cert", pos[0])
	}
	if o.format != "json" && o.format != "csv" {
		return query.Request{}, usagef("unknown --format %q: use json or csv", o.format)
	}
	if o.limit < 0 {
		return query.Request{}, usagef("--limit must not be negative")
	}
	req := query.Request{Dataset: ds, Filter: o.filter, Limit: o.limit}
	var errs query.ErrorList
	for _, c := range splitList(o.columns) {
		if _, ok := query.LookupField(ds, c); !ok {
			errs = append(errs, unknownFieldError(ds, query.ParamColumns, c))
			continue
		}
		req.Columns = append(req.Columns, c)
	}
	for _, s := range splitList(o.sorts) {
		sort, err := query.ParseSort(s)
		if err != nil {
			errs = appendQueryError(errs, query.ParamSorts, err)
			continue
		}
		req.Sorts = append(req.Sorts, sort)
	}
	if len(errs) > 0 {
		return req, errs
	}
	return req, nil
}

func splitList(s string) []string {
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

func unknownFieldError(ds query.Dataset, param, name string) *query.Error {
	hint := ""
	if s := query.SuggestFields(ds, name); len(s) > 0 {
		hint = "did you mean " + strings.Join(s, ", ") + "?"
	}
	return &query.Error{Kind: query.UnknownFieldError, Param: param, Token: name,
		Message: fmt.Sprintf("unknown field %q in dataset %s", name, ds), Hint: hint}
}

func appendQueryError(errs query.ErrorList, param string, err error) query.ErrorList {
	var list query.ErrorList
	var qe *query.Error
	switch {
	case errors.As(err, &list):
		return append(errs, list...)
	case errors.As(err, &qe):
		if qe.Param == "" {
			qe.Param = param
		}
		return append(errs, qe)
	}
	return append(errs, &query.Error{Kind: query.ValueError, Param: param, Message: err.Error()})
}

// reportQueryError prints input errors (usage, filter, columns, sorts) for a human and
// maps them to exit code 2; anything else is a runtime error.
func reportQueryError(e env, err error) error {
	var list query.ErrorList
	var qe *query.Error
	switch {
	case errors.As(err, &list):
		fmt.Fprint(e.stderr, list.Pretty())
	case errors.As(err, &qe):
		fmt.Fprint(e.stderr, qe.Pretty())
	case engine.ErrorKind(err) == engine.Invalid:
		return &usageError{msg: err.Error()}
	default:
		return err
	}
	return &alreadyReported{code: exitUsage}
}

// columnsOf is the output column order: the requested columns, else the catalog's.
func columnsOf(req query.Request) []string {
	if len(req.Columns) > 0 {
		return req.Columns
	}
	var out []string
	for _, f := range query.Fields(req.Dataset) {
		out = append(out, f.Name)
	}
	return out
}

// writeRows streams the result to w in the chosen format.
func writeRows(w io.Writer, rr array.RecordReader, format string, columns []string) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var err error
	if format == "csv" {
		err = writeCSV(bw, rr, columns)
	} else {
		err = writeJSON(bw, rr, columns)
	}
	if err != nil {
		return err
	}
	return bw.Flush()
}

func writeJSON(w io.Writer, rr array.RecordReader, columns []string) error {
	enc, err := rowenc.NewJSONWriter(w, rr.Schema(), columns, ",\n")
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, "[\n"); err != nil {
		return err
	}
	if err := drain(rr, enc.Write); err != nil {
		return err
	}
	if err := enc.Flush(); err != nil {
		return err
	}
	end := "\n]\n"
	if enc.Rows() == 0 {
		end = "]\n"
	}
	_, err = io.WriteString(w, end)
	return err
}

func writeCSV(w io.Writer, rr array.RecordReader, columns []string) error {
	enc, err := rowenc.NewCSVWriter(w, rr.Schema(), columns)
	if err != nil {
		return err
	}
	if err := drain(rr, enc.Write); err != nil {
		return err
	}
	return enc.Flush()
}

// drain feeds every batch of rr to write and reports the reader's error.
func drain(rr array.RecordReader, write func(arrow.RecordBatch) error) error {
	for rr.Next() {
		if err := write(rr.RecordBatch()); err != nil {
			return err
		}
	}
	return rr.Err()
}
