package server

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
)

// HeaderServerTiming tells a client where the time of a page went (W3C Server Timing):
//
//	Server-Timing: queue;dur=0.004, count;dur=1.250, query;dur=3.871, encode;dur=0.412
//
// queue is the wait for a query slot, count the requested counts (only when asked for),
// query the statement up to its complete result, encode the rendering of the body. What a
// client measures beyond their sum is HTTP: request parsing, the network and its own
// reading. Exports do not carry it: their header goes out before the query ends.
const HeaderServerTiming = "Server-Timing"

// Phase names of HeaderServerTiming, in the order they happen.
const (
	phaseQueue  = "queue"
	phaseCount  = "count"
	phaseQuery  = "query"
	phaseEncode = "encode"
)

// phaseTimer measures the consecutive phases of one response; each phase runs from the
// end of the previous one (or the timer's start) to its own end.
type phaseTimer struct {
	last  time.Time
	value []byte
}

func startPhases() *phaseTimer { return &phaseTimer{last: time.Now()} }

// end closes the current phase under name.
func (t *phaseTimer) end(name string) {
	now := time.Now()
	if len(t.value) > 0 {
		t.value = append(t.value, ", "...)
	}
	t.value = append(t.value, name...)
	t.value = append(t.value, ";dur="...)
	// Milliseconds, the unit the specification prescribes, to the microsecond.
	t.value = strconv.AppendFloat(t.value, float64(now.Sub(t.last).Microseconds())/1e3, 'f', 3, 64)
	t.last = now
}

// set puts the phases ended so far in the response header.
func (t *phaseTimer) set(c *fiber.Ctx) {
	c.Response().Header.SetBytesV(HeaderServerTiming, t.value)
}
