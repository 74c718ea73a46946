package engine

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/cipherscope/cipherscope/query"
)

func TestLoadStoresIPKeys(t *testing.T) {
	tests := []struct {
		in, canonical string
		fam           string
	}{
		{"10.1.2.3", "10.1.2.3", "4"},
		{"0.0.0.0", "0.0.0.0", "4"},
		{"255.255.255.255", "255.255.255.255", "4"},
		{"2001:DB8:0:0::1", "2001:db8::1", "6"},
		{"::", "::", "6"},
		{"::1", "::1", "6"},
		{"::ffff:10.1.2.3", "::ffff:10.1.2.3", "6"},
		{"0:0:0:0:0:ffff:0a01:0203", "::ffff:10.1.2.3", "6"},
		{"7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "6"},
		{"8000::", "8000::", "6"},
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "6"},
	}
	db := openTest(t, "")
	var rows []row
	for i, tt := range tests {
		rows = append(rows, obs(string(rune('a'+i)), tt.in, "192.0.2.1"))
	}
	st := mustLoad(t, db, query.Discovery, rows[:4], rows[4:])
	if st.Rows != int64(len(tests)) || st.Inserted != st.Rows || st.Batches != 2 {
		t.Errorf("stats = %+v", st)
	}
	got := queryStrings(t, db, `SELECT "clientIp", CAST("clientIp__fam" AS VARCHAR), CAST("clientIp__num" AS VARCHAR)
		FROM discovery_obs JOIN discovery_flow USING ("flowId") ORDER BY "obsUid"`)
	var want [][]string
	for _, tt := range tests {
		want = append(want, []string{tt.canonical, tt.fam, query.KeyOf(netip.MustParseAddr(tt.in)).Decimal()})
	}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("stored keys:\n got %v\nwant %v", got, want)
	}
	// Address order is numeric order within a family: the point of the encoding.
	got = queryStrings(t, db, `SELECT "clientIp" FROM discovery_obs JOIN discovery_flow USING ("flowId") WHERE "clientIp__fam" = 6 ORDER BY "clientIp__num"`)
	wantOrder := [][]string{{"::"}, {"::1"}, {"::ffff:10.1.2.3"}, {"::ffff:10.1.2.3"}, {"2001:db8::1"},
		{"7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}, {"8000::"}, {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}}
	if !slices.EqualFunc(got, wantOrder, slices.Equal) {
		t.Errorf("order by number:\n got %v\nwant %v", got, wantOrder)
	}
}

func TestLoadStoresAllTypes(t *testing.T) {
	db := openTest(t, "")
	full := obs("full", "10.0.0.1", "2001:db8::2")
	full["clientName"] = "laptop.example"
	full["serverName"] = "www.example.com"
	full["weakReasons"] = []string{"protocol SSLv3", "cipher RC4"}
	full["forwardSecrecy"] = true
	full["pqcKex"] = false
	empty := obs("empty", "10.0.0.1", "10.0.0.2")
	empty["weakReasons"] = []string{}
	nulls := row{"obsUid": "nulls", "observedAt": ts("2024-05-01T23:59:59Z"), "clientIp": "10.0.0.3", "serverIp": "10.0.0.4"}
	mustLoad(t, db, query.Discovery, []row{full, empty, nulls})
	got := queryStrings(t, db, `SELECT "obsUid", CAST("observedAt" AS VARCHAR), "clientName", "serverName", "serverIp",
		CAST("serverPort" AS VARCHAR), CAST("weakReasons" AS VARCHAR), CAST("forwardSecrecy" AS VARCHAR), CAST("pqcKex" AS VARCHAR),
		CAST(discovery_obs."byteVolume" AS VARCHAR)
		FROM discovery_obs JOIN discovery_flow USING ("flowId") ORDER BY "obsUid"`)
	want := [][]string{
		{"empty", "2024-05-01 10:00:00", "NULL", "NULL", "10.0.0.2", "443", "[]", "NULL", "NULL", "1000"},
		{"full", "2024-05-01 10:00:00", "laptop.example", "www.example.com", "2001:db8::2", "443", "[protocol SSLv3, cipher RC4]", "true", "false", "1000"},
		{"nulls", "2024-05-01 23:59:59", "NULL", "NULL", "10.0.0.4", "NULL", "NULL", "NULL", "NULL", "NULL"},
	}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("stored rows:\n got %v\nwant %v", got, want)
	}
}

func TestLoadRejectsBadInput(t *testing.T) {
	tests := []struct {
		name string
		rows []row
		msg  []string
	}{
		{"unparsable", []row{obs("a", "10.0.0.1", "10.0.0.2"), obs("b", "10.0.0.1", "10.0.0.256")},
			[]string{"row 2", "serverIp", `"10.0.0.256"`}},
		{"leading zero", []row{obs("a", "010.0.0.1", "10.0.0.2")}, []string{"row 1", "clientIp", `"010.0.0.1"`}},
		{"zone", []row{obs("a", "fe80::1%eth0", "10.0.0.2")}, []string{"row 1", "zones"}},
		{"prefix", []row{obs("a", "10.0.0.0/8", "10.0.0.2")}, []string{"row 1", `"10.0.0.0/8"`}},
		{"null key", []row{obs("a", "10.0.0.1", "10.0.0.2"), {"obsUid": "b", "observedAt": ts("2024-01-01T00:00:00Z"), "clientIp": "10.0.0.1"}},
			[]string{"row 2", "serverIp is NULL"}},
		{"null obsUid", []row{{"observedAt": ts("2024-01-01T00:00:00Z"), "clientIp": "10.0.0.1", "serverIp": "10.0.0.1"}},
			[]string{"row 1: obsUid is NULL"}},
		{"null observedAt", []row{obs("a", "10.0.0.1", "10.0.0.2"), {"obsUid": "b", "clientIp": "10.0.0.1", "serverIp": "10.0.0.1"}},
			[]string{"row 2: observedAt is NULL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openTest(t, "")
			mustLoad(t, db, query.Discovery, []row{obs("old", "10.9.9.9", "10.9.9.8")})
			_, err := load(t, db, query.Discovery, tt.rows)
			if ErrorKind(err) != Invalid {
				t.Fatalf("Load = %v (kind %v), want kind Invalid", err, ErrorKind(err))
			}
			for _, m := range tt.msg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
			assertOnlyRow(t, db, "old")
		})
	}
}

// assertOnlyRow checks that discovery holds exactly the observation uid.
func assertOnlyRow(t *testing.T, db *DB, uid string) {
	t.Helper()
	got := queryStrings(t, db, `SELECT "obsUid" FROM discovery_obs JOIN discovery_flow USING ("flowId")`)
	if want := [][]string{{uid}}; !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("rows after failed load = %v, want %v", got, want)
	}
	if v := queryStrings(t, db, `SELECT view_name FROM duckdb_views() WHERE NOT internal`); len(v) != 0 {
		t.Errorf("views left behind: %v", v)
	}
	if n := queryStrings(t, db, `SELECT count(*) FROM discovery_flow`); n[0][0] != "1" {
		t.Errorf("flows after failed load = %v, want 1", n)
	}
	if v := queryStrings(t, db, `SELECT table_name FROM duckdb_tables() WHERE temporary`); len(v) != 0 {
		t.Errorf("staging tables left behind: %v", v)
	}
}

// TestLoadSharesFlows checks that observations of one flow key share one flow row, across
// loads and within one, with NULL key columns matching NULL (IS NOT DISTINCT FROM).
func TestLoadSharesFlows(t *testing.T) {
	db := openTest(t, "")
	a1 := obs("a1", "10.0.0.1", "10.0.0.2") // serverName, certFingerprint... NULL
	a2 := obs("a2", "10.0.0.1", "10.0.0.2")
	b := obs("b", "10.0.0.1", "10.0.0.2")
	b["serverName"] = "example.com"
	c := obs("c", "2001:db8::1", "10.0.0.2")
	mustLoad(t, db, query.Discovery, []row{a1, b})
	st := mustLoad(t, db, query.Discovery, []row{a2, b, c, a1})
	if st.Inserted != 2 || st.Skipped != 2 {
		t.Errorf("second load: %+v, want 2 inserted, 2 skipped", st)
	}
	got := queryStrings(t, db, `SELECT "clientIp", coalesce("serverName", 'NULL'), count(*), CAST(min("flowId") AS VARCHAR)
		FROM discovery_obs JOIN discovery_flow USING ("flowId") GROUP BY ALL ORDER BY 4`)
	want := [][]string{{"10.0.0.1", "NULL", "2", "1"}, {"10.0.0.1", "example.com", "1", "2"}, {"2001:db8::1", "NULL", "1", "3"}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("flows:\n got %v\nwant %v", got, want)
	}
	if n := queryStrings(t, db, `SELECT count(*) FROM discovery_flow`); n[0][0] != "3" {
		t.Errorf("flow rows = %v, want 3", n)
	}
}

func TestLoadChecksSchema(t *testing.T) {
	base := InputSchema(query.Discovery).Fields()
	renamed := slices.Clone(base)
	renamed[4].Name = "serverIP"
	retyped := slices.Clone(base)
	retyped[6].Type = arrow.PrimitiveTypes.Int32 // serverPort
	nullable := slices.Clone(base)
	for i := range nullable {
		nullable[i].Nullable = true
	}
	utc := slices.Clone(base)
	utc[1].Type = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	tests := []struct {
		name   string
		fields []arrow.Field
		msg    string // "" = accepted
	}{
		{"renamed", renamed, "input column 5 is serverIP (utf8), want serverIp (utf8)"},
		{"retyped", retyped, "input column 7 is serverPort (int32), want serverPort (int64)"},
		{"short", base[:3], "input has 3 columns; column 4 should be clientName (utf8)"},
		{"long", append(slices.Clone(base), arrow.Field{Name: "x", Type: arrow.BinaryTypes.String}), "unexpected column 24 x"},
		{"all nullable", nullable, ""},
		{"utc timestamps", utc, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openTest(t, "")
			rr, err := array.NewRecordReader(arrow.NewSchema(tt.fields, nil), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer rr.Release()
			_, err = db.Load(context.Background(), query.Discovery, rr)
			if tt.msg == "" {
				if err != nil {
					t.Errorf("Load = %v, want success", err)
				}
				return
			}
			if ErrorKind(err) != Invalid || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Load = %v, want Invalid with %q", err, tt.msg)
			}
		})
	}
}

// failingReader yields its batches and then fails, or calls onBatch before each batch.
type failingReader struct {
	array.RecordReader
	failAt  int   // 1-based batch number at which Next fails; 0 = never
	failErr error // the error at failAt; nil = "disk on fire"
	onBatch func(n int)
	n       int
	err     error
}

func (r *failingReader) Next() bool {
	r.n++
	if r.onBatch != nil {
		r.onBatch(r.n)
	}
	if r.n == r.failAt {
		r.err = r.failErr
		if r.err == nil {
			r.err = errors.New("disk on fire")
		}
		return false
	}
	return r.RecordReader.Next()
}

func (r *failingReader) Err() error {
	if r.err != nil {
		return r.err
	}
	return r.RecordReader.Err()
}

func TestLoadIsAtomic(t *testing.T) {
	groups := [][]row{
		{obs("n1", "10.0.0.1", "10.0.0.2"), obs("n2", "10.0.0.1", "10.0.0.2")},
		{obs("n3", "10.0.0.1", "10.0.0.2")},
		{obs("n4", "10.0.0.1", "10.0.0.2")},
		{obs("n5", "10.0.0.1", "10.0.0.2")},
	}
	tests := []struct {
		name string
		wrap func(r array.RecordReader, cancel context.CancelFunc) array.RecordReader
		kind Kind
		msg  string
	}{
		{"reader fails on 3rd batch", func(r array.RecordReader, _ context.CancelFunc) array.RecordReader {
			return &failingReader{RecordReader: r, failAt: 3}
		}, Invalid, "reading batch 3 of the input: disk on fire"},
		{"input reader reports cancellation", func(r array.RecordReader, cancel context.CancelFunc) array.RecordReader {
			return &failingReader{RecordReader: r, failAt: 2, failErr: fmt.Errorf("reading file: %w", context.Canceled)}
		}, Canceled, "reading batch 2 of the input: reading file: context canceled"},
		{"canceled before 3rd batch", func(r array.RecordReader, cancel context.CancelFunc) array.RecordReader {
			return &failingReader{RecordReader: r, onBatch: func(n int) {
				if n == 3 {
					cancel()
				}
			}}
		}, Canceled, "context canceled"},
		{"canceled after the last batch", func(r array.RecordReader, cancel context.CancelFunc) array.RecordReader {
			return &failingReader{RecordReader: r, onBatch: func(n int) {
				if n == 5 {
					cancel()
				}
			}}
		}, Canceled, "context canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openTest(t, "")
			mustLoad(t, db, query.Discovery, []row{obs("old", "10.9.9.9", "10.9.9.8")})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			in := readerOf(t, db.alloc, query.Discovery, groups...)
			defer in.Release()
			st, err := db.Load(ctx, query.Discovery, tt.wrap(in, cancel))
			if ErrorKind(err) != tt.kind || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Load = %v (kind %v), want kind %v with %q", err, ErrorKind(err), tt.kind, tt.msg)
			}
			if st.Inserted != 0 {
				t.Errorf("failed load reports %d inserted", st.Inserted)
			}
			assertOnlyRow(t, db, "old")
			// The connection that failed must be usable again (or discarded by the pool).
			mustLoad(t, db, query.Discovery, []row{obs("next", "10.0.0.1", "10.0.0.2")})
		})
	}
}

func TestLoadDeduplicatesObservations(t *testing.T) {
	db := openTest(t, "")
	first := []row{obs("a", "10.0.0.1", "10.0.0.2"), obs("b", "10.0.0.1", "10.0.0.2"), obs("a", "10.0.0.1", "10.0.0.2")}
	second := []row{obs("b", "10.0.0.1", "10.0.0.2"), obs("c", "10.0.0.1", "10.0.0.2")}
	tests := []struct {
		name  string
		load  [][]row
		stats LoadStats
		uids  [][]string
	}{
		{"duplicate within input", [][]row{first}, LoadStats{Batches: 1, Rows: 3, Inserted: 2, Skipped: 1}, [][]string{{"a"}, {"b"}}},
		{"reload", [][]row{first}, LoadStats{Batches: 1, Rows: 3, Inserted: 0, Skipped: 3}, [][]string{{"a"}, {"b"}}},
		{"partly new, across batches", [][]row{second, first}, LoadStats{Batches: 2, Rows: 5, Inserted: 1, Skipped: 4}, [][]string{{"a"}, {"b"}, {"c"}}},
	}
	for _, tt := range tests { // sequential on one database: each step builds on the last
		st := mustLoad(t, db, query.Discovery, tt.load...)
		st.Dataset, st.Duration = "", 0
		if st != tt.stats {
			t.Errorf("%s: stats = %+v, want %+v", tt.name, st, tt.stats)
		}
		if got := queryStrings(t, db, `SELECT "obsUid" FROM discovery_obs JOIN discovery_flow USING ("flowId") ORDER BY 1`); !slices.EqualFunc(got, tt.uids, slices.Equal) {
			t.Errorf("%s: uids = %v, want %v", tt.name, got, tt.uids)
		}
	}
}

func cert(fp string, first, last string) row {
	return row{
		"certFingerprint": fp, "certCommonName": "www.example.com", "certAltNames": []string{"www.example.com", "example.com"},
		"certPublicKeyAlgo": "ECDSA", "certPublicKeySize": 256, "certIsCa": false, "certSource": "traffic",
		"certFirstSeen": ts(first), "certLastSeen": ts(last), "certServerCount": 1,
	}
}

func TestLoadUpsertsCertificates(t *testing.T) {
	db := openTest(t, "")
	withDER := cert("aa", "2024-01-05T00:00:00Z", "2024-01-06T00:00:00Z")
	withDER["certDer"] = []byte{0x30, 0x82}
	withDER["certServerCount"] = 3
	withDER["certSource"] = "file"
	steps := []struct {
		name  string
		load  [][]row
		stats LoadStats
		rows  [][]string
	}{
		{"first sighting", [][]row{{cert("aa", "2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z"), cert("bb", "2024-02-01T00:00:00Z", "2024-02-01T00:00:00Z")}},
			LoadStats{Batches: 1, Rows: 2, Inserted: 2},
			[][]string{{"aa", "2024-01-02 00:00:00", "2024-01-03 00:00:00", "1", "traffic", "NULL", "[www.example.com, example.com]"},
				{"bb", "2024-02-01 00:00:00", "2024-02-01 00:00:00", "1", "traffic", "NULL", "[www.example.com, example.com]"}}},
		{"re-seen twice in one load, later and earlier", [][]row{{withDER}, {cert("aa", "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z")}},
			LoadStats{Batches: 2, Rows: 2, Updated: 1, Skipped: 1},
			[][]string{{"aa", "2024-01-01 00:00:00", "2024-01-06 00:00:00", "3", "traffic", "3082", "[www.example.com, example.com]"},
				{"bb", "2024-02-01 00:00:00", "2024-02-01 00:00:00", "1", "traffic", "NULL", "[www.example.com, example.com]"}}},
		{"reload unchanged", [][]row{{cert("bb", "2024-02-01T00:00:00Z", "2024-02-01T00:00:00Z")}},
			LoadStats{Batches: 1, Rows: 1, Updated: 1},
			[][]string{{"aa", "2024-01-01 00:00:00", "2024-01-06 00:00:00", "3", "traffic", "3082", "[www.example.com, example.com]"},
				{"bb", "2024-02-01 00:00:00", "2024-02-01 00:00:00", "1", "traffic", "NULL", "[www.example.com, example.com]"}}},
	}
	for _, s := range steps {
		st := mustLoad(t, db, query.Cert, s.load...)
		st.Dataset, st.Duration = "", 0
		if st != s.stats {
			t.Errorf("%s: stats = %+v, want %+v", s.name, st, s.stats)
		}
		got := queryStrings(t, db, `SELECT "certFingerprint", CAST("certFirstSeen" AS VARCHAR), CAST("certLastSeen" AS VARCHAR),
			CAST("certServerCount" AS VARCHAR), "certSource", coalesce(hex("certDer"), 'NULL'), CAST("certAltNames" AS VARCHAR)
			FROM cert ORDER BY 1`)
		if !slices.EqualFunc(got, s.rows, slices.Equal) {
			t.Errorf("%s: rows\n got %v\nwant %v", s.name, got, s.rows)
		}
	}
}

func TestReopenFileAfterLoads(t *testing.T) {
	path := tempDBPath(t)
	ctx := context.Background()
	for i := range 2 {
		db, err := Open(ctx, Config{Path: path})
		if err != nil {
			t.Fatal(err)
		}
		mustLoad(t, db, query.Discovery, []row{obs(string(rune('a'+i)), "10.0.0.1", "10.0.0.2")})
		mustLoad(t, db, query.Cert, []row{cert("aa", "2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z")})
		_, err = load(t, db, query.Discovery, []row{obs("bad", "x", "10.0.0.2")})
		if err == nil {
			t.Fatal("bad load succeeded")
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
	db := openTest(t, path)
	got := queryStrings(t, db, `SELECT (SELECT count(*) FROM discovery_obs JOIN discovery_flow USING ("flowId")), (SELECT count(*) FROM cert),
		(SELECT count(*) FROM duckdb_views() WHERE NOT internal)`)
	if want := [][]string{{"2", "1", "0"}}; !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("after reopen: %v, want %v", got, want)
	}
}

func TestLoadWaitingForAnotherLoadHonoursContext(t *testing.T) {
	db := openTest(t, "")
	db.loadSlot <- struct{}{} // another load is running
	defer func() { <-db.loadSlot }()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	rr := readerOf(t, db.alloc, query.Discovery, []row{obs("a", "10.0.0.1", "10.0.0.2")})
	defer rr.Release()
	if _, err := db.Load(ctx, query.Discovery, rr); ErrorKind(err) != Timeout {
		t.Errorf("Load = %v, want kind Timeout", err)
	}
}

func TestLoadAllIsOneTransaction(t *testing.T) {
	db := openTest(t, "")
	mustLoad(t, db, query.Discovery, []row{obs("old", "10.9.9.9", "10.9.9.8")})
	mustLoad(t, db, query.Cert, []row{cert("old", "2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z")})
	snap := func() [][]string {
		return queryStrings(t, db, `SELECT (SELECT count(*) FROM discovery_obs), (SELECT count(*) FROM discovery_flow),
			(SELECT count(*) FROM cert), (SELECT CAST(coalesce(sum(hash(c)), 0) AS VARCHAR) FROM cert c)`)
	}
	before := snap()
	inputs := func(fail bool) []Input {
		certs := readerOf(t, db.alloc, query.Cert, []row{cert("old", "2023-01-01T00:00:00Z", "2024-06-01T00:00:00Z"),
			cert("new", "2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z")})
		var disc array.RecordReader = readerOf(t, db.alloc, query.Discovery,
			[]row{obs("n1", "10.0.0.1", "10.0.0.2")}, []row{obs("n2", "10.0.0.3", "10.0.0.2")})
		t.Cleanup(func() { certs.Release(); disc.Release() })
		if fail {
			disc = &failingReader{RecordReader: disc, failAt: 2}
		}
		return []Input{{query.Cert, certs}, {query.Discovery, disc}}
	}

	// The discovery input fails after the certificates are stored: neither is kept.
	st, err := db.LoadAll(context.Background(), inputs(true))
	if ErrorKind(err) != Invalid || !strings.Contains(err.Error(), "load discovery: reading batch 2 of the input: disk on fire") {
		t.Errorf("LoadAll = %v (kind %v)", err, ErrorKind(err))
	}
	if len(st) != 2 || st[0].Inserted+st[0].Updated+st[1].Inserted != 0 {
		t.Errorf("failed LoadAll stats %+v", st)
	}
	if got := snap(); !slices.EqualFunc(got, before, slices.Equal) {
		t.Errorf("after a failed LoadAll: %v, want %v", got, before)
	}

	// Canceled after the last input: nothing kept either.
	ctx, cancel := context.WithCancel(context.Background())
	in := inputs(false)
	in[1].Reader = &failingReader{RecordReader: in[1].Reader, onBatch: func(n int) {
		if n == 3 {
			cancel()
		}
	}}
	if _, err := db.LoadAll(ctx, in); ErrorKind(err) != Canceled {
		t.Errorf("canceled LoadAll = %v", err)
	}
	if got := snap(); !slices.EqualFunc(got, before, slices.Equal) {
		t.Errorf("after a canceled LoadAll: %v, want %v", got, before)
	}

	// A bad schema in any input is caught before anything is read.
	bad := inputs(false)
	bad[1].Dataset = query.Cert
	if _, err := db.LoadAll(context.Background(), bad); ErrorKind(err) != Invalid || !strings.Contains(err.Error(), "load cert: input") {
		t.Errorf("LoadAll with a mismatched schema = %v", err)
	}

	// Success: both stored, stats per input.
	st, err = db.LoadAll(context.Background(), inputs(false))
	if err != nil {
		t.Fatal(err)
	}
	for i := range st {
		st[i].Duration = 0
	}
	want := []LoadStats{{Dataset: query.Cert, Batches: 1, Rows: 2, Inserted: 1, Updated: 1},
		{Dataset: query.Discovery, Batches: 2, Rows: 2, Inserted: 2}}
	if !slices.Equal(st, want) {
		t.Errorf("stats %+v, want %+v", st, want)
	}
	got := queryStrings(t, db, `SELECT (SELECT count(*) FROM discovery_obs), (SELECT count(*) FROM cert),
		(SELECT CAST(min("certFirstSeen") AS VARCHAR) FROM cert WHERE "certFingerprint" = 'old')`)
	if w := [][]string{{"3", "2", "2023-01-01 00:00:00"}}; !slices.EqualFunc(got, w, slices.Equal) {
		t.Errorf("after LoadAll: %v, want %v", got, w)
	}
	if st, err := db.LoadAll(context.Background(), nil); err != nil || len(st) != 0 {
		t.Errorf("LoadAll(nil) = %v, %v", st, err)
	}
}

// TestLoadAddsNoFlowWithoutObservations: the flows of input rows that are not stored (an
// obsUid stored already, or repeated within the input) are not stored either, unless a
// stored row uses them.
func TestLoadAddsNoFlowWithoutObservations(t *testing.T) {
	db := openTest(t, "")
	mustLoad(t, db, query.Discovery, []row{obs("a", "10.0.0.1", "10.0.0.2")})
	st := mustLoad(t, db, query.Discovery, []row{obs("a", "10.0.0.9", "10.0.0.2"), obs("b", "10.0.0.1", "10.0.0.2"),
		obs("c", "10.0.0.7", "10.0.0.2"), obs("c", "10.0.0.8", "10.0.0.2")})
	if st.Inserted != 2 || st.Skipped != 2 {
		t.Errorf("stats %+v, want 2 inserted, 2 skipped", st)
	}
	got := queryStrings(t, db, `SELECT "obsUid", "clientIp", CAST("flowId" AS VARCHAR) FROM discovery_obs JOIN discovery_flow USING ("flowId") ORDER BY 1`)
	if len(got) != 3 || got[0][1] != "10.0.0.1" || got[1][1] != "10.0.0.1" || got[0][2] != got[1][2] ||
		(got[2][1] != "10.0.0.7" && got[2][1] != "10.0.0.8") {
		t.Errorf("rows %v", got)
	}
	if n := queryStrings(t, db, `SELECT count(*) FROM discovery_flow`); n[0][0] != "2" {
		t.Errorf("flow rows = %v, want 2 (no flow without an observation)", n)
	}
}
