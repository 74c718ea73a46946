package ingest

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/cipherscope/cipherscope/ingest/certs"
)

// fileKind is what detect recognised.
type fileKind string

const (
	kindUnknown      fileKind = ""
	kindZeek         fileKind = "zeek"
	kindPEM          fileKind = "pem"
	kindDER          fileKind = "der"
	kindPKCS7        fileKind = "pkcs7" // a PKCS#7/CMS certificate bundle (.p7b/.p7c), PEM or DER
	kindParquet      fileKind = "parquet"
	kindNativeCSV    fileKind = "csv"
	kindNativeNDJSON fileKind = "ndjson"
)

// sniffSize is how much of a file detect looks at.
const sniffSize = 64 << 10

// detect recognises a file by its first bytes, within the family format allows.
func detect(head []byte, format Format) fileKind {
	k := sniff(head)
	if format == Auto || format == "" {
		return k
	}
	allowed := map[Format][]fileKind{
		Zeek:   {kindZeek},
		X509:   {kindPEM, kindDER, kindPKCS7},
		Native: {kindParquet, kindNativeCSV, kindNativeNDJSON},
	}[format]
	for _, a := range allowed {
		if a == k {
			return k
		}
	}
	if format == Zeek && k == kindUnknown {
		return kindZeek // let the Zeek reader name the bad line
	}
	return kindUnknown
}

func sniff(head []byte) fileKind {
	trimmed := bytes.TrimLeft(head, " \t\r\n\ufeff")
	switch {
	case bytes.HasPrefix(head, []byte("PAR1")):
		return kindParquet
	case bytes.HasPrefix(trimmed, []byte("#separator")), bytes.HasPrefix(trimmed, []byte("#fields")):
		return kindZeek
	case certs.HasPKCS7PEM(head), certs.IsPKCS7(head):
		return kindPKCS7 // by its PEM label or its ContentInfo's OID, never by file name
	case bytes.Contains(head, []byte("-----BEGIN ")):
		return kindPEM
	case len(head) > 1 && head[0] == 0x30 && (head[1] == 0x82 || head[1] == 0x81 || head[1] < 0x80 || head[1] == 0x83):
		return kindDER // an ASN.1 SEQUENCE with a definite length
	case bytes.HasPrefix(trimmed, []byte("{")):
		return sniffJSON(trimmed)
	}
	return sniffCSV(trimmed)
}

// sniffJSON tells a native NDJSON row from a Zeek JSON log line by the keys of the
// first object.
func sniffJSON(b []byte) fileKind {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(line, &obj); err != nil {
		return kindUnknown
	}
	has := func(k string) bool { _, ok := obj[k]; return ok }
	switch {
	case has("obsUid"), has("certFingerprint"):
		return kindNativeNDJSON
	case has("uid"), has("id.orig_h"), has("fingerprint"), has("_path"), has("id"):
		return kindZeek
	}
	return kindUnknown
}

// sniffCSV recognises the header row of a native CSV file.
func sniffCSV(b []byte) fileKind {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	first, _, _ := strings.Cut(strings.TrimSpace(string(line)), ",")
	switch strings.Trim(first, `"`) {
	case "obsUid", "certFingerprint":
		return kindNativeCSV
	}
	return kindUnknown
}
