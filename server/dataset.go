package server

import (
	"context"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/gofiber/fiber/v2"

	"github.com/cipherscope/cipherscope/query"
)

// HeaderTotalCount carries the number of rows matching the request over all pages,
// whenever it is known: when the request asked for it (reportFilteredCount=true), and
// when the page itself proves it (a non-empty last page, or an empty first page).
const HeaderTotalCount = "X-Total-Count"

// datasetHandler serves GET /api/v1/dta_<dataset>: the parameters come from the query
// string. See serveList for the response.
func (s *server) datasetHandler(ds query.Dataset) fiber.Handler {
	return func(c *fiber.Ctx) error {
		req, err := parseListRequest(c, ds, s.cfg.Now())
		if err != nil {
			return err
		}
		f, err := negotiate(c, req.zip)
		if err != nil {
			return err
		}
		return s.serveList(c, f, req)
	}
}

// serveList answers a parsed dataset request in format f. A page of rows (JSON:
//
//	{"data":[{...},...],"pagination":{"limit":L,"offset":O,"returned":N},
//	 "filteredCount":F,"totalCount":T}
//
// with the counts only when requested) is encoded from the Arrow batches into the
// buffered response body; the query runs, and fails, before anything is sent, so errors
// still get a proper status.
func (s *server) serveList(c *fiber.Ctx, f format, req listRequest) error {
	switch {
	case req.export():
		return s.serveExport(c, f, req)
	case req.Limit > s.cfg.MaxLimit:
		return errTooLarge(req.Limit, s.cfg.MaxLimit)
	case req.cursorMode:
		return s.serveCursorPage(c, f, req)
	}
	phases := startPhases()
	ctx, counts, done, err := s.beginPage(c, req, phases)
	if err != nil {
		return err
	}
	defer done()
	rr, err := s.store.Select(ctx, req.Request)
	if err != nil {
		return err
	}
	defer rr.Release()
	phases.end(phaseQuery)
	meta := pageMeta{limit: req.Limit, page: req.page, filtered: counts.filtered, total: counts.total}
	n, err := encodeAll(c, f, rr, req.columns, meta)
	if err != nil {
		return err
	}
	phases.end(phaseEncode)
	phases.set(c)
	setCountHeader(c, knownCount(req, counts.filtered, n))
	return nil
}

// beginPage starts a page query: it takes a query slot (or fails with 503 after the
// queue wait), starts the per-query timeout and runs the requested counts, ending the
// queue and count phases. done releases both; on error nothing is held.
func (s *server) beginPage(c *fiber.Ctx, req listRequest, phases *phaseTimer) (context.Context, listCounts, func(), error) {
	release, err := s.acquire(c.UserContext())
	if err != nil {
		return nil, listCounts{}, nil, err
	}
	phases.end(phaseQueue)
	ctx, cancel := context.WithTimeout(c.UserContext(), s.cfg.QueryTimeout)
	done := func() { cancel(); release() }
	counts, err := s.counts(ctx, req)
	if err != nil {
		done()
		return nil, listCounts{}, nil, err
	}
	if req.reportFiltered || req.reportTotal {
		phases.end(phaseCount)
	}
	return ctx, counts, done, nil
}

// encodeAll writes every batch of rr to the response body in format f.
func encodeAll(c *fiber.Ctx, f format, rr array.RecordReader, columns []string, meta pageMeta) (int64, error) {
	w, err := f.newWriter(c.Response().BodyWriter(), rr.Schema(), columns)
	if err != nil {
		return 0, err
	}
	c.Set(fiber.HeaderContentType, f.contentType)
	for rr.Next() {
		if err := w.Write(rr.RecordBatch()); err != nil {
			return 0, err
		}
	}
	if err := rr.Err(); err != nil {
		return 0, err
	}
	return w.Rows(), w.Close(meta)
}

// knownCount is the number of matching rows when known, else -1: the requested count,
// or what a short page proves (offset paging only: rows before it plus its own).
func knownCount(req listRequest, filtered, returned int64) int64 {
	switch {
	case filtered >= 0:
		return filtered
	case req.cursorMode:
		return -1
	case returned > 0 && returned < req.Limit, returned == 0 && req.page == 0:
		return req.Offset + returned
	}
	return -1
}

func setCountHeader(c *fiber.Ctx, n int64) {
	if n >= 0 {
		c.Set(HeaderTotalCount, strconv.FormatInt(n, 10))
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
