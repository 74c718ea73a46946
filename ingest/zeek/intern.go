package zeek

// interner numbers distinct strings in the order they are first seen, so rows can carry
// a 4-byte id instead of a string. Looking up a []byte does not allocate.
type interner struct {
	names []string          // by id
	ids   map[string]uint32 // names' inverse
}

// newInterner returns an interner that already holds first, numbered from 0.
func newInterner(first ...string) interner {
	in := interner{ids: make(map[string]uint32, len(first))}
	for _, s := range first {
		in.id([]byte(s))
	}
	return in
}

// id returns the number of s, adding s when it is new.
func (in *interner) id(s []byte) uint32 {
	if id, ok := in.ids[string(s)]; ok {
		return id
	}
	id := uint32(len(in.names))
	in.names = append(in.names, string(s))
	in.ids[in.names[id]] = id
	return id
}

// lookup returns the number of s if it has one.
func (in *interner) lookup(s string) (uint32, bool) {
	id, ok := in.ids[s]
	return id, ok
}

// name returns the string numbered id.
func (in *interner) name(id uint32) string { return in.names[id] }
