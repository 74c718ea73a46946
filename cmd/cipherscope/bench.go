package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/cipherscope/cipherscope/benchmarks"
)

// runBench runs the benchmark harness; the serve child is this very binary unless -bin
// names another. Result files are listed on stdout, progress goes to stderr.
func runBench(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("cipherscope bench", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	o, err := benchmarks.ParseFlags(fs, args, e.getenv)
	if err != nil {
		return err
	}
	if o.Binary == "" {
		if o.Binary, err = os.Executable(); err != nil {
			return err
		}
	}
	o.Log = e.stderr
	res, err := benchmarks.Run(ctx, o)
	if res != nil {
		for _, f := range res.Files {
			fmt.Fprintln(e.stdout, f)
		}
	}
	return err
}
