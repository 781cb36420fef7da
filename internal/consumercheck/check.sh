#!/usr/bin/env bash
# consumer-check: prove that a program importing only our public package gets
# none of the module's tools in its go.mod.
#
# It writes a throw-away consumer module that imports
# github.com/webpubsub-go/sdk/webpubsub (replaced by this work tree), runs
# `go mod tidy`, prints the consumer's requirements and fails when any of
# them is a tool or test-only dependency of ours (the generator, kin-openapi,
# gorilla, speakeasy, x/tools, staticcheck, go-cmp, YAML libraries), or when
# the consumer's go line rises above the module floor.
#
# Run from anywhere: bash internal/consumercheck/check.sh (make consumer-check).
# CONSUMER_IMPORT overrides the imported packages (space-separated import
# paths), e.g. to also try webpubsub/eventhandler or webpubsub/webpubsubtest.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
module=$(cd "$root" && GOWORK=off go list -m)
import=${CONSUMER_IMPORT:-$module/webpubsub}
max_go=1.25

# Module paths a consumer must never require, as one extended regex.
forbidden='github\.com/oapi-codegen/oapi-codegen|kin-openapi|gorilla|speakeasy|golang\.org/x/tools|honnef\.co|staticcheck|go-cmp|yaml|opentelemetry|azotel'

tmp=$(mktemp -d "${TMPDIR:-/tmp}/consumercheck.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/go.mod" <<EOF
module example.com/consumer

go 1.25.0

replace $module => $root
EOF
{
	echo "// Command consumer stands for a user's program: it imports only our public packages."
	echo "package main"
	echo
	for pkg in $import; do
		echo "import _ \"$pkg\""
	done
	echo
	echo "func main() {}"
} >"$tmp/main.go"

cd "$tmp"
export GOWORK=off GOFLAGS=-mod=mod GOTOOLCHAIN=local
if ! out=$(go mod tidy 2>&1); then
	echo "consumer-check: 'go mod tidy' failed in a module that imports $import:" >&2
	echo "$out" >&2
	exit 1
fi
if ! out=$(go build ./... 2>&1); then
	echo "consumer-check: a module that imports $import does not build:" >&2
	echo "$out" >&2
	exit 1
fi

# The require lines of the consumer's go.mod: "path version [// indirect]".
requires=$(awk '
	/^require \($/ { block = 1; next }
	block && /^\)$/ { block = 0; next }
	block { print; next }
	/^require / { sub(/^require /, ""); print }
' go.mod | sed 's/^[[:space:]]*//')
go_line=$(awk '$1 == "go" { print $2; exit }' go.mod)

echo "consumer of $import: go $go_line, $(printf '%s\n' "$requires" | grep -c . || true) requirements, $(wc -l <go.sum | tr -d ' ') go.sum lines"
printf '%s\n' "$requires" | sed 's/^/  /'

status=0
if bad=$(printf '%s\n' "$requires" | grep -E "$forbidden"); then
	echo "consumer-check: FAIL: a user's go.mod would require tool or test-only modules of ours:" >&2
	printf '%s\n' "$bad" | sed 's/^/  /' >&2
	echo "Keep tools in tools.go (root package, never imported) and test helpers in _test.go files or internal test packages." >&2
	status=1
fi

# Compare major.minor of the go line with the floor.
IFS=. read -r got_major got_minor _ <<<"$go_line"
IFS=. read -r max_major max_minor _ <<<"$max_go"
if ((got_major > max_major || (got_major == max_major && got_minor > max_minor))); then
	echo "consumer-check: FAIL: the consumer's go line rose to $go_line; the module floor is go $max_go. A dependency needs a newer Go: pin an older version of it." >&2
	status=1
fi

if ((status == 0)); then
	echo "consumer-check: OK: no tool or test-only module, go line at most $max_go"
fi
exit $status
