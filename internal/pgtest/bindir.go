package pgtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
)

// PreferredMajor is the PostgreSQL major version that is the semantic reference (DESIGN
// section 3); findBinDir picks it when several versions are installed.
const PreferredMajor = 15

// programs are the binaries a server needs.
var programs = []string{"initdb", "pg_ctl", "postgres"}

// findBinDir returns the first directory holding all of programs, in the order documented
// on Options.BinDir.
func findBinDir(explicit string) (string, error) {
	var cands []string
	if explicit != "" {
		cands = append(cands, explicit)
	} else {
		if env := os.Getenv("PGTEST_BINDIR"); env != "" {
			cands = append(cands, env)
		}
		cands = append(cands, debianBinDirs()...)
		cands = append(cands, "/usr/local/pgsql/bin")
		if p, err := exec.LookPath("pg_ctl"); err == nil {
			// /usr/local/bin may hold symlinks into the real directory; resolve them so that
			// pg_ctl finds the postgres binary next to itself.
			if real, err := filepath.EvalSymlinks(p); err == nil {
				cands = append(cands, filepath.Dir(real))
			}
			cands = append(cands, filepath.Dir(p))
		}
	}
	for _, dir := range cands {
		if hasPrograms(dir) {
			return dir, nil
		}
	}
	return "", fmt.Errorf("pgtest: PostgreSQL server programs (%v) not found in %v; "+
		"install PostgreSQL %d with `apt-get install postgresql` (or set PGTEST_BINDIR)",
		programs, cands, PreferredMajor)
}

// debianBinDirs lists /usr/lib/postgresql/<major>/bin, PreferredMajor first, then the
// others newest first.
func debianBinDirs() []string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	major := func(dir string) int {
		n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
		return n
	}
	sort.SliceStable(dirs, func(i, j int) bool {
		mi, mj := major(dirs[i]), major(dirs[j])
		if (mi == PreferredMajor) != (mj == PreferredMajor) {
			return mi == PreferredMajor
		}
		return mi > mj
	})
	return dirs
}

func hasPrograms(dir string) bool {
	for _, p := range programs {
		fi, err := os.Stat(filepath.Join(dir, p))
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}
