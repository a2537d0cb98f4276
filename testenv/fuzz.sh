#!/usr/bin/env bash
# Run every fuzz target of the module for FUZZTIME (default 10s) each, one at a time.
# Usage: FUZZTIME=30s testenv/fuzz.sh      (from any directory; `make fuzz` calls it)
#
# Targets are found by their declaration, `func FuzzX(f *testing.F)` in a _test.go file, so a
# new target runs without touching this script. Files with build constraints are skipped: a
# plain `go test` would not compile them. New interesting inputs are cached under GOCACHE; a
# failing input is written to <package>/testdata/fuzz/<target>/ and its path is printed, so it
# can be committed as a regression case.
set -euo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
FUZZTIME="${FUZZTIME:-10s}"
GO="${GO:-go}"

cd "$ROOT"
command -v "$GO" >/dev/null 2>&1 || {
	echo "fuzz: go not found" >&2
	exit 1
}

# Tracked and new (not ignored) test files: skips .cache/ and anything gitignored.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	mapfile -t files < <(git ls-files -z --cached --others --exclude-standard -- '*_test.go' | tr '\0' '\n' |
		while IFS= read -r f; do [[ -f $f ]] && printf '%s\n' "$f"; done | sort)
else
	mapfile -t files < <(find . -path ./.cache -prune -o -name '*_test.go' -type f -print | sed 's|^\./||' | sort)
fi

# "package-dir target" pairs.
targets=()
for f in "${files[@]}"; do
	if grep -Eq '^(//go:build |// \+build )' "$f"; then
		continue
	fi
	while IFS= read -r name; do
		targets+=("$(dirname -- "$f") $name")
	done < <(sed -nE 's/^func (Fuzz[A-Za-z0-9_]*)\([[:space:]]*[A-Za-z_][A-Za-z0-9_]*[[:space:]]+\*testing\.F[[:space:]]*\).*/\1/p' "$f")
done
if ((${#targets[@]} == 0)); then
	echo "fuzz: no fuzz target found under $ROOT" >&2
	exit 1
fi

# Lists the corpus files of one target, to tell the inputs a failing run wrote.
corpus() { find "$1/testdata/fuzz/$2" -type f 2>/dev/null | sort || true; }

out="$(mktemp)"
trap 'rm -f "$out"' EXIT

# fuzzrun runs one target; it retries once a run that failed only because the fuzz time's
# deadline raced a worker (go.dev/issue/75804, in Go's fuzz coordinator up to Go 1.26: the
# target fails with a bare "context deadline exceeded" and writes no input). Any other failure,
# or the same twice, stands.
fuzzrun() {
	local dir=$1 name=$2 before=$3 attempt
	for attempt in 1 2; do
		if "$GO" test -run='^$' -fuzz="^${name}\$" -fuzztime="$FUZZTIME" "./$dir" >"$out" 2>&1; then
			return 0
		fi
		if [[ $attempt == 1 && -z "$(comm -13 <(printf '%s\n' "$before") <(corpus "$dir" "$name") | sed '/^$/d')" ]] &&
			grep -q '^    context deadline exceeded$' "$out" && ! grep -Eq 'panic|Failing input' "$out"; then
			echo "fuzz: retry $name ./$dir: the fuzz time's deadline raced a worker (go.dev/issue/75804), no failing input" >&2
			continue
		fi
		return 1
	done
	return 1
}

echo "fuzz: ${#targets[@]} targets, $FUZZTIME each"
failed=()
for t in "${targets[@]}"; do
	dir=${t% *} name=${t#* }
	before="$(corpus "$dir" "$name")"
	start=$SECONDS
	if fuzzrun "$dir" "$name" "$before"; then
		echo "fuzz: ok    $name ./$dir ($((SECONDS - start))s)"
		continue
	fi
	echo "fuzz: FAIL  $name ./$dir ($((SECONDS - start))s)" >&2
	sed 's/^/  | /' "$out" >&2
	new="$(comm -13 <(printf '%s\n' "$before") <(corpus "$dir" "$name") | sed '/^$/d')"
	if [[ -n $new ]]; then
		while IFS= read -r c; do
			echo "fuzz: failing input: $c  (re-run: go test -run='^$name/${c##*/}\$' ./$dir)" >&2
		done <<<"$new"
	else
		# A seed or an existing corpus entry failed, or the package did not build.
		echo "fuzz: no new failing input was written; see the output above" >&2
	fi
	failed+=("$name ./$dir")
done

if ((${#failed[@]})); then
	echo "fuzz: FAILED: ${failed[*]}" >&2
	exit 1
fi
echo "fuzz: ok"
