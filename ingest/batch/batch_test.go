package batch

import (
	"testing"

	"github.com/cipherscope/cipherscope/engine"
	"github.com/cipherscope/cipherscope/query"
)

// TestColumnOrder appends a row whose every value is distinct and checks each lands in
// the column of its name.
func TestColumnOrder(t *testing.T) {
	b := NewBuilder(nil, query.Discovery, 0)
	defer b.Release()
	b.AppendDiscovery(&Discovery{ObsUID: "obsUid", ObservedAt: 1, ClientIP: "clientIp", ClientName: "clientName",
		ServerIP: "serverIp", ServerName: "serverName", ServerPort: Int(443), Protocol: "protocol",
		ServiceName: "serviceName", TLSVersion: "tlsVersion", CipherSuite: "cipherSuite", KexGroup: "kexGroup",
		CertFingerprint: "certFingerprint", CipherKex: "cipherKex", CipherAuth: "cipherAuth", CipherEnc: "cipherEnc",
		CipherMac: "cipherMac", WeakReasons: []string{"weakReasons"}, ByteVolume: Int(7), PacketCount: Int(8)})
	c := NewBuilder(nil, query.Cert, 0)
	defer c.Release()
	c.AppendCert(&Cert{Fingerprint: "certFingerprint", Serial: "certSerial", Subject: "certSubjectAsn1s",
		CommonName: "certCommonName", Issuer: "certIssuerAsn1s", KeyAlgo: "certPublicKeyAlgo", Curve: "certCurve",
		SigAlgo: "certSignatureAlgo", Source: "certSource", Txt: "certTxt", AltNames: []string{"certAltNames"}})
	for _, bb := range []*Builder{b, c} {
		recs := bb.Batches()
		rec := recs[0]
		if !rec.Schema().Equal(engine.InputSchema(bb.ds)) {
			t.Fatalf("schema %v", rec.Schema())
		}
		for i, f := range rec.Schema().Fields() {
			col := rec.Column(i)
			if col.IsNull(0) || f.Type.ID().String() != "STRING" {
				continue
			}
			if got := col.ValueStr(0); got != f.Name {
				t.Errorf("column %s holds %q", f.Name, got)
			}
		}
		for _, r := range recs {
			r.Release()
		}
	}
}
