# cipherscope build. The duckdb_arrow build tag is set here, once, for every go command.
GO      ?= go
TAGS    := duckdb_arrow
BIN     := bin/cipherscope
DB      ?= cipherscope.duckdb
LISTEN  ?= 127.0.0.1:8080
export CGO_ENABLED := 1

.PHONY: build run test fuzz bench generate pgctype vet clean

build:
	$(GO) build -tags $(TAGS) -o $(BIN) ./cmd/cipherscope

# Builds, creates $(DB) with a generated demo dataset on first start, and serves the API.
run: build
	./$(BIN) serve --db $(DB) --listen $(LISTEN) --demo

# The whole test suite, including the PostgreSQL differential test and bounded fuzzing.
test: vet
	$(GO) test -tags $(TAGS) -count=1 -timeout 40m ./...
	$(MAKE) fuzz

vet:
	$(GO) vet -tags $(TAGS) ./...

FUZZTIME ?= 20s
fuzz:
	@for target in $$($(GO) test -tags $(TAGS) -list '^Fuzz' ./query/ | grep '^Fuzz'); do \
		echo "fuzz $$target ($(FUZZTIME))"; \
		$(GO) test -tags $(TAGS) -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) ./query/ || exit 1; \
	done

# Benchmarks are never part of `make test`. SCALE=1M|10M|100M, REPS=n, CASES='glob,...'
bench: build
	./$(BIN) bench -bin ./$(BIN) $(if $(SCALE),-scale $(SCALE)) $(if $(REPS),-reps $(REPS)) $(if $(CASES),-cases '$(CASES)')

# Regenerates checked-in generated files (marked "Code generated ... DO NOT EDIT").
generate:
	$(GO) generate ./...

# Regenerates query/zz_pgctype.go (PostgreSQL's C.UTF-8 case mappings and character
# classes) from a throwaway PostgreSQL server; a difftest subtest fails when they drift.
pgctype:
	$(GO) run -tags $(TAGS) ./internal/pgctype/gen -out query/zz_pgctype.go

clean:
	rm -rf bin
