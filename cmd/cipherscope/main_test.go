package main

import (
	"bytes"
	"context"
	"flag"
	"testing"
)

func runCLI(envVars map[string]string, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	e := env{stdout: &out, stderr: &errb, getenv: func(k string) string { return envVars[k] }}
	code := run(context.Background(), e, args)
	return code, out.String(), errb.String()
}

func TestUsageErrors(t *testing.T) {
	const refused = `the database has no API keys; only loopback addresses (127.0.0.0/8, ::1, localhost) are allowed until one exists (cipherscope keys create --db FILE --roles Administrator)`
	tests := []struct {
		name   string
		env    map[string]string
		args   []string
		code   int
		stderr string
	}{
		{"unknown command", nil, []string{"frobnicate"}, 2, "cipherscope: unknown command \"frobnicate\"\n\n"},
		{"unknown flag", nil, []string{"query", "--nope"}, 2, "flag provided but not defined: -nope\n"},
		{"query without dataset", nil, []string{"query"}, 2, "cipherscope query: give exactly one dataset: discovery or cert\n"},
		{"query with bad dataset", nil, []string{"query", "flows"}, 2, "cipherscope query: unknown dataset \"flows\": use discovery or cert\n"},
		{"query bad format", nil, []string{"query", "cert", "--format", "xml"}, 2, "cipherscope query: unknown --format \"xml\": use json or csv\n"},
		{"query unknown column", nil, []string{"query", "cert", "--columns", "certCommonName,certCN"}, 2,
			"columns: unknown field \"certCN\" in dataset cert\n  hint: did you mean certIsCa, certTxt?\n"},
		{"bad env value", map[string]string{"CIPHERSCOPE_LIMIT": "many"}, []string{"query", "cert"}, 2,
			"cipherscope query: invalid value \"many\" for $CIPHERSCOPE_LIMIT: parse error\n"},
		{"fixtures needs --out", nil, []string{"fixtures"}, 2, "cipherscope fixtures: --out is required\n"},
		{"serve refuses a public address", nil, []string{"serve", "--listen", "0.0.0.0:8080"}, 2,
			"cipherscope serve: refusing to listen on \"0.0.0.0:8080\": " + refused + "\n"},
		{"serve refuses a public address from the environment", map[string]string{"CIPHERSCOPE_LISTEN": "10.1.2.3:80"}, []string{"serve"}, 2,
			"cipherscope serve: refusing to listen on \"10.1.2.3:80\": " + refused + "\n"},
		{"flag wins over environment", map[string]string{"CIPHERSCOPE_LISTEN": "127.0.0.1:1"}, []string{"serve", "--listen", "[::]:1"}, 2,
			"cipherscope serve: refusing to listen on \"[::]:1\": " + refused + "\n"},
		{"serve positional", nil, []string{"serve", "extra"}, 2, "cipherscope serve: unexpected argument \"extra\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(tt.env, tt.args...)
			if tt.name == "unknown command" || tt.name == "unknown flag" {
				// Usage text follows; only its beginning is pinned.
				if code != tt.code || !bytes.HasPrefix([]byte(stderr), []byte(tt.stderr)) {
					t.Errorf("exit %d stderr %q", code, stderr)
				}
				return
			}
			if code != tt.code || stderr != tt.stderr || stdout != "" {
				t.Errorf("exit %d stdout %q\nstderr %q\nwant   %q", code, stdout, stderr, tt.stderr)
			}
		})
	}
}

func TestCheckLoopback(t *testing.T) {
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:8080", true},
		{"127.1.2.3:0", true},
		{"[::1]:8080", true},
		{"localhost:8080", true},
		{"LOCALHOST:1", true},
		{"[::ffff:127.0.0.1]:80", true},
		{"0.0.0.0:8080", false},
		{"[::]:8080", false},
		{":8080", false},
		{"10.0.0.1:80", false},
		{"example.com:80", false},
		{"localhost.example.com:80", false},
	}
	for _, tt := range tests {
		if ok, err := isLoopback(tt.addr); err != nil || ok != tt.ok {
			t.Errorf("isLoopback(%q) = %v, %v", tt.addr, ok, err)
		}
	}
}

func TestEnvName(t *testing.T) {
	for flagName, want := range map[string]string{"db": "CIPHERSCOPE_DB", "query-timeout": "CIPHERSCOPE_QUERY_TIMEOUT", "demo-rows": "CIPHERSCOPE_DEMO_ROWS"} {
		if got := envName(flagName); got != want {
			t.Errorf("envName(%q) = %q, want %q", flagName, got, want)
		}
	}
}

func TestParseFlagsInterspersed(t *testing.T) {
	var buf bytes.Buffer
	fs := newFlagSet("query", "", &buf)
	db := fs.String("db", "", "")
	limit := fs.Int("limit", 0, "")
	pos, err := parseFlags(fs, []string{"--db", "x.duckdb", "cert", "--limit", "5"}, func(k string) string {
		return map[string]string{"CIPHERSCOPE_DB": "env.duckdb", "CIPHERSCOPE_LIMIT": "9"}[k]
	})
	if err != nil || len(pos) != 1 || pos[0] != "cert" || *db != "x.duckdb" || *limit != 5 {
		t.Errorf("pos %v err %v db %q limit %d", pos, err, *db, *limit)
	}
	if _, err := parseFlags(newFlagSet("x", "", &buf), []string{"-h"}, func(string) string { return "" }); err != flag.ErrHelp {
		t.Errorf("-h: %v", err)
	}
}
