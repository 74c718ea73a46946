package zeek

import (
	"hash/maphash"
)

// connRec is what discovery needs from one conn.log row. It holds no pointers, so the
// garbage collector never scans the index however large it grows.
type connRec struct {
	hash           uint64 // maphash of the uid (probing and growth without rehashing)
	uidOff         uint32 // the uid is connIndex.uids[uidBlock][uidOff : uidOff+uidLen]
	uidBlock       uint32
	uidLen         uint32
	proto, service uint32 // interned strings (connIndex.strs); 0 is ""
	hasPkts        bool
	hasBytes       bool
	ts             int64 // µs
	pkts, bytes    int64 // both directions; valid when hasPkts / hasBytes
}

// connIndex maps conn uids to connRecs: an open-addressing hash table of record numbers
// over blocks of records and blocks of uid bytes. Per conn row it costs the record (56
// bytes), the uid's bytes and 8-16 bytes of table: about 90 bytes for Zeek's 18-byte
// uids, against ~250 for a map[string]struct with string fields, which the garbage
// collector also had to scan. Blocks, not one growing slice, so growth never copies
// what is stored (only the table of 4-byte slots is rebuilt).
type connIndex struct {
	seed  maphash.Seed
	slots []uint64 // 0: empty; else the record number + 1, and the hash's top 32 bits above it
	n     int      // records
	recs  [][]connRec
	uids  [][]byte
	strs  interner // proto and service values; 0 is ""
}

// Block sizes of connIndex.
const (
	recBlock = 1 << 14
	uidBlock = 1 << 20
)

func newConnIndex() *connIndex {
	return &connIndex{seed: maphash.MakeSeed(), slots: make([]uint64, 1024), strs: newInterner("")}
}

// rec returns record number i.
func (x *connIndex) rec(i uint32) *connRec { return &x.recs[i/recBlock][i%recBlock] }

// uid returns the uid of r.
func (x *connIndex) uid(r *connRec) []byte {
	return x.uids[r.uidBlock][r.uidOff : r.uidOff+r.uidLen]
}

// put stores rec under uid; a uid seen before is replaced (the last row wins).
func (x *connIndex) put(uid []byte, rec connRec) {
	rec.hash = maphash.Bytes(x.seed, uid)
	i, ok := x.find(rec.hash, view(uid))
	if ok {
		old := x.rec(uint32(x.slots[i]) - 1)
		rec.uidBlock, rec.uidOff, rec.uidLen = old.uidBlock, old.uidOff, old.uidLen
		*old = rec
		return
	}
	if 2*(x.n+1) > len(x.slots) {
		x.grow()
		i, _ = x.find(rec.hash, "") // the first free slot of the new probe sequence
	}
	last := len(x.uids) - 1
	if last < 0 || len(x.uids[last])+len(uid) > cap(x.uids[last]) {
		x.uids = append(x.uids, make([]byte, 0, max(uidBlock, len(uid))))
		last++
	}
	rec.uidBlock, rec.uidOff, rec.uidLen = uint32(last), uint32(len(x.uids[last])), uint32(len(uid))
	x.uids[last] = append(x.uids[last], uid...)
	if x.n%recBlock == 0 {
		x.recs = append(x.recs, make([]connRec, recBlock))
	}
	*x.rec(uint32(x.n)) = rec
	x.n++
	x.slots[i] = slot(rec.hash, x.n)
}

// get returns the record of uid.
func (x *connIndex) get(uid string) (*connRec, bool) {
	if x.n == 0 {
		return nil, false
	}
	i, ok := x.find(maphash.String(x.seed, uid), uid)
	if !ok {
		return nil, false
	}
	return x.rec(uint32(x.slots[i]) - 1), true
}

// find probes for uid with hash h: the slot holding it (true), or the free slot where it
// would go (false). An empty uid never matches a stored one (uids are never empty).
func (x *connIndex) find(h uint64, uid string) (int, bool) {
	mask := uint64(len(x.slots) - 1)
	tag := h &^ (1<<32 - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := x.slots[i]
		if s == 0 {
			return int(i), false
		}
		// The tag spares loading the record (a cache miss) for all but true candidates.
		if s&^(1<<32-1) != tag {
			continue
		}
		r := x.rec(uint32(s) - 1)
		if r.hash == h && uid != "" && string(x.uid(r)) == uid {
			return int(i), true
		}
	}
}

// slot is the table entry of record number n-1 with hash h.
func slot(h uint64, n int) uint64 { return h&^(1<<32-1) | uint64(n) }

// grow doubles the table and re-inserts the records by their stored hashes.
func (x *connIndex) grow() {
	x.slots = make([]uint64, 2*len(x.slots))
	mask := uint64(len(x.slots) - 1)
	for n := range x.n {
		h := x.rec(uint32(n)).hash
		for i := h & mask; ; i = (i + 1) & mask {
			if x.slots[i] == 0 {
				x.slots[i] = slot(h, n+1)
				break
			}
		}
	}
}
