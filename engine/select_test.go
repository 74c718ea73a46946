package engine

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cipherscope/cipherscope/query"
)

// selectFixture loads observations of three flows and two certificates.
func selectFixture(t *testing.T) *DB {
	t.Helper()
	db := openTest(t, "")
	a1 := obs("a1", "10.1.0.1", "10.2.0.1")
	a1["serverName"] = "db.example.com"
	a1["observedAt"] = ts("2024-05-01T08:00:00Z")
	a2 := obs("a2", "10.1.0.1", "10.2.0.1")
	a2["serverName"] = "db.example.com"
	a2["observedAt"] = ts("2024-05-01T09:00:00Z")
	a2["byteVolume"] = 500
	b := obs("b", "::ffff:10.1.0.1", "2001:db8::5") // mapped address: not inside 10/8
	b["byteVolume"] = 7
	c := obs("c", "192.168.1.1", "10.200.0.9")
	c["tlsVersion"] = "TLSv1.0"
	mustLoad(t, db, query.Discovery, []row{a1, a2, b, c})
	mustLoad(t, db, query.Cert, []row{cert("aa", "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"), cert("bb", "2024-03-01T00:00:00Z", "2024-03-02T00:00:00Z")})
	return db
}

func TestSelect(t *testing.T) {
	db := selectFixture(t)
	tests := []struct {
		name   string
		req    query.Request
		schema string
		rows   string
	}{
		{"rollup with ip filter",
			query.Request{Dataset: query.Discovery, Filter: "clientIp <<= INET '10.0.0.0/8'",
				Columns: []string{"clientIp", "serverIp", "serverName", "connectionCount", "byteVolume", "firstSeen", "lastSeen"},
				Sorts:   []query.Sort{{Field: "byteVolume", Desc: true}}},
			"[clientIp:utf8 serverIp:utf8 serverName:utf8 connectionCount:int64 byteVolume:int64 firstSeen:timestamp[us] lastSeen:timestamp[us]]",
			"[[10.1.0.1 10.2.0.1 db.example.com 2 1500 2024-05-01T08:00:00Z 2024-05-01T09:00:00Z]]"},
		{"aggregate filter, ip sort",
			query.Request{Dataset: query.Discovery, Filter: "byteVolume <= 1000", Columns: []string{"serverIp", "tlsVersion", "byteVolume"},
				Sorts: []query.Sort{{Field: "serverIp", Desc: false}}},
			"[serverIp:utf8 tlsVersion:utf8 byteVolume:int64]",
			"[[10.200.0.9 TLSv1.0 1000] [2001:db8::5 TLSv1.3 7]]"},
		{"time frame, limit",
			query.Request{Dataset: query.Discovery, Columns: []string{"clientIp", "connectionCount"},
				TimeFrame: query.TimeFrame{Begin: ts("2024-05-01T08:30:00Z"), End: ts("2024-05-02T00:00:00Z")}, Limit: 1,
				Sorts: []query.Sort{{Field: "clientIp", Desc: true}}},
			"[clientIp:utf8 connectionCount:int64]",
			"[[::ffff:10.1.0.1 1]]"},
		{"cert list filter",
			query.Request{Dataset: query.Cert, Filter: "certAltNames = 'example.com' AND certFirstSeen >= '2024-02-01'",
				Columns: []string{"certFingerprint", "certAltNames", "certIsCa"}},
			"[certFingerprint:utf8 certAltNames:list<l: utf8, nullable> certIsCa:bool]",
			`[[bb ["www.example.com","example.com"] false]]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rr, err := db.Select(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			defer rr.Release()
			schema, rows := readAll(t, rr)
			if got := fmt.Sprint(schema); got != tt.schema {
				t.Errorf("schema = %s\n    want %s", got, tt.schema)
			}
			if got := fmt.Sprint(rows); got != tt.rows {
				t.Errorf("rows = %s\n  want %s", got, tt.rows)
			}
			n, err := db.Count(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if tt.req.Limit == 0 && n != int64(len(rows)) {
				t.Errorf("Count = %d, Select returned %d rows", n, len(rows))
			}
		})
	}
}

func TestSelectErrors(t *testing.T) {
	db := selectFixture(t)
	ctx := context.Background()
	_, err := db.Select(ctx, query.Request{Dataset: query.Discovery, Filter: "serverIpp = '1.2.3.4'"})
	var list query.ErrorList
	if ErrorKind(err) != Invalid || !errors.As(err, &list) || len(list) != 1 || list[0].Kind != query.UnknownFieldError {
		t.Errorf("Select with unknown field = %v, want Invalid wrapping one unknown_field error", err)
	}
	_, err = db.Count(ctx, query.Request{Dataset: "nope"})
	if ErrorKind(err) != Invalid {
		t.Errorf("Count of unknown dataset = %v, want Invalid", err)
	}
	short, cancel := context.WithTimeout(ctx, time.Nanosecond)
	defer cancel()
	time.Sleep(time.Millisecond)
	_, err = db.Select(short, query.Request{Dataset: query.Cert})
	if ErrorKind(err) != Timeout {
		t.Errorf("Select after deadline = %v (kind %v), want Timeout", err, ErrorKind(err))
	}
}
