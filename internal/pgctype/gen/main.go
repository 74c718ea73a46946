// Command gen measures PostgreSQL's case mappings and character classes on a throwaway
// server (internal/pgtest) and writes them as Go tables:
//
//	go run -tags duckdb_arrow ./internal/pgctype/gen -out query/zz_pgctype.go
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/cipherscope/cipherscope/internal/pgctype"
	"github.com/cipherscope/cipherscope/internal/pgtest"
)

func main() {
	out := flag.String("out", "query/zz_pgctype.go", "file to write")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "pgctype gen:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	srv, err := pgtest.Start(ctx, pgtest.Options{})
	if err != nil {
		return err
	}
	defer srv.Stop()
	conn, err := srv.Connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	t, err := pgctype.Fetch(ctx, conn)
	if err != nil {
		return err
	}
	v, err := pgctype.Version(ctx, conn)
	if err != nil {
		return err
	}
	src, err := pgctype.Render(t, v)
	if err != nil {
		return err
	}
	return os.WriteFile(out, src, 0o644)
}
