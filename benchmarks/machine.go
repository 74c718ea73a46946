package benchmarks

import (
	"bufio"
	"os"
	"os/exec"
	"runtime"
	"strings"
)

// describeMachine collects the facts printed beside the numbers. Database versions are
// filled in by the caller once the databases are open.
func describeMachine() Machine {
	m := Machine{
		CPUs:        runtime.NumCPU(),
		CPUModel:    cpuModel(),
		MemoryBytes: readStatusKB("/proc/meminfo", "MemTotal:") * 1024,
		OS:          runtime.GOOS + "/" + runtime.GOARCH,
		Go:          runtime.Version(),
	}
	if out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		m.Commit = strings.TrimSpace(string(out))
	}
	return m
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
