// Command cipherscope is the single binary of cipherscope: the API server and the
// scriptable command line (DESIGN section 6).
//
// Exit codes: 0 success; 1 runtime error (database, I/O, server); 2 usage or input error
// (unknown flag, bad flag value, bad filter, refused listen address).
//
// Every flag has an environment equivalent: CIPHERSCOPE_ plus the flag name in upper
// case with dashes as underscores (--db is CIPHERSCOPE_DB, --query-timeout is
// CIPHERSCOPE_QUERY_TIMEOUT). A flag given on the command line wins over the environment.
// Output meant for scripts goes to stdout; logs and progress go to stderr.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes of the command line contract.
const (
	exitOK      = 0
	exitRuntime = 1
	exitUsage   = 2
)

// usageError marks errors caused by the invocation or the user's input (exit code 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// alreadyReported marks errors whose message has been written to stderr in full
// (a rendered filter error); main only sets the exit code.
type alreadyReported struct{ code int }

func (e *alreadyReported) Error() string { return "reported" }

// env gives the commands their streams, so tests can run them in-process.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

// subcommand is one `cipherscope <name>` command.
type subcommand struct {
	name    string
	summary string
	run     func(ctx context.Context, e env, args []string) error
}

var subcommands = []subcommand{
	{"serve", "serve the REST API over a database", runServe},
	{"fixtures", "write a deterministic generated dataset to files", runFixtures},
	{"ingest", "load Zeek logs, certificates and native files into a database", runIngest},
	{"query", "query a database and write the rows to stdout", runQuery},
	{"bench", "run the benchmark suite (API vs raw DuckDB vs PostgreSQL)", runBench},
	{"keys", "create, import, list, edit, lock, unlock, delete API keys", runKeys},
	{"audit", "verify the audit log's hash chain and signatures", runAudit},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, env{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, os.Args[1:])
	stop()
	os.Exit(code)
}

// run dispatches to a subcommand and maps its error to an exit code.
func run(ctx context.Context, e env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(e.stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, sc := range subcommands {
		if sc.name == args[0] {
			return exitCode(e, sc.name, sc.run(ctx, e, args[1:]))
		}
	}
	fmt.Fprintf(e.stderr, "cipherscope: unknown command %q\n\n", args[0])
	printUsage(e.stderr)
	return exitUsage
}

func exitCode(e env, name string, err error) int {
	var rep *alreadyReported
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &rep):
		return rep.code
	case errors.Is(err, errHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(e.stderr, "cipherscope %s: %s\n", name, ue.msg)
		return exitUsage
	}
	fmt.Fprintf(e.stderr, "cipherscope %s: %v\n", name, err)
	return exitRuntime
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: cipherscope <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	for _, sc := range subcommands {
		fmt.Fprintf(w, "  %-9s %s\n", sc.name, sc.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run `cipherscope <command> -h` for its flags. Every flag has an environment")
	fmt.Fprintln(w, "equivalent, e.g. --db is CIPHERSCOPE_DB. Exit codes: 0 ok, 1 runtime error,")
	fmt.Fprintln(w, "2 usage or input error.")
}
