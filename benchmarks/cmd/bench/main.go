// Command bench runs the cipherscope benchmark suite standalone:
//
//	go run -tags duckdb_arrow ./benchmarks/cmd/bench -scale 1M -reps 3 -cases 'cidr_*,eq_range'
//
// It does what `cipherscope bench` does; see package benchmarks for what is measured.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/cipherscope/cipherscope/benchmarks"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	o, err := benchmarks.ParseFlags(fs, os.Args[1:], os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	res, err := benchmarks.Run(ctx, o)
	if res != nil {
		for _, f := range res.Files {
			fmt.Println(f)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
