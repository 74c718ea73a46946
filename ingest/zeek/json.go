package zeek

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// parseJSON decodes one JSON line. Nested objects (Zeek's JSON writer without
// flattening, e.g. "id": {"orig_h": ...}) become dotted names like the flattened form.
func parseJSON(file string, line int, text string) (*Row, *LineError) {
	dec := json.NewDecoder(bytes.NewReader([]byte(text)))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, &LineError{File: file, Line: line, Value: text, Reason: "invalid JSON: " + err.Error()}
	}
	r := &Row{File: file, Line: line, idx: map[string]int{}}
	if err := r.flatten("", obj); err != nil {
		err.File, err.Line = file, line
		return nil, err
	}
	return r, nil
}

func (r *Row) flatten(prefix string, obj map[string]any) *LineError {
	for k, v := range obj {
		name := prefix + k
		if sub, ok := v.(map[string]any); ok {
			if err := r.flatten(name+".", sub); err != nil {
				return err
			}
			continue
		}
		val, err := jsonValue(v)
		if err != nil {
			return &LineError{Field: name, Value: string(mustJSON(v)), Reason: err.Error()}
		}
		r.idx[name] = len(r.vals)
		r.vals = append(r.vals, val)
	}
	return nil
}

// jsonValue turns a decoded JSON value into the textual form TSV has, so the typed
// accessors serve both formats: numbers keep their text, booleans become T/F.
func jsonValue(v any) (Value, error) {
	switch x := v.(type) {
	case nil:
		return Value{}, nil // null is unset, like a missing key
	case string:
		return Value{Set: true, Str: x}, nil
	case json.Number:
		return Value{Set: true, Str: x.String()}, nil
	case bool:
		if x {
			return Value{Set: true, Str: "T"}, nil
		}
		return Value{Set: true, Str: "F"}, nil
	case []any:
		list := make([]string, 0, len(x))
		for _, e := range x {
			ev, err := jsonValue(e)
			if err != nil || ev.IsList {
				return Value{}, errNested
			}
			list = append(list, ev.Str)
		}
		return Value{Set: true, IsList: true, List: list}, nil
	}
	return Value{}, errNested
}

type jsonError string

// Error returns the message.
func (e jsonError) Error() string { return string(e) }

const errNested = jsonError("nested containers are not Zeek values")

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte(strconv.Quote(err.Error()))
	}
	return b
}
