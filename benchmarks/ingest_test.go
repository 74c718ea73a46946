package benchmarks

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/cipherscope/cipherscope/fixtures"
)

// TestEnsureFilesSurvivesAMove: a file cache moved to another directory is used there
// as it is, and a cache missing a listed file is written again.
func TestEnsureFilesSurvivesAMove(t *testing.T) {
	cfg := fixtures.Config{Observations: 20, Certificates: 3, Seed: 1}
	root := t.TempDir()
	first := filepath.Join(root, "a", "files-csv")
	files, err := ensureFiles(cfg, fixtures.CSV, first)
	if err != nil {
		t.Fatal(err)
	}
	moved := filepath.Join(root, "b")
	if err := os.Rename(filepath.Join(root, "a"), moved); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(moved, "files-csv")
	stamp := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, f := range files {
		moved := filepath.Join(dir, filepath.Base(f))
		if err := os.Chtimes(moved, stamp, stamp); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ensureFiles(cfg, fixtures.CSV, dir)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range files {
		want = append(want, filepath.Join(dir, filepath.Base(f)))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("after the move: %v, want %v", got, want)
	}
	for _, f := range got {
		if st, err := os.Stat(f); err != nil || !st.ModTime().Equal(stamp) {
			t.Errorf("%s was written again (or is gone: %v)", f, err)
		}
	}
	if err := os.Remove(got[0]); err != nil {
		t.Fatal(err)
	}
	again, err := ensureFiles(cfg, fixtures.CSV, dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(again, want) {
		t.Fatalf("after a loss: %v, want %v", again, want)
	}
	if _, err := os.Stat(got[0]); err != nil {
		t.Errorf("the lost file was not written again: %v", err)
	}
}
