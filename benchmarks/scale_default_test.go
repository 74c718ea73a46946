package benchmarks

import "testing"

// TestDefaultCasesBySize pins the default suite per scale: everything up to 1M, the
// large-scale subset above.
func TestDefaultCasesBySize(t *testing.T) {
	all := Suite()
	if got := Scale(1_000_000).DefaultCases(all); len(got) != len(all) {
		t.Errorf("1M: %d cases, want all %d", len(got), len(all))
	}
	var names []string
	for _, c := range Scale(10_000_000).DefaultCases(all) {
		names = append(names, c.Name)
	}
	if len(names) != len(LargeScaleCases) {
		t.Fatalf("10M: cases %v, want %v", names, LargeScaleCases)
	}
	for i := range names {
		if names[i] != LargeScaleCases[i] {
			t.Errorf("10M: cases %v, want %v", names, LargeScaleCases)
		}
	}
}
