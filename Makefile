# The Web PubSub Go toolkit. `make test` is what CI runs (see .ci/run).
# Tools are pinned: the generator in go.mod (tools.go), the linter here, run
# with `go run pkg@version` so it never enters go.mod.
SHELL         := /bin/bash
.SHELLFLAGS   := -eu -o pipefail -c
.DEFAULT_GOAL := check

GO          ?= go
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
GENERATED   := gen
FUZZTIME    ?= 20s
BENCH       ?= .
BENCHTIME   ?= 1s
SPEC        ?=
WRITE       ?=

.PHONY: need-git makefile-selfcheck go-floor interop check test generate check-generated tidy-check fmt-check vet lint unit cover bench fuzz fuzz-smoke consumer-check specdiff demo bench-compare bench-emulator bench-client soak

## check: everything CI checks (CI adds go-floor, see .ci/run).
check: check-generated tidy-check fmt-check vet lint unit fuzz-smoke consumer-check makefile-selfcheck

## test: the README's test command; the same as check.
test: check

## generate: regenerate gen/ from api/webpubsub.yaml.
generate:
	$(GO) generate ./...

## need-git: stop at once outside a git checkout: check-generated and
## fmt-check compare the tree with what git tracks.
need-git:
	@test "$$(git -C '$(CURDIR)' rev-parse --show-toplevel 2>/dev/null)" = "$(realpath $(CURDIR))" \
	  || { echo "make test needs a git checkout of the repository: it compares the regenerated gen/ and the gofmt'ed files with what git tracks, and $(CURDIR) is not the top of a git work tree (a downloaded archive?). Clone it with git, or run 'git init && git add -A' here first." >&2; exit 1; }

## check-generated: fail when gen/ differs from what api/webpubsub.yaml generates.
check-generated: need-git generate
	@git diff --exit-code --stat -- $(GENERATED) \
	  || { echo "gen/ is stale: api/webpubsub.yaml changed without regenerating. Run 'make generate' and commit gen/." >&2; exit 1; }
	@new=$$(git ls-files --others --exclude-standard -- $(GENERATED)); \
	  test -z "$$new" || { echo "gen/ has files git does not track: $$new. Run 'make generate' and commit them." >&2; exit 1; }

## tidy-check: fail when go.mod or go.sum is not tidy.
tidy-check:
	$(GO) mod tidy -diff

## fmt-check: fail when a Go file is not gofmt'ed.
fmt-check: need-git
	@files=$$(git ls-files '*.go'); test -n "$$files" || { echo "fmt-check: git tracks no Go files here" >&2; exit 1; }; \
	  out=$$(gofmt -l $$files); test -z "$$out" || { echo "run gofmt -w on: $$out" >&2; exit 1; }

vet:
	$(GO) vet ./...

lint:
	$(GO) run $(STATICCHECK) ./...

## unit: the tests, with the race detector, then one line saying whether
## the interop tests ran or were skipped (and why).
unit:
	@report=$$(mktemp); status=0; \
	  INTEROP_REPORT=$$report $(GO) test -race -count=1 ./... || status=$$?; \
	  if test -s $$report; then cat $$report; else echo "interop tests: no report (the interop package did not build or run)"; fi; \
	  rm -f $$report; exit $$status

cover:
	$(GO) test -race -covermode=atomic -coverprofile=cover.out ./...
	$(GO) tool cover -func=cover.out | tail -1

bench:
	$(GO) test -run='^$$' -bench='$(BENCH)' -benchtime=$(BENCHTIME) -benchmem ./...

## bench-compare: the SDK's sends and tokens side by side with the bare limit and the
## JavaScript SDK (bench/js, installed with npm ci when missing; skipped without node).
## Extra flags: make bench-compare BENCH_ARGS='-rounds 5'.
bench-compare:
	@if command -v node >/dev/null 2>&1; then \
	  test -d bench/js/node_modules/@azure/web-pubsub || (cd bench/js && npm ci --no-audit --no-fund) || echo "npm ci failed in bench/js: the JavaScript SDK column will be skipped"; \
	else echo "node is not installed: the JavaScript SDK column will be skipped"; fi
	$(GO) build -o bench/.bin/compare ./bench/cmd/compare
	timeout 600 bench/.bin/compare -js bench/js $(BENCH_ARGS)

## bench-client: the WebSocket client SDK (webpubsub/wsclient) receiving side by side with
## @azure/web-pubsub-client 1.1 (bench/js, installed with npm ci when missing; skipped without
## node), and 10,000 idle wsclient connections. Extra flags: make bench-client BENCH_ARGS='-rounds 5'.
bench-client:
	@if command -v node >/dev/null 2>&1; then \
	  test -d bench/js/node_modules/@azure/web-pubsub-client || (cd bench/js && npm ci --no-audit --no-fund) || echo "npm ci failed in bench/js: the JavaScript client will be skipped"; \
	else echo "node is not installed: the JavaScript client will be skipped"; fi
	$(GO) build -o bench/.bin/clientload ./bench/cmd/clientload
	ulimit -n $$(ulimit -Hn) && timeout 600 bench/.bin/clientload -js bench/js $(BENCH_ARGS)

## bench-emulator: the emulator with 100 to 10,000 WebSocket clients on loopback.
bench-emulator:
	$(GO) build -o bench/.bin/emulatorload ./bench/cmd/emulatorload
	ulimit -n $$(ulimit -Hn) && timeout 600 bench/.bin/emulatorload $(BENCH_ARGS)

## fuzz: run every fuzz target for FUZZTIME each.
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$t"; $(GO) test -run='^$$' -fuzz="^$$t$$" -fuzztime=$(FUZZTIME) $$pkg; \
	  done; \
	done

## fuzz-smoke: the fuzz targets' seed corpora only.
fuzz-smoke:
	$(GO) test -count=1 -run='^Fuzz' ./...

## makefile-selfcheck: make test in a copy without .git stops at once with a
## message that says what to do.
makefile-selfcheck:
	bash .ci/makefile-selfcheck.sh

## go-floor: build and test the public packages with the Go version of
## go.mod's go line, so that the floor it promises stays true (GOTOOLCHAIN
## fetches that toolchain through the module proxy; CI runs it).
GO_FLOOR := $(shell sed -n 's/^go //p' go.mod)
go-floor:
	GOTOOLCHAIN=go$(GO_FLOOR) $(GO) version
	GOTOOLCHAIN=go$(GO_FLOOR) $(GO) test -count=1 ./webpubsub/...

## consumer-check: a module that imports only ./webpubsub gets none of our tools.
consumer-check:
	bash internal/consumercheck/check.sh

## interop: the interop tests against the official JavaScript packages (needs Node.js and npm;
## they install pinned versions in interop/testdata). `make unit` runs them too, and skips them without Node.js.
interop:
	$(GO) test -race -count=1 -v ./interop/

## specdiff: compare api/webpubsub.yaml with an official Swagger document:
## make specdiff SPEC=path/to/webpubsub.json (docs/regenerating.md says where to get one).
## Without SPEC it compares with the committed fact file api/official-facts.json;
## WRITE=1 rewrites that file from SPEC.
specdiff:
	$(GO) run ./internal/specdiff $(if $(WRITE),-write) $(SPEC)

## demo: start a local Web PubSub service and walk through the SDK (no configuration needed).
demo: ; $(GO) run ./cmd/webpubsub demo

## soak: 1,000 WebSocket clients on a local emulator, SDK sends, random drops
## and reconnects, for SOAK_DURATION (default 2m); reports loss, latency,
## memory and goroutines, and fails on any loss, duplicate or leak.
soak:
	$(GO) run ./bench/soak -duration $${SOAK_DURATION:-2m}
