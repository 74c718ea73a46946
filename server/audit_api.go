package server

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/cipherscope/cipherscope/engine"
)

// maxAuditLimit is the largest page of GET /audit.
const maxAuditLimit = 1000

// listAudit: GET /audit?from=&to=&keyId=&outcome=success|failure|<status>&limit=&offset=
// (offset counts entries). from/to take the time frame syntax (epoch seconds, RFC 3339,
// dates, now minus N units).
func (s *server) listAudit(c *fiber.Ctx) error {
	f := engine.AuditFilter{KeyID: strings.Clone(c.Query("keyId")), Outcome: strings.Clone(c.Query("outcome")), Limit: 100}
	now := s.cfg.AuthNow()
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := c.Query(p.name); v != "" {
			t, err := parseTime(v, now)
			if err != nil {
				return fiber.NewError(fiber.StatusBadRequest, p.name+": "+err.Error())
			}
			*p.dst = t
		}
	}
	for _, p := range []struct {
		name     string
		dst      *int
		min, max int
	}{{"limit", &f.Limit, 1, maxAuditLimit}, {"offset", &f.Offset, 0, 1 << 31}} {
		if v := c.Query(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < p.min || n > p.max {
				return fiber.NewError(fiber.StatusBadRequest, p.name+" must be an integer from "+strconv.Itoa(p.min)+" to "+strconv.Itoa(p.max))
			}
			*p.dst = n
		}
	}
	entries, total, err := s.keys.ListAudit(c.UserContext(), f)
	if err != nil {
		return err
	}
	c.Set(HeaderTotalCount, strconv.FormatInt(total, 10))
	return c.JSON(fiber.Map{"data": entries,
		"pagination":    fiber.Map{"limit": f.Limit, "offset": f.Offset, "returned": len(entries)},
		"filteredCount": total})
}
