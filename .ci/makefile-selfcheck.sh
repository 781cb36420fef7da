#!/usr/bin/env bash
# Checks what a new user meets first: make test in a copy without .git
# (a downloaded archive) stops at once and names the need for git.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

git archive HEAD | tar -x -C "$tmp"
if out=$(make -s -C "$tmp" test 2>&1); then
  echo "make test in a copy without .git passed; it should stop at need-git" >&2; exit 1
fi
grep -q "make test needs a git checkout" <<<"$out" \
  || { echo "make test in a copy without .git did not name the need for git:" >&2; echo "$out" >&2; exit 1; }

echo "makefile self-check: make test outside a git checkout stops at once and says why"
