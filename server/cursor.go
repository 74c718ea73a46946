package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/cipherscope/cipherscope/query"
)

// HeaderNextCursor carries the cursor of the next page in every format (JSON also has it
// in pagination.nextCursor); it is absent on the last page.
const HeaderNextCursor = "X-Next-Cursor"

// cursorMACLen is the length of a cursor's truncated HMAC-SHA256 (128 bits).
const cursorMACLen = 16

// cursorState is what a cursor carries: the key values of the last row returned, the
// query it belongs to, and the time frame as resolved on the first page, so that
// relative times ("now minus 1 hours") do not move between pages.
type cursorState struct {
	Binding string    `json:"b"`
	Keys    []*string `json:"k"` // nil for NULL; text as in keyText
	Begin   int64     `json:"tb"`
	End     int64     `json:"te"`
}

// cursorBinding identifies the query a cursor was issued for: dataset, filter, sorts and
// time frame as given. Columns and limit may change between pages.
func cursorBinding(r listRequest) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", r.Dataset, r.Filter)
	for _, s := range r.Sorts {
		fmt.Fprintf(h, "%s\x00", s)
	}
	fmt.Fprintf(h, "\x00%s", r.timeFrameText)
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:12])
}

// encodeCursor signs the state: base64url(JSON) "." base64url(HMAC).
func (s *server) encodeCursor(st cursorState) string {
	payload, _ := json.Marshal(st) // strings and integers only: cannot fail
	mac := hmac.New(sha256.New, s.cfg.CursorKey)
	mac.Write(payload)
	return base64.RawURLEncoding.EncodeToString(payload) + "." +
		base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:cursorMACLen])
}

// errBadCursor is the one message for every cursor problem: whether it was forged,
// truncated or issued for another query does not help the client.
func errBadCursor(token string) error {
	return query.ErrorList{paramError(paramCursor, "", "the cursor is invalid or belongs to another query (filter, sorts, timeFrame)",
		"start again with an empty cursor, keeping the other parameters unchanged")}
}

// decodeCursor checks the signature and the binding and returns the key values (typed
// for CompileAfter) and the pinned time frame. An empty token starts from the first row.
func (s *server) decodeCursor(r listRequest, keys []query.SortKey) ([]any, query.TimeFrame, error) {
	if r.cursor == "" {
		return nil, r.TimeFrame, nil
	}
	st, ok := s.verifyCursor(r.cursor)
	if !ok || st.Binding != cursorBinding(r) || len(st.Keys) != len(keys) {
		return nil, query.TimeFrame{}, errBadCursor(r.cursor)
	}
	after := make([]any, len(keys))
	for i, k := range keys {
		v, err := parseKeyText(k.Field, st.Keys[i])
		if err != nil {
			return nil, query.TimeFrame{}, errBadCursor(r.cursor)
		}
		after[i] = v
	}
	return after, query.TimeFrame{Begin: fromMicros(st.Begin), End: fromMicros(st.End)}, nil
}

func (s *server) verifyCursor(token string) (cursorState, bool) {
	var st cursorState
	p, m, ok := strings.Cut(token, ".")
	if !ok {
		return st, false
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p)
	sig, err2 := base64.RawURLEncoding.DecodeString(m)
	if err1 != nil || err2 != nil {
		return st, false
	}
	mac := hmac.New(sha256.New, s.cfg.CursorKey)
	mac.Write(payload)
	if !hmac.Equal(sig, mac.Sum(nil)[:cursorMACLen]) {
		return st, false
	}
	return st, json.Unmarshal(payload, &st) == nil
}

// micros encodes a time frame bound; 0 is "unbounded" (the zero time).
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// keyReader reads the key values of a row from result batches.
type keyReader struct{ keys []query.SortKey }

// row returns the key values of row i of rec as text (nil for NULL).
func (k keyReader) row(rec arrow.RecordBatch, i int) ([]*string, error) {
	out := make([]*string, len(k.keys))
	for j, key := range k.keys {
		idx := rec.Schema().FieldIndices(key.Field.Name)
		if len(idx) == 0 {
			return nil, fmt.Errorf("server: key column %s missing from the result", key.Field.Name)
		}
		col := rec.Column(idx[0])
		if col.IsNull(i) {
			continue
		}
		s := keyText(col, i)
		out[j] = &s
	}
	return out, nil
}

// keyText renders a key value so that parseKeyText restores it exactly: timestamps as
// epoch microseconds, floats with the shortest exact text, everything else as its text.
func keyText(col arrow.Array, i int) string {
	if ts, ok := col.(*array.Timestamp); ok {
		unit := ts.DataType().(*arrow.TimestampType).Unit
		return strconv.FormatInt(ts.Value(i).ToTime(unit).UnixMicro(), 10)
	}
	// Arrow strings alias the batch's buffers, which are reused after Release: copy.
	return strings.Clone(col.ValueStr(i))
}

// parseKeyText is the inverse of keyText for a field's type.
func parseKeyText(f query.Field, s *string) (any, error) {
	if s == nil {
		return nil, nil
	}
	switch f.Type {
	case query.Int:
		return strconv.ParseInt(*s, 10, 64)
	case query.Float:
		return strconv.ParseFloat(*s, 64)
	case query.Bool:
		return strconv.ParseBool(*s)
	case query.Timestamp:
		us, err := strconv.ParseInt(*s, 10, 64)
		return time.UnixMicro(us).UTC(), err
	case query.IP:
		return netip.ParseAddr(*s)
	case query.String:
		return *s, nil
	}
	return nil, fmt.Errorf("server: no cursor support for %s", f.Type)
}
