// Package tlsreg is the TLS cipher-suite registry of cipherscope and its normalisers:
// the IANA cipher suites (generated from the registry file into zz_suites.go), name and
// alias lookup, protocol-version normalisation, the derived cryptographic attributes of a
// negotiated suite and group (Derive), and the service names of well-known TLS ports.
//
// Regenerate the table after updating ../shared/data/registry/tls-ciphersuites.txt with
// `go generate ./ingest/tlsreg/` (or `make generate`).
package tlsreg

//go:generate go run ./internal/gen -in ../../../shared/data/registry/tls-ciphersuites.txt -out zz_suites.go
