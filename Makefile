# cipherscope build. The duckdb_arrow build tag is set here, once, for every go command.
GO      ?= go
TAGS    := duckdb_arrow
BIN     := bin/cipherscope
DB      ?= cipherscope.duckdb
LISTEN  ?= 127.0.0.1:8080
export CGO_ENABLED := 1

.PHONY: build run test fuzz bench generate pgctype vet clean lint-openapi openapi webassets

build:
	$(GO) build -tags $(TAGS) -o $(BIN) ./cmd/cipherscope

# Builds, creates $(DB) with a generated demo dataset on first start, and serves the API.
run: build
	./$(BIN) serve --db $(DB) --listen $(LISTEN) --demo

# The whole test suite, including the PostgreSQL differential test and bounded fuzzing.
test: vet
	$(GO) test -tags $(TAGS) -count=1 -timeout 40m ./...
	$(MAKE) lint-openapi
	$(MAKE) fuzz

vet:
	$(GO) vet -tags $(TAGS) ./...

# An execution count, not a duration: a duration-bounded run can fail with a bare "context
# deadline exceeded" when a starved worker misses the coordinator's deadline (go.dev/issue/75804,
# seen in CI on two cores). 150000 inputs take 5-70 s per target on two idle cores; -timeout
# bounds a stall.
FUZZTIME ?= 150000x
fuzz:
	@for target in $$($(GO) test -tags $(TAGS) -list '^Fuzz' ./query/ | grep '^Fuzz'); do \
		echo "fuzz $$target ($(FUZZTIME))"; \
		$(GO) test -tags $(TAGS) -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) -timeout 5m ./query/ || exit 1; \
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

# OpenAPI document and docs page (server/openapi*.go, server/docs.go). tools/docs holds the
# pinned npm tools (package.json, package-lock.json): @redocly/cli, js-yaml, swagger-ui-dist.
DOCS_TOOLS := tools/docs
DOCS_NPM   := $(DOCS_TOOLS)/node_modules/.package-lock.json
# The Redocly CLI sends usage data and checks for updates unless told not to.
REDOCLY    := REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true npx --no-install redocly

# npm ci again only when the lock file changes; no install scripts run.
$(DOCS_NPM): $(DOCS_TOOLS)/package.json $(DOCS_TOOLS)/package-lock.json
	cd $(DOCS_TOOLS) && npm ci --no-audit --no-fund --ignore-scripts
	touch $@

# Checks that server/testdata/openapi.{json,yaml} are the generated document, lints both
# with the recommended Redocly rules ($(DOCS_TOOLS)/redocly.yaml; any warning fails too),
# and checks that the YAML parses to the JSON.
lint-openapi: $(DOCS_NPM)
	$(GO) test -tags $(TAGS) -count=1 -run '^TestOpenAPIGolden$$' ./server/
	@log=$$(mktemp); \
	if ! (cd $(DOCS_TOOLS) && $(REDOCLY) lint --config redocly.yaml ../../server/testdata/openapi.json ../../server/testdata/openapi.yaml) >$$log 2>&1 \
	   || grep -qE 'You have [0-9]+ warnings?' $$log; then cat $$log; rm -f $$log; echo 'lint-openapi: redocly reported problems'; exit 1; fi; \
	grep -v 'Unknown user config' $$log | tail -n 3; rm -f $$log
	cd $(DOCS_TOOLS) && node yaml-equals-json.js ../../server/testdata/openapi.json ../../server/testdata/openapi.yaml

# Rewrites server/testdata/openapi.{json,yaml} after a change to the API or the catalog.
openapi:
	$(GO) test -tags $(TAGS) -count=1 -run '^TestOpenAPIGolden$$' ./server/ -update

# Copies the Swagger UI files of the pinned swagger-ui-dist into server/webassets (committed,
# so building needs no npm); update the version in server/webassets/README.md too.
webassets: $(DOCS_NPM)
	cp $(addprefix $(DOCS_TOOLS)/node_modules/swagger-ui-dist/,swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt swagger-ui.css LICENSE NOTICE) server/webassets/swagger-ui/
	@echo "swagger-ui-dist $$(node -p 'require("./$(DOCS_TOOLS)/node_modules/swagger-ui-dist/package.json").version') copied to server/webassets/swagger-ui"

clean:
	rm -rf bin
