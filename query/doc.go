// Package query implements cipherscope's filter language and compiles requests to SQL.
//
// A filter is a PostgreSQL 15 WHERE clause restricted to predicates with one field on
// the left (DESIGN.md section 3). The pipeline is
//
//	Parse   text -> AST (ast.go; recursive descent in rdparse.go over lexer.go; the
//	        participle grammar in grammar.go is the executable specification, checked
//	        against the parser by TestParsersAgree and FuzzParsersAgree)
//	Check   AST + dataset -> Cond, a typed, dialect-neutral condition (check.go)
//	Analyze Request -> Plan: filter, columns, sorts, time frame, paging (compile.go)
//	Dialect Plan -> Statement: SQL text + bind arguments (duckdb.go)
//
// Every error is an *Error in an ErrorList, with the byte offset, line and column of the
// offending token; Check and Analyze report as many errors as they can find at once.
//
// # Semantics
//
// The reference is PostgreSQL 15 in a UTF-8 database with the C.UTF-8 locale:
//
//   - Three-valued logic as in SQL: a comparison with NULL is NULL, NOT NULL is NULL,
//     and only rows whose filter is TRUE are returned. x IN (a, NULL) is TRUE or NULL,
//     never FALSE; x BETWEEN a AND b is x >= a AND x <= b.
//   - A string literal compared with a typed field is read as that type, like an
//     untyped literal in PostgreSQL ('443' for an int, '10.0.0.1' for an ip, '2026-01-01'
//     for a timestamp, 'yes' or 't' for a bool). Numbers with a fraction compared with an
//     int field are exact (serverPort > 442.5 is serverPort >= 443). Integers beyond
//     64 bits are errors.
//   - Timestamps: RFC 3339, YYYY-MM-DD, or YYYY-MM-DD HH:MM[:SS[.ffffff]][zone]; without a
//     zone the time is UTC (the storage time zone), with one it is converted to UTC (as
//     timestamptz with the session time zone UTC).
//   - ip fields hold host addresses and follow PostgreSQL's inet: IPv4 and IPv6 are
//     different families (every IPv4 address sorts before every IPv6 address, and an
//     IPv4-mapped IPv6 address is not in an IPv4 prefix); <<, <<=, >>, >>=, && and the
//     comparisons against a literal with a prefix length (host bits allowed: 10.1.2.3/8)
//     are rewritten exactly for host addresses (ipsem.go).
//   - List fields (list<string>): a predicate holds when it holds for some element, with
//     the semantics of PostgreSQL's x = ANY(array): NULL when the list is NULL, or when no
//     element gives TRUE and some element gives NULL; FALSE for an empty list. IS NULL
//     tests the list itself. Negated operators apply per element: weakReasons NOT LIKE
//     '%RC4%' holds when some element does not match; write NOT (weakReasons LIKE
//     '%RC4%') for "no element matches".
//   - LIKE and ILIKE: % and _ are wildcards (_ is one character), backslash escapes the
//     next character, a pattern ending in a lone backslash is an error.
//   - Regular expressions (~ ~* !~ !~*) are unanchored and run on RE2, translated so that
//     they match exactly what PostgreSQL matches (regex.go): '.' matches a newline;
//     case-insensitivity, POSIX classes and \w \s \d use PostgreSQL's C.UTF-8 tables
//     (zz_pgctype.go, measured on PostgreSQL by internal/pgctype/gen). ILIKE with
//     non-ASCII pattern characters runs as an exact regular expression for the same reason.
//   - A TIMESTAMP '...' literal with a non-zero offset is an error (PostgreSQL would drop
//     the offset); an untyped string with an offset is read as timestamptz. Constructs that
//     RE2 lacks or reads differently are errors with their position: backreferences,
//     lookahead and lookbehind, \m \M \y \Y \Z, \b and \B, \x \u \U \e \c \0 escapes,
//     [[:<:]] and [[:>:]], and options other than (?i) and (?s).
//
// # Known differences from PostgreSQL
//
//   - inet literals accept only the standard address forms: no '10/8' abbreviations and
//     no leading zeros ('010.0.0.1' is 10.0.0.1 in PostgreSQL, an error here).
//   - Timestamps with more than six fractional digits are errors instead of being rounded.
//   - A LIKE pattern ending in a lone backslash is always an error here; PostgreSQL
//     raises it only for rows whose matching reaches the escape.
//
// # Verification
//
// The rules above were checked against PostgreSQL 15.18 (C.UTF-8) and the generated SQL
// was run on DuckDB 1.5: inet order and containment on random prefixes of both families
// (against a port of PostgreSQL's network_cmp_internal), ANY semantics over lists with
// NULL elements, LIKE escapes and _ on multi-byte characters, '.' and newlines, and the
// case-insensitive literal rewrite on U+212A, U+017F and U+0130.
//
// # Storage
//
// The SQL follows the storage conventions in catalog.go: ip fields are compared through
// their <name>__fam and <name>__num columns, so that a CIDR test is a range scan, and are
// output as text. Discovery rollups group observations by their integer flowId and join
// the flow's key columns back, so pre-aggregate predicates run once per flow. Every user
// value is a bind argument and every identifier comes from the catalog.
package query
