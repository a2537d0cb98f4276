#!/usr/bin/env bash
# Prometheus for the dashboard tests and for looking at a local worker's metrics, without Docker.
#
# Usage: testenv/prometheus.sh install
#        testenv/prometheus.sh start CONFIG [DATA_DIR]   (prints the server's pid)
#        testenv/prometheus.sh stop [PID]
#
# install  Debian's `prometheus` package (prometheus + promtool) if either command is missing;
#          a no-op otherwise. The package's init script would start a system-wide Prometheus
#          on *:9090; a policy-rc.d forbids that for the length of the install, and should one
#          have started anyway, the install stops it, so nothing of the package keeps running.
# start    a server bound to ${PROMETHEUS_ADDR:-127.0.0.1:9090} with CONFIG, its TSDB in DATA_DIR
#          (default .cache/prometheus/data, wiped first: every start begins empty), log in
#          .cache/logs/prometheus.log, pid in .cache/run/prometheus.pid; returns once /-/ready
#          answers. The server is detached and keeps running after this script.
# stop     the server of PID (default: the pid file), only if it is a Prometheus started by
#          `start` (its command line names a data dir under .cache/prometheus).
set -euo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
CACHE="$ROOT/.cache"
DATA_BASE="$CACHE/prometheus"
RUN_DIR="$CACHE/run"
LOG_DIR="$CACHE/logs"
PIDFILE="$RUN_DIR/prometheus.pid"
ADDR="${PROMETHEUS_ADDR:-127.0.0.1:9090}"
TIMEOUT="${PROMETHEUS_TIMEOUT:-30}"

say() { printf 'prometheus: %s\n' "$*"; }
die() {
	printf 'prometheus: ERROR: %s\n' "$*" >&2
	exit 1
}

# as_root cmd...: run as root (directly, or with passwordless sudo).
as_root() {
	if [[ $(id -u) == 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		sudo -n "$@"
	else
		die "installing the prometheus package needs root (or passwordless sudo): apt-get install prometheus"
	fi
}

cmd_install() {
	if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
		return 0
	fi
	command -v apt-get >/dev/null 2>&1 || die "prometheus/promtool missing and no apt-get: install Prometheus 2.x by hand"
	mkdir -p "$LOG_DIR"
	local log="$LOG_DIR/prometheus-install.log" policy=/usr/sbin/policy-rc.d added_policy=0
	# invoke-rc.d asks policy-rc.d before starting a service; 101 means "not allowed".
	if [[ ! -e $policy ]]; then
		as_root sh -c "printf '#!/bin/sh\nexit 101\n' >$policy && chmod 755 $policy"
		added_policy=1
	fi
	say "installing Debian's prometheus package (log: ${log#"$ROOT"/})"
	local rc=0
	{
		as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
			as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus
	} >"$log" 2>&1 || rc=$?
	if ((added_policy)); then
		as_root rm -f "$policy"
	fi
	if ((rc != 0)); then
		tail -n 30 "$log" >&2 || true
		die "apt-get install prometheus failed (see $log)"
	fi
	# Belt and braces: a service the package managed to start anyway is stopped by the pid its
	# init script recorded.
	local p
	for f in /run/prometheus/prometheus.pid /var/run/prometheus/prometheus.pid; do
		[[ -f $f ]] || continue
		p=$(tr -dc '0-9' <"$f")
		if [[ -n $p && $(readlink "/proc/$p/exe" 2>/dev/null) == */prometheus ]]; then
			say "stopping the system Prometheus (pid $p) the package started"
			as_root kill -TERM "$p" || true
		fi
	done
	if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
		die "the prometheus package installed, but prometheus/promtool are not on PATH"
	fi
	say "installed $(prometheus --version 2>&1 | head -n1)"
}

cmdline() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true; }

# ours pid: a Prometheus whose TSDB lives under .cache/prometheus.
ours() {
	local c
	c=$(cmdline "$1")
	[[ $c == *prometheus* && $c == *"--storage.tsdb.path=$DATA_BASE"* ]]
}

cmd_start() {
	local config=${1:-} data=${2:-$DATA_BASE/data}
	[[ -n $config && -f $config ]] || die "usage: $0 start CONFIG [DATA_DIR]  (config file not found: ${config:-none})"
	config=$(cd -- "$(dirname -- "$config")" && pwd -P)/$(basename -- "$config")
	data=$(realpath -m -- "$data")
	[[ $data == "$DATA_BASE"/* ]] || die "DATA_DIR must lie under ${DATA_BASE#"$ROOT"/} (it is wiped at start)"
	mkdir -p "$data"
	cmd_install
	promtool check config "$config" >/dev/null || die "promtool check config $config failed"
	if [[ -f $PIDFILE ]] && ours "$(cat "$PIDFILE")"; then
		die "a Prometheus started here is already running (pid $(cat "$PIDFILE")); $0 stop first"
	fi
	rm -rf "${data:?}"/*
	mkdir -p "$RUN_DIR" "$LOG_DIR"
	local log="$LOG_DIR/prometheus.log"
	(
		cd "$ROOT"
		exec setsid nohup prometheus --config.file="$config" --storage.tsdb.path="$data" \
			--web.listen-address="$ADDR" --web.enable-lifecycle >"$log" 2>&1 </dev/null
	) &
	local pid=$!
	echo "$pid" >"$PIDFILE"
	local i
	for ((i = 0; i < TIMEOUT * 10; i++)); do
		[[ -d /proc/$pid ]] || {
			tail -n 20 "$log" >&2 || true
			die "Prometheus exited during startup (see $log)"
		}
		if curl -fsS -o /dev/null --max-time 2 "http://$ADDR/-/ready" 2>/dev/null; then
			say "started (pid $pid) at http://$ADDR, data in ${data#"$ROOT"/}" >&2
			echo "$pid"
			return 0
		fi
		sleep 0.1
	done
	kill -TERM "$pid" 2>/dev/null || true
	die "Prometheus did not become ready within ${TIMEOUT}s (see $log); stopped it"
}

cmd_stop() {
	local pid=${1:-}
	if [[ -z $pid ]]; then
		[[ -f $PIDFILE ]] || {
			say "not running (no pid file)"
			return 0
		}
		pid=$(tr -dc '0-9' <"$PIDFILE")
	fi
	[[ $pid =~ ^[0-9]+$ ]] || die "not a pid: $pid"
	if ! ours "$pid"; then
		say "pid $pid is not a Prometheus started by $0; leaving it"
		[[ -f $PIDFILE && $(cat "$PIDFILE") == "$pid" ]] && rm -f "$PIDFILE"
		return 0
	fi
	kill -TERM "$pid"
	local i
	for ((i = 0; i < 100; i++)); do
		[[ -d /proc/$pid ]] || break
		sleep 0.1
	done
	if [[ -d /proc/$pid ]]; then
		kill -KILL "$pid" 2>/dev/null || true
	fi
	[[ -f $PIDFILE && $(cat "$PIDFILE") == "$pid" ]] && rm -f "$PIDFILE"
	say "stopped (pid $pid)"
}

case "${1:-}" in
install) cmd_install ;;
start) cmd_start "${2:-}" "${3:-}" ;;
stop) cmd_stop "${2:-}" ;;
*)
	echo "usage: $0 install | start CONFIG [DATA_DIR] | stop [PID]" >&2
	exit 2
	;;
esac
