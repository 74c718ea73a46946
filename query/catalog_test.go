package query

import "testing"

func TestSuggestFields(t *testing.T) {
	for _, tc := range []struct {
		ds   Dataset
		name string
		want []string
	}{
		{Discovery, "serverip", []string{"serverIp", "serverName"}},
		{Discovery, "cipherSuit", []string{"cipherSuite"}},
		{Cert, "commonName", []string{"certCommonName"}},
		{Discovery, "zzzzzzzz", nil},
	} {
		got := SuggestFields(tc.ds, tc.name)
		if len(got) < len(tc.want) {
			t.Errorf("SuggestFields(%q) = %v, want prefix %v", tc.name, got, tc.want)
			continue
		}
		for i := range tc.want {
			if got[i] != tc.want[i] {
				t.Errorf("SuggestFields(%q) = %v, want prefix %v", tc.name, got, tc.want)
			}
		}
		if tc.want == nil && got != nil {
			t.Errorf("SuggestFields(%q) = %v, want none", tc.name, got)
		}
	}
}
