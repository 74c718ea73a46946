package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/cipherscope/cipherscope/ingest/certs"
	"github.com/cipherscope/cipherscope/ingest/native"
)

// readOther reads certificate and native files.
func (r *run) readOther(path string, kind fileKind, in io.Reader) error {
	bad := func(err error) error { return r.bad(err) }
	var res native.Result
	var err error
	switch kind {
	case kindPEM, kindDER, kindPKCS7:
		return r.readCerts(path, in)
	case kindNativeCSV:
		res, err = native.ReadCSV(path, in, r.opt.Allocator, bad)
	case kindNativeNDJSON:
		res, err = native.ReadNDJSON(path, in, r.opt.Allocator, bad)
	case kindParquet:
		var data []byte
		if data, err = io.ReadAll(in); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		res, err = native.ReadParquet(context.Background(), path, data, r.opt.Allocator)
	default:
		return &InputError{Err: fmt.Errorf("%s: unsupported file kind %s", path, kind)}
	}
	if err != nil {
		var le *native.LineError
		if errors.As(err, &le) && !IsInputError(err) {
			return &InputError{Err: err}
		}
		return err
	}
	r.extra[res.Dataset] = append(r.extra[res.Dataset], res.Batches...)
	return nil
}

// readCerts reads a PEM file or bundle, or one DER certificate.
func (r *run) readCerts(path string, in io.Reader) error {
	data, err := io.ReadAll(in)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	rows, err := certs.Parse(path, data, certs.SourceOf(path), func(err error) error { return r.bad(err) })
	if err != nil {
		if !IsInputError(err) {
			err = &InputError{Err: err}
		}
		return err
	}
	for i := range rows {
		r.cert.AppendCert(&rows[i])
	}
	return nil
}
