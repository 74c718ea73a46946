package main

import (
	"bytes"
	"os"
	"testing"
)

// TestCheckedInTableIsCurrent fails when zz_suites.go was edited by hand or the registry
// changed without `go generate`.
func TestCheckedInTableIsCurrent(t *testing.T) {
	f, err := os.Open("../../../../../shared/data/registry/tls-ciphersuites.txt")
	if err != nil {
		t.Fatalf("registry file missing: %v", err)
	}
	defer f.Close()
	rows, err := parse(f)
	if err != nil {
		t.Fatal(err)
	}
	want, err := render(rows)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../zz_suites.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("zz_suites.go is stale: run go generate ./ingest/tlsreg/")
	}
}

func TestParseRejectsWrongColumnCount(t *testing.T) {
	_, err := parse(bytes.NewBufferString("0000:TLS_NULL_WITH_NULL_NULL:NULL\n"))
	if err == nil || err.Error() != "line 1: 3 columns, want 15" {
		t.Fatalf("err = %v", err)
	}
}
