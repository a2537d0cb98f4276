#!/bin/sh
# render-dashboards.sh SRC DST: copies the dashboards in SRC (dashboards/ of
# the repository) to DST with their import inputs filled in. The dashboards
# name each datasource they need as an input, ${DS_NAME}, which Grafana's
# import screen asks for; file provisioning does not, so the compose stack
# fills each one in with the uid of its provisioned datasource, logtide-name
# (DS_CLOUDTRAIL -> logtide-cloudtrail, see provisioning/datasources/).
set -eu

src=${1:?usage: render-dashboards.sh SRC DST}
dst=${2:?usage: render-dashboards.sh SRC DST}
mkdir -p "$dst"
# Dashboards removed from SRC leave DST too.
rm -f "$dst"/*.json

n=0
for f in "$src"/*.json; do
	[ -e "$f" ] || { echo "render-dashboards: no dashboard in $src" >&2; exit 1; }
	script=
	for input in $(grep -o '\${DS_[A-Z0-9_]*}' "$f" | sort -u); do
		name=${input#'${DS_'}
		name=${name%'}'}
		uid=logtide-$(printf '%s' "$name" | tr 'A-Z_' 'a-z-')
		script="${script}s/\\\${DS_${name}}/${uid}/g;"
	done
	out="$dst/$(basename "$f")"
	if [ -n "$script" ]; then
		sed "$script" "$f" >"$out.tmp"
	else
		cp "$f" "$out.tmp"
	fi
	mv "$out.tmp" "$out"
	n=$((n + 1))
done
echo "render-dashboards: $n dashboards from $src in $dst"
