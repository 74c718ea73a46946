package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// encodeYAMLDoc writes the document tree (maps, slices, strings, numbers, booleans, nil)
// as block-style YAML 1.2 with sorted keys. Strings are JSON string literals, which are
// valid YAML double-quoted scalars, so no string is ever read back as another type.
func encodeYAMLDoc(d doc) ([]byte, error) {
	var lines []string
	if err := yamlNode(&lines, d, 0); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	for _, l := range lines {
		buf.WriteString(l)
		buf.WriteByte('\n')
	}
	return buf.Bytes(), nil
}

// plainKey matches keys that YAML reads as the same string without quotes.
var plainKey = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)

// yamlReserved are plain scalars YAML 1.1 readers take as booleans or null.
var yamlReserved = map[string]bool{"y": true, "n": true, "yes": true, "no": true, "on": true, "off": true,
	"true": true, "false": true, "null": true}

func yamlKey(k string) (string, error) {
	if plainKey.MatchString(k) && !yamlReserved[strings.ToLower(k)] {
		return k, nil
	}
	return yamlString(k)
}

func yamlString(s string) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return "", err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

// yamlScalar renders a scalar; ok is false for maps and slices.
func yamlScalar(v any) (string, bool, error) {
	switch x := v.(type) {
	case nil:
		return "null", true, nil
	case string:
		s, err := yamlString(x)
		return s, true, err
	case bool:
		return fmt.Sprint(x), true, nil
	case int, int64, int32, uint, uint64:
		return fmt.Sprint(x), true, nil
	case float64:
		b, err := json.Marshal(x)
		return string(b), true, err
	case doc:
		if len(x) == 0 {
			return "{}", true, nil
		}
		return "", false, nil
	case []any:
		if len(x) == 0 {
			return "[]", true, nil
		}
		return "", false, nil
	}
	return "", false, fmt.Errorf("openapi yaml: unsupported value %T", v)
}

// yamlNode appends the lines of a map or slice indented by indent spaces.
func yamlNode(lines *[]string, v any, indent int) error {
	pad := strings.Repeat(" ", indent)
	switch x := v.(type) {
	case doc:
		for _, k := range sortedKeys(x) {
			key, err := yamlKey(k)
			if err != nil {
				return err
			}
			s, scalar, err := yamlScalar(x[k])
			if err != nil {
				return err
			}
			if scalar {
				*lines = append(*lines, pad+key+": "+s)
				continue
			}
			*lines = append(*lines, pad+key+":")
			if err := yamlNode(lines, x[k], indent+2); err != nil {
				return err
			}
		}
	case []any:
		for _, item := range x {
			s, scalar, err := yamlScalar(item)
			if err != nil {
				return err
			}
			if scalar {
				*lines = append(*lines, pad+"- "+s)
				continue
			}
			// The item's first line takes the dash: "- key: value", following lines
			// stay indented under it.
			first := len(*lines)
			if err := yamlNode(lines, item, indent+2); err != nil {
				return err
			}
			(*lines)[first] = pad + "- " + (*lines)[first][indent+2:]
		}
	default:
		return fmt.Errorf("openapi yaml: unsupported node %T", v)
	}
	return nil
}
