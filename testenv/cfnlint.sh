#!/usr/bin/env bash
# Lint the CloudFormation template of the deployment (deploy/cloudformation.yaml)
# with cfn-lint; any error or warning fails. cfn-lint and its dependencies are
# installed (pinned) into <repo>/.cache/cfnlint, a python venv, on first use and
# re-installed only when the pins below change.
# Usage: testenv/cfnlint.sh   (from any directory; testenv/lint.sh calls it)
set -euo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
CACHE="$ROOT/.cache"
VENV="$CACHE/cfnlint"
LOG="$CACHE/logs/cfnlint-install.log"
TEMPLATES=("$ROOT/deploy/cloudformation.yaml")

CFNLINT_VERSION=1.58.0
# cfn-lint's dependencies, frozen from a working install on CPython 3.11: the
# rules and the resource schemas ship inside cfn-lint itself, so these only
# keep the install reproducible. To refresh: install cfn-lint alone into a
# fresh venv and copy `pip freeze`.
PINS=(
	"cfn-lint==$CFNLINT_VERSION"
	jsonpatch==1.48
	jsonpointer==3.12
	mpmath==1.3.0
	networkx==3.6.1
	PyYAML==6.0.4
	regex==2026.11.19
	sympy==1.14.0
	typing_extensions==4.16.0
)

say() { printf 'cfnlint: %s\n' "$*"; }
die() {
	printf 'cfnlint: ERROR: %s\n' "$*" >&2
	exit 1
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

install() {
	local want stamp="$VENV/.testenv-installed" py=${PYTHON:-python3} t0
	want="${PINS[*]}"
	# The import check catches a venv whose python was removed by an upgrade.
	if [[ -x $VENV/bin/cfn-lint && -f $stamp && "$(cat "$stamp")" == "$want" ]] &&
		"$VENV/bin/python" -c 'import cfnlint' 2>/dev/null; then
		return 0
	fi
	command -v "$py" >/dev/null 2>&1 || die "cfn-lint needs python3 (>= 3.9) with venv; not found: $py"
	"$py" -c 'import sys, venv; sys.exit(sys.version_info < (3, 9))' 2>/dev/null ||
		die "cfn-lint needs python3 >= 3.9 with the venv module ($py is $("$py" --version 2>&1))"
	mkdir -p "$(dirname "$LOG")"
	t0=$(now_ms)
	say "installing cfn-lint==$CFNLINT_VERSION into ${VENV#"$ROOT"/} (log: ${LOG#"$ROOT"/})"
	rm -rf "$VENV"
	if ! { "$py" -m venv "$VENV" &&
		"$VENV/bin/python" -m pip install --disable-pip-version-check --no-input -q "${PINS[@]}"; } >"$LOG" 2>&1; then
		tail -n 40 "$LOG" >&2 || true
		rm -rf "$VENV"
		die "installing cfn-lint failed (see $LOG)"
	fi
	[[ -x $VENV/bin/cfn-lint ]] || die "cfn-lint installed but $VENV/bin/cfn-lint is missing"
	echo "$want" >"$stamp"
	say "installed in $((($(now_ms) - t0) / 1000))s"
}

# Concurrent runs (make -j, two terminals) must not build the venv at once.
mkdir -p "$CACHE"
exec 8>"$CACHE/.cfnlint.lock"
flock -w 300 8 || die "another testenv/cfnlint.sh holds $CACHE/.cfnlint.lock"
install
flock -u 8

say "$("$VENV/bin/cfn-lint" --version) ${TEMPLATES[*]#"$ROOT"/}"
# Exit status is a bit mask (2 errors, 4 warnings, 8 informational): warnings
# fail too, informational findings are printed but pass.
rc=0
"$VENV/bin/cfn-lint" --non-zero-exit-code warning -- "${TEMPLATES[@]}" || rc=$?
if ((rc != 0)); then
	say "FAILED (exit $rc)" >&2
	exit 1
fi
say ok
