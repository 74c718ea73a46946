package difftest

import (
	"reflect"
	"testing"
)

// TestToPG pins the mechanical translations to PostgreSQL.
func TestToPG(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"serverPort = 443", "serverPort = 443"},
		{"serverIp <<= ANY (INET '10.0.0.0/8', INET '::/0')", "serverIp <<= ANY (ARRAY[INET '10.0.0.0/8', INET '::/0'])"},
		{"NOT serverIp <<= any(INET '10.0.0.0/8')", "NOT serverIp <<= any(ARRAY[INET '10.0.0.0/8'])"},
		{"serverIp <<= ANY (ARRAY[INET '10.0.0.0/8'])", "serverIp <<= ANY (ARRAY[INET '10.0.0.0/8'])"},
		{"serverName = 'ANY (x)' OR companyName = 1", "serverName = 'ANY (x)' OR companyName = 1"},
		{"serverName = 'it''s ANY (' AND serverIp <<= ANY (INET '1.2.3.4')", "serverName = 'it''s ANY (' AND serverIp <<= ANY (ARRAY[INET '1.2.3.4'])"},
	} {
		if got := toPG(c.in); got != c.want {
			t.Errorf("toPG(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

// TestDiffSorted pins the multiset difference used to report differing rows.
func TestDiffSorted(t *testing.T) {
	a := []string{"a", "b", "b", "d"}
	b := []string{"b", "c", "d", "d"}
	onlyA, onlyB := diffSorted(a, b)
	if !reflect.DeepEqual(onlyA, []string{"a", "b"}) || !reflect.DeepEqual(onlyB, []string{"c", "d"}) {
		t.Errorf("diffSorted = %q, %q", onlyA, onlyB)
	}
}

// TestDatasetDeterministic checks that the dataset and the generated corpus are the same
// on every run, and that the dataset has the shapes the corpus relies on.
func TestDatasetDeterministic(t *testing.T) {
	d1, d2 := buildDataset(), buildDataset()
	if !reflect.DeepEqual(d1, d2) {
		t.Fatal("buildDataset is not deterministic")
	}
	if !reflect.DeepEqual(generate(d1, 50), generate(d2, 50)) {
		t.Fatal("generate is not deterministic")
	}
	if err := d1.checkSizes(); err != nil {
		t.Fatal(err)
	}
	uids := map[string]bool{}
	for _, o := range d1.obs {
		uid := o["obsUid"].(string)
		if uids[uid] {
			t.Fatalf("duplicate obsUid %s", uid)
		}
		uids[uid] = true
	}
	for _, col := range inputColumns("discovery") {
		if !hasNull(d1.obs, col) && col != "obsUid" && col != "observedAt" && col != "clientIp" && col != "serverIp" {
			t.Errorf("discovery column %s is never NULL", col)
		}
	}
	for _, col := range inputColumns("cert") {
		if !hasNull(d1.certs, col) && col != "certFingerprint" {
			t.Errorf("cert column %s is never NULL", col)
		}
	}
}

func hasNull(rows []row, col string) bool {
	for _, r := range rows {
		if r[col] == nil {
			return true
		}
	}
	return false
}
