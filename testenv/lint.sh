#!/usr/bin/env bash
# Lint the Go code: gofmt -l (must print nothing), go vet, staticcheck.
# staticcheck is installed (pinned) into <repo>/.cache/bin on first use.
# Usage: testenv/lint.sh      (from any directory; `make lint` calls it)
set -euo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
# 2026.2.2: the first staticcheck line whose go.mod says go 1.26 (the repo's go version).
STATICCHECK_VERSION=v0.8.2
GOBIN_DIR="$ROOT/.cache/bin"
STATICCHECK="$GOBIN_DIR/staticcheck"
GO="${GO:-go}"

cd "$ROOT"
command -v "$GO" >/dev/null 2>&1 || {
	echo "lint: go not found" >&2
	exit 1
}

fail=0

echo "lint: gofmt -l"
# Only tracked and new (not ignored) Go files: skips .cache/ and anything gitignored.
if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	mapfile -t gofiles < <(git -C "$ROOT" ls-files -z --cached --others --exclude-standard -- '*.go' | tr '\0' '\n' |
		while IFS= read -r f; do [[ -f $f ]] && printf '%s\n' "$f"; done)
else
	mapfile -t gofiles < <(find . -path ./.cache -prune -o -name '*.go' -type f -print)
fi
if ((${#gofiles[@]})); then
	# gofmt also exits non-zero on syntax errors; its output then names them.
	unformatted=$(gofmt -l "${gofiles[@]}" 2>&1) || true
	if [[ -n $unformatted ]]; then
		echo "lint: gofmt -l reports (run gofmt -w on these):" >&2
		sed 's/^/  /' <<<"$unformatted" >&2
		fail=1
	fi
fi

# Tagged test files (integration, chaos) are vetted too.
TAGS="integration chaos"
echo "lint: go vet (plain, and with tags: $TAGS)"
# ./... covers the product's module; the benchmark harness and the Kubernetes
# chart's checks are modules of their own.
PKGS=(./... ./bench/... ./testenv/k8s/...)
"$GO" vet "${PKGS[@]}" || fail=1
"$GO" vet -tags "$TAGS" "${PKGS[@]}" || fail=1

# Install staticcheck idempotently (rebuilt only when missing or another version).
if ! { [[ -x $STATICCHECK ]] && "$STATICCHECK" -version 2>/dev/null | grep -q "(${STATICCHECK_VERSION#v})"; }; then
	echo "lint: installing staticcheck $STATICCHECK_VERSION into ${GOBIN_DIR#"$ROOT"/}"
	mkdir -p "$GOBIN_DIR"
	# pkg@version ignores the repo's go.mod, so go.mod/go.sum are not touched.
	GOBIN="$GOBIN_DIR" "$GO" install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
fi

echo "lint: staticcheck ($("$STATICCHECK" -version))"
"$STATICCHECK" "${PKGS[@]}" || fail=1
"$STATICCHECK" -tags "$TAGS" "${PKGS[@]}" || fail=1
"$ROOT/testenv/cfnlint.sh" || fail=1

if ((fail)); then
	echo "lint: FAILED" >&2
	exit 1
fi
echo "lint: ok"
