package query

import (
	"encoding/binary"
	"math/big"
	"net/netip"
)

// IPKey is the stored comparison form of an address (see the storage conventions in
// catalog.go): the family and the 128-bit address with its top bit flipped, split in two
// halves. Hi is the signed upper half, Lo the unsigned lower half, so that the HUGEINT
// Hi*2^64 + Lo orders exactly as the unsigned addresses do.
type IPKey struct {
	Family uint8 // 4 or 6
	Hi     int64
	Lo     uint64
}

// KeyOf returns the stored form of addr. IPv4 addresses use the low 32 bits; IPv4-mapped
// IPv6 addresses stay family 6, as in PostgreSQL's inet.
func KeyOf(addr netip.Addr) IPKey {
	fam := uint8(6)
	var hi, lo uint64
	if addr.Is4() {
		fam = 4
		b := addr.As4()
		lo = uint64(binary.BigEndian.Uint32(b[:]))
	} else {
		b := addr.As16()
		hi = binary.BigEndian.Uint64(b[:8])
		lo = binary.BigEndian.Uint64(b[8:])
	}
	return IPKey{Family: fam, Hi: int64(hi ^ (1 << 63)), Lo: lo}
}

// Number returns the key as the HUGEINT value it is stored as.
func (k IPKey) Number() *big.Int {
	n := new(big.Int).Lsh(big.NewInt(k.Hi), 64)
	return n.Add(n, new(big.Int).SetUint64(k.Lo))
}

// Decimal returns Number in base 10, the form in which dialects bind it (DuckDB casts a
// VARCHAR parameter to HUGEINT exactly, whatever the driver's big-integer support).
func (k IPKey) Decimal() string { return k.Number().String() }

// PrefixRange returns the first and last address of p's network. Host bits of p are
// ignored, as PostgreSQL ignores them in inet containment tests.
func PrefixRange(p netip.Prefix) (first, last netip.Addr) {
	first = p.Masked().Addr()
	b := first.AsSlice()
	bits := p.Bits()
	for i := range b {
		for bit := 0; bit < 8; bit++ {
			if i*8+bit >= bits {
				b[i] |= 0x80 >> bit
			}
		}
	}
	last, _ = netip.AddrFromSlice(b)
	return first, last
}
