package server

import (
	"context"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/gofiber/fiber/v2"

	"github.com/cipherscope/cipherscope/query"
	"github.com/cipherscope/cipherscope/server/rowenc"
)

// HeaderTotalCount carries the number of rows matching the request over all pages, when
// the request asked for it (reportFilteredCount=true).
const HeaderTotalCount = "X-Total-Count"

// datasetHandler serves GET /api/v1/dta_<dataset>:
//
//	{"data":[{...},...],"pagination":{"limit":L,"offset":O,"returned":N},
//	 "filteredCount":F,"totalCount":T}
//
// The counts appear only when requested. Rows are encoded from the Arrow batches straight
// into the response body; the query runs (and fails) before the first byte is written,
// so errors still get a proper status.
func (s *server) datasetHandler(ds query.Dataset) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if c.Get(fiber.HeaderAccept) != "" && c.Accepts(fiber.MIMEApplicationJSON) == "" {
			return fiber.NewError(fiber.StatusNotAcceptable, "this route produces application/json only (text/csv and others are planned)")
		}
		req, err := parseListRequest(c, ds)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(c.UserContext(), s.cfg.QueryTimeout)
		defer cancel()
		counts, err := s.counts(ctx, req)
		if err != nil {
			return err
		}
		rr, err := s.store.Select(ctx, req.Request)
		if err != nil {
			return err
		}
		defer rr.Release()
		if counts.filtered >= 0 {
			c.Set(HeaderTotalCount, strconv.FormatInt(counts.filtered, 10))
		}
		return writeList(c, rr, req, counts)
	}
}

// listCounts holds the optional counts of a response; -1 means not requested.
type listCounts struct{ filtered, total int64 }

// counts runs the count queries the request asked for.
func (s *server) counts(ctx context.Context, req listRequest) (listCounts, error) {
	out := listCounts{filtered: -1, total: -1}
	var err error
	if req.reportFiltered {
		if out.filtered, err = s.store.Count(ctx, req.Request); err != nil {
			return out, err
		}
	}
	if req.reportTotal {
		// The total is over the same time frame, without the filter.
		all := req.Request
		all.Filter = ""
		if out.total, err = s.store.Count(ctx, all); err != nil {
			return out, err
		}
	}
	return out, nil
}

// writeList encodes the result into the response body. On a mid-stream error the body is
// discarded by the error handler, which writes the problem document instead.
func writeList(c *fiber.Ctx, rr array.RecordReader, req listRequest, counts listCounts) error {
	w := c.Response().BodyWriter()
	enc, err := rowenc.NewJSONWriter(w, rr.Schema(), req.columns, ",")
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	if _, err := w.Write([]byte(`{"data":[`)); err != nil {
		return err
	}
	for rr.Next() {
		if err := enc.Write(rr.RecordBatch()); err != nil {
			return err
		}
	}
	if err := rr.Err(); err != nil {
		return err
	}
	if err := enc.Flush(); err != nil {
		return err
	}
	tail := make([]byte, 0, 160)
	tail = append(tail, `],"pagination":{"limit":`...)
	tail = strconv.AppendInt(tail, req.Limit, 10)
	tail = append(tail, `,"offset":`...)
	tail = strconv.AppendInt(tail, req.page, 10)
	tail = append(tail, `,"returned":`...)
	tail = strconv.AppendInt(tail, enc.Rows(), 10)
	tail = append(tail, '}')
	if counts.filtered >= 0 {
		tail = append(tail, `,"filteredCount":`...)
		tail = strconv.AppendInt(tail, counts.filtered, 10)
	}
	if counts.total >= 0 {
		tail = append(tail, `,"totalCount":`...)
		tail = strconv.AppendInt(tail, counts.total, 10)
	}
	tail = append(tail, '}')
	_, err = w.Write(tail)
	return err
}
