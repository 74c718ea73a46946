package server

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// timeSyntax and timeExamples describe time frame bounds in error messages.
const (
	timeSyntax   = "epoch seconds, an RFC 3339 timestamp, a date, now, or now minus N minutes|hours|days|weeks"
	timeExamples = "e.g. 1714521600, 2024-05-01T00:00:00Z, 2024-05-01, now minus 48 hours"
)

// materializedViews are the named time frames of timeFrame[materializedView]: each
// reaches back the given duration from now (the end is open). The names follow
// CipherInsights; materializedViewNames lists them in documentation order.
var (
	materializedViews = map[string]time.Duration{
		"lastHour":    time.Hour,
		"last24Hours": 24 * time.Hour,
		"last7Days":   7 * 24 * time.Hour,
		"last30Days":  30 * 24 * time.Hour,
		"last90Days":  90 * 24 * time.Hour,
		"last365Days": 365 * 24 * time.Hour,
	}
	materializedViewNames = []string{"lastHour", "last24Hours", "last7Days", "last30Days", "last90Days", "last365Days"}
)

// relativeUnits are the units of "now minus N <unit>", singular and plural.
var relativeUnits = map[string]time.Duration{
	"minute": time.Minute, "minutes": time.Minute,
	"hour": time.Hour, "hours": time.Hour,
	"day": 24 * time.Hour, "days": 24 * time.Hour,
	"week": 7 * 24 * time.Hour, "weeks": 7 * 24 * time.Hour,
}

// maxRelative bounds N of a relative time so the subtraction cannot overflow.
const maxRelative = 100 * 365 * 24 * time.Hour

var errBadTime = errors.New("bad time")

// parseTime reads a time frame bound: epoch seconds (integer), an RFC 3339 timestamp,
// a date (midnight UTC), "now", or "now minus N <unit>" (case-insensitive), relative
// to now. The result is UTC.
func parseTime(val string, now time.Time) (time.Time, error) {
	val = strings.TrimSpace(val)
	if secs, err := strconv.ParseInt(val, 10, 64); err == nil {
		if secs < 0 || secs > 253402300799 { // up to 9999-12-31T23:59:59Z
			return time.Time{}, errBadTime
		}
		return time.Unix(secs, 0).UTC(), nil
	}
	for _, layout := range []string{time.RFC3339Nano, time.DateOnly} {
		if t, err := time.Parse(layout, val); err == nil {
			return t.UTC(), nil
		}
	}
	return parseRelative(val, now)
}

// parseRelative reads "now" and "now minus N <unit>".
func parseRelative(val string, now time.Time) (time.Time, error) {
	words := strings.Fields(strings.ToLower(val))
	if len(words) == 1 && words[0] == "now" {
		return now.UTC(), nil
	}
	if len(words) != 4 || words[0] != "now" || words[1] != "minus" {
		return time.Time{}, errBadTime
	}
	n, err := strconv.ParseInt(words[2], 10, 64)
	unit, ok := relativeUnits[words[3]]
	if err != nil || !ok || n < 0 || n > int64(maxRelative/unit) {
		return time.Time{}, errBadTime
	}
	return now.Add(-time.Duration(n) * unit).UTC(), nil
}
