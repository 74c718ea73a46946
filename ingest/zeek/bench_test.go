package zeek

import (
	"bytes"
	"os"
	"testing"

	"github.com/cipherscope/cipherscope/ingest/batch"
	"github.com/cipherscope/cipherscope/query"
)

// BenchmarkAssembleTSV reads and joins the real wrccdc ssl.log and x509.log.
func BenchmarkAssembleTSV(b *testing.B) {
	ssl, err := os.ReadFile("../../../shared/data/zeek/tsv-wrccdc-slice/ssl.log")
	if err != nil {
		b.Fatal(err)
	}
	x509, err := os.ReadFile("../../../shared/data/zeek/tsv-wrccdc-slice/x509.log")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(ssl) + len(x509)))
	for b.Loop() {
		a := NewAssembler(nil)
		stop := func(e *LineError) error { return e }
		if _, err := a.Add("ssl", bytes.NewReader(ssl), stop); err != nil {
			b.Fatal(err)
		}
		if _, err := a.Add("x509", bytes.NewReader(x509), stop); err != nil {
			b.Fatal(err)
		}
		c := batch.NewBuilder(nil, query.Cert, 0)
		for _, d := range a.Build(c) {
			d.Release()
		}
		a.Release()
		c.Release()
	}
}
