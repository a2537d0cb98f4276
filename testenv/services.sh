#!/usr/bin/env bash
# Real local services for the tests and the demo, without Docker:
#   moto      (S3 + SQS)            http://127.0.0.1:${MOTO_PORT:-5000}
#   a search engine (embedded node) http://127.0.0.1:${OPENSEARCH_PORT:-9200}, chosen by SEARCH:
#     opensearch-2     OpenSearch 2.19 on Java 11..23 (the default)
#     opensearch-3     OpenSearch 3.8 on Java 21+ (found in /usr/lib/jvm or $JAVA21_HOME)
#     elasticsearch-7  Elasticsearch 7.10.2, its Apache-licensed jars (no X-Pack), on Java 11..17
#   `up` with another SEARCH than the running engine stops that one first; the service is
#   called "opensearch" in stop/start/status whatever the engine.
#
# Usage: testenv/services.sh up|down|status
#        testenv/services.sh stop|start moto|opensearch
#   up/down act on both services; stop/start on one. `start opensearch` keeps the node's
#   data, so a test can stop the cluster mid-run and find its documents after the restart.
#
# Everything is installed on demand and cached under <repo>/.cache/ (gitignored):
#   .cache/moto/           python venv with moto[server] (pins: testenv/moto/constraints.txt)
#   .cache/opensearch/lib  OpenSearch 2 jars (from testenv/opensearch/pom.xml via Maven)
#   .cache/opensearch/m2   the Maven repository used to fetch them
#   .cache/opensearch/node node home/config/data, wiped at every `up` (kept by `start`)
#   .cache/opensearch-3/, .cache/elasticsearch-7/  the same for the other engines
#   .cache/logs/*.log      service and install logs
#   .cache/run/*.pid       pid files of the running services
# Services bind to 127.0.0.1 only and keep running after this script (and `make`) exits.
# See docs/testenv.md.
set -euo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
CACHE="$ROOT/.cache"
RUN_DIR="$CACHE/run"
LOG_DIR="$CACHE/logs"
HOST=127.0.0.1

MOTO_PORT="${MOTO_PORT:-5000}"
MOTO_VERSION=5.2.5
MOTO_VENV="$CACHE/moto"
MOTO_BIN="$MOTO_VENV/bin/moto_server"
MOTO_CONSTRAINTS="$ROOT/testenv/moto/constraints.txt"
MOTO_TIMEOUT="${MOTO_TIMEOUT:-60}"

OPENSEARCH_PORT="${OPENSEARCH_PORT:-9200}"
SEARCH="${SEARCH:-opensearch-2}"
# The engines: cache folder, pom, runner main class, config file name, a jar
# that must be fetched, and the Java versions they run on.
engine_vars() { # engine
	case $1 in
	opensearch-2)
		E_DIR="$CACHE/opensearch" E_POM="$ROOT/testenv/opensearch/pom.xml" E_MAIN=org.codelibs.opensearch.runner.OpenSearchRunner
		E_CONFIG=opensearch.yml E_JAR='opensearch-2.*.jar' E_JAVA_MIN=11 E_JAVA_MAX=23
		;;
	opensearch-3)
		E_DIR="$CACHE/opensearch-3" E_POM="$ROOT/testenv/opensearch-3/pom.xml" E_MAIN=org.codelibs.opensearch.runner.OpenSearchRunner
		E_CONFIG=opensearch.yml E_JAR='opensearch-3.*.jar' E_JAVA_MIN=21 E_JAVA_MAX=99
		;;
	elasticsearch-7)
		E_DIR="$CACHE/elasticsearch-7" E_POM="$ROOT/testenv/elasticsearch-7/pom.xml" E_MAIN=org.codelibs.elasticsearch.runner.ElasticsearchClusterRunner
		E_CONFIG=elasticsearch.yml E_JAR='elasticsearch-7.*.jar' E_JAVA_MIN=11 E_JAVA_MAX=17
		;;
	*) return 1 ;;
	esac
}
ENGINES=(opensearch-2 opensearch-3 elasticsearch-7)
engine_vars "$SEARCH" || {
	echo "testenv: ERROR: SEARCH=$SEARCH: want one of ${ENGINES[*]}" >&2
	exit 2
}
OS_DIR="$E_DIR"
OS_LIB="$OS_DIR/lib"
OS_M2="$OS_DIR/m2"
OS_BASE="$OS_DIR/node"
OS_POM="$E_POM"
OS_MAIN="$E_MAIN"
OS_CLUSTER=logtide-test
OS_TIMEOUT="${OPENSEARCH_TIMEOUT:-180}"
# Default JVM heap would be a quarter of the machine's memory.
read -r -a OS_JAVA_OPTS <<<"${OPENSEARCH_JAVA_OPTS:--Xms512m -Xmx1g}"

MOTO_URL="http://$HOST:$MOTO_PORT"
OS_URL="http://$HOST:$OPENSEARCH_PORT"

say() { printf 'testenv: %s\n' "$*"; }
warn() { printf 'testenv: %s\n' "$*" >&2; }
die() {
	printf 'testenv: ERROR: %s\n' "$*" >&2
	exit 1
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
secs_since() { # ms-timestamp -> "12.3s"
	local d=$(($(now_ms) - $1))
	printf '%d.%ds' $((d / 1000)) $((d % 1000 / 100))
}

tail_log() { # file [lines]
	local f=$1 n=${2:-40}
	if [[ -s $f ]]; then
		warn "---- last $n lines of $f ----"
		tail -n "$n" "$f" >&2 || true
		warn "---- end of $f ----"
	else
		warn "(log $f is empty or missing)"
	fi
}

check_port_var() { # name value
	[[ $2 =~ ^[0-9]+$ ]] && (($2 > 0 && $2 < 65536)) || die "$1=$2 is not a valid TCP port"
}

# ---------------------------------------------------------------- processes

pidfile() { echo "$RUN_DIR/$1.pid"; }

read_pid() { # name -> pid from the pid file, or nothing
	local f
	f=$(pidfile "$1")
	[[ -f $f ]] || return 0
	local p
	p=$(tr -dc '0-9' <"$f" 2>/dev/null || true)
	[[ -n $p ]] && echo "$p"
	return 0
}

cmdline() { # pid -> its command line with spaces (empty if gone)
	tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true
}

# is_ours name pid: the pid is alive and runs our command (not a recycled pid).
is_ours() {
	local c
	c=$(cmdline "$2")
	[[ -n $c ]] || return 1
	case $1 in
	moto) [[ $c == *"$MOTO_BIN "* ]] ;;
	opensearch) [[ -n $(engine_of "$c") ]] ;;
	*) return 1 ;;
	esac
}

# engine_of cmdline: the engine a search node of ours runs, or nothing.
engine_of() {
	local e
	for e in "${ENGINES[@]}"; do
		engine_vars "$e"
		if [[ $1 == *"$E_MAIN "* && $1 == *"-basePath $E_DIR/node "* ]]; then
			echo "$e"
			break
		fi
	done
	engine_vars "$SEARCH"
}

# running name: prints the pid if the pid file names a live process of ours.
running() {
	local p
	p=$(read_pid "$1")
	[[ -n $p ]] && is_ours "$1" "$p" && echo "$p"
	return 0
}

port_open() { # port: something accepts connections on 127.0.0.1:port
	timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null
}

listener_desc() { # port -> human description of who listens there (best effort)
	if command -v ss >/dev/null 2>&1; then
		ss -Hltnp "sport = :$1" 2>/dev/null | sed 's/^/    /' || true
	fi
}

listener_pids() { # port -> pids listening on it (needs ss; empty if unknown)
	if command -v ss >/dev/null 2>&1; then
		ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u || true
	fi
}

# listens_ours port pid: true unless ss positively shows the port held by another process.
listens_ours() {
	local pids
	pids=$(listener_pids "$1")
	[[ -z $pids ]] && return 0
	grep -qx "$2" <<<"$pids"
}

# launch logfile cmd...: start cmd detached (own session, no inherited fds, immune to
# SIGHUP) so that it outlives this script and the calling make; sets LAUNCHED_PID.
launch() {
	local log=$1
	shift
	(
		# Close every inherited fd > 2 (our lock, any pipe of a CI runner), so that
		# nobody waits for the service to exit to see EOF.
		for fd in "/proc/$BASHPID/fd/"*; do
			fd=${fd##*/}
			if [[ $fd =~ ^[0-9]+$ ]] && ((fd > 2)); then
				eval "exec $fd>&-" 2>/dev/null || true
			fi
		done
		cd "$ROOT"
		exec setsid nohup "$@" >"$log" 2>&1 </dev/null
	) &
	LAUNCHED_PID=$!
}

stop() { # name
	local name=$1 f p
	f=$(pidfile "$name")
	p=$(read_pid "$name")
	if [[ -z $p ]]; then
		rm -f "$f"
		say "$name: not running"
		return 0
	fi
	if ! is_ours "$name" "$p"; then
		if [[ -d /proc/$p ]]; then
			warn "$name: pid $p from $f is no longer ours ($(cmdline "$p")); not killing it"
		else
			say "$name: not running (stale pid file)"
		fi
		rm -f "$f"
		return 0
	fi
	kill -TERM "$p" 2>/dev/null || true
	kill -CONT "$p" 2>/dev/null || true # in case it was stopped (SIGSTOP/^Z)
	local i
	for ((i = 0; i < 300; i++)); do # 30 s
		[[ -d /proc/$p ]] && is_ours "$name" "$p" || break
		sleep 0.1
	done
	if [[ -d /proc/$p ]] && is_ours "$name" "$p"; then
		warn "$name: pid $p did not exit within 30s of SIGTERM; sending SIGKILL"
		kill -KILL "$p" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do
			[[ -d /proc/$p ]] || break
			sleep 0.1
		done
	fi
	rm -f "$f"
	say "$name: stopped (pid $p)"
}

# wait_ready name pid timeout-seconds ready-fn log: poll until ready-fn succeeds.
wait_ready() {
	local name=$1 pid=$2 timeout=$3 fn=$4 log=$5 t0
	t0=$(now_ms)
	while :; do
		if [[ ! -d /proc/$pid ]]; then
			rm -f "$(pidfile "$name")"
			tail_log "$log"
			die "$name exited during startup (see $log)"
		fi
		if ! is_ours "$name" "$pid"; then
			# Between fork and exec the pid still runs this script; give it 10 s.
			if (($(now_ms) - t0 > 10000)); then
				tail_log "$log"
				die "$name: pid $pid does not run the expected command: $(cmdline "$pid")"
			fi
			sleep 0.1
			continue
		fi
		if [[ $name == opensearch ]]; then
			# The runner silently moves to the next free port when the wanted one is taken.
			local got
			got=$(grep -m1 -o 'HTTP Port: *[0-9]*' "$log" 2>/dev/null | grep -o '[0-9]*$' || true)
			if [[ -n $got && $got != "$OPENSEARCH_PORT" ]]; then
				stop "$name" >/dev/null
				tail_log "$log"
				die "OpenSearch chose HTTP port $got instead of $OPENSEARCH_PORT (was $OPENSEARCH_PORT taken?); stopped it"
			fi
		fi
		if "$fn"; then
			return 0
		fi
		if (($(now_ms) - t0 > timeout * 1000)); then
			stop "$name" >/dev/null
			tail_log "$log"
			die "$name did not answer within ${timeout}s (see $log); stopped it"
		fi
		sleep 0.5
	done
}

# ---------------------------------------------------------------- moto

moto_ready() {
	curl -fsS -o /dev/null --max-time 5 "$MOTO_URL/moto-api/" 2>/dev/null
}

install_moto() {
	local want stamp
	want="moto[server]==$MOTO_VERSION $(sha256sum "$MOTO_CONSTRAINTS" | cut -d' ' -f1)"
	stamp="$MOTO_VENV/.testenv-installed"
	if [[ -x $MOTO_VENV/bin/python && -x $MOTO_BIN && -f $stamp && "$(cat "$stamp")" == "$want" ]]; then
		return 0
	fi
	local py=${PYTHON:-python3} t0 log="$LOG_DIR/moto-install.log"
	command -v "$py" >/dev/null 2>&1 || die "moto needs python3 (>= 3.9) with venv; not found: $py"
	"$py" -c 'import sys, venv; sys.exit(sys.version_info < (3, 9))' 2>/dev/null ||
		die "moto needs python3 >= 3.9 with the venv module ($py is $("$py" --version 2>&1))"
	t0=$(now_ms)
	say "moto: installing moto[server]==$MOTO_VERSION into ${MOTO_VENV#"$ROOT"/} (log: ${log#"$ROOT"/})"
	rm -rf "$MOTO_VENV"
	if ! { "$py" -m venv "$MOTO_VENV" &&
		"$MOTO_VENV/bin/python" -m pip install --disable-pip-version-check -q \
			-c "$MOTO_CONSTRAINTS" "moto[server]==$MOTO_VERSION"; } >"$log" 2>&1; then
		tail_log "$log"
		rm -rf "$MOTO_VENV"
		die "installing moto failed (see $log)"
	fi
	[[ -x $MOTO_BIN ]] || die "moto installed but $MOTO_BIN is missing"
	echo "$want" >"$stamp"
	say "moto: installed in $(secs_since "$t0")"
}

up_moto() {
	local p log="$LOG_DIR/moto.log" t0
	p=$(running moto)
	if [[ -n $p ]]; then
		if moto_ready && listens_ours "$MOTO_PORT" "$p"; then
			say "moto: already running (pid $p) at $MOTO_URL, leaving it"
			return 0
		fi
		warn "moto: our pid $p is not answering at $MOTO_URL; restarting it"
		stop moto >/dev/null
	fi
	rm -f "$(pidfile moto)"
	if port_open "$MOTO_PORT"; then
		warn "port $HOST:$MOTO_PORT is taken by something that is not ours:"
		listener_desc "$MOTO_PORT" >&2
		die "cannot start moto on $HOST:$MOTO_PORT (stop that process or set MOTO_PORT)"
	fi
	install_moto
	t0=$(now_ms)
	launch "$log" "$MOTO_BIN" -H "$HOST" -p "$MOTO_PORT"
	echo "$LAUNCHED_PID" >"$(pidfile moto)"
	wait_ready moto "$LAUNCHED_PID" "$MOTO_TIMEOUT" moto_ready "$log"
	say "moto: started (pid $LAUNCHED_PID) at $MOTO_URL in $(secs_since "$t0")"
}

# ---------------------------------------------------------------- OpenSearch

opensearch_ready() {
	local body
	body=$(curl -fsS --max-time 5 "$OS_URL/" 2>/dev/null) || return 1
	[[ $body == *"\"cluster_name\" : \"$OS_CLUSTER\""* || $body == *"\"cluster_name\":\"$OS_CLUSTER\""* ]] || return 1
	curl -fsS -o /dev/null --max-time 10 "$OS_URL/_cluster/health?wait_for_status=yellow&timeout=5s" 2>/dev/null
}

# java_version path: the major version of a java binary.
java_version() {
	local v
	v=$("$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
	v=${v#1.}
	echo "${v%%.*}"
}

# find_java: sets JAVA to a java the engine runs on: the one on PATH, else
# $JAVA21_HOME, else the newest fitting JDK under /usr/lib/jvm.
find_java() {
	local c v best="" bestv=0
	for c in "$(command -v java 2>/dev/null || true)" "${JAVA21_HOME:+$JAVA21_HOME/bin/java}" /usr/lib/jvm/*/bin/java; do
		[[ -n $c && -x $c ]] || continue
		v=$(java_version "$c")
		[[ $v =~ ^[0-9]+$ ]] || continue
		if ((v >= E_JAVA_MIN && v <= E_JAVA_MAX)); then
			if [[ $c == "$(command -v java 2>/dev/null || true)" ]]; then
				JAVA=$c
				return 0
			fi
			if ((v > bestv)); then
				best=$c bestv=$v
			fi
		fi
	done
	[[ -n $best ]] || die "$SEARCH needs Java $E_JAVA_MIN..$E_JAVA_MAX: none on PATH, in \$JAVA21_HOME or under /usr/lib/jvm (apt-get install openjdk-17-jre-headless; Java 21+ for opensearch-3)"
	JAVA=$best
}

install_opensearch() {
	local want stamp="$OS_LIB/.testenv-installed"
	want=$(sha256sum "$OS_POM" | cut -d' ' -f1)
	if [[ -f $stamp && "$(cat "$stamp")" == "$want" ]]; then
		return 0
	fi
	command -v mvn >/dev/null 2>&1 || die "fetching OpenSearch needs Maven (mvn not found; apt-get install maven)"
	local t0 tmp="$OS_DIR/lib.tmp" log="$LOG_DIR/opensearch-install.log"
	t0=$(now_ms)
	say "opensearch: fetching the $SEARCH jars with Maven into ${OS_LIB#"$ROOT"/} (log: ${log#"$ROOT"/})"
	rm -rf "$tmp"
	mkdir -p "$OS_M2"
	if ! mvn -B -q -Dstyle.color=never -f "$OS_POM" -Dmaven.repo.local="$OS_M2" \
		dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" >"$log" 2>&1; then
		tail_log "$log"
		rm -rf "$tmp"
		die "Maven could not fetch the OpenSearch jars (see $log)"
	fi
	compgen -G "$tmp/*-runner-*.jar" >/dev/null && compgen -G "$tmp/$E_JAR" >/dev/null ||
		die "Maven finished but the $SEARCH jars are missing in $tmp"
	rm -rf "$OS_LIB"
	mv "$tmp" "$OS_LIB"
	echo "$want" >"$stamp"
	say "opensearch: jars fetched in $(secs_since "$t0")"
}

# seed_opensearch_config fresh|keep
seed_opensearch_config() {
	if [[ $1 == fresh ]]; then
		# `up` gives a fresh node home: no stale node locks or old indices.
		rm -rf "$OS_BASE"
	fi
	# `start` keeps data/: the node's locks are OS file locks, released when the
	# stopped JVM exited, so the restarted node recovers its indices from disk.
	mkdir -p "$OS_BASE/node_1/config"
	# The runner only writes its default config file when none exists.
	cat >"$OS_BASE/node_1/config/$E_CONFIG" <<-EOF
		# Written by testenv/services.sh at every start.
		cluster.name: $OS_CLUSTER
		discovery.type: single-node
		network.host: $HOST
		cluster.routing.allocation.disk.threshold_enabled: false
	EOF
}

up_opensearch() { # fresh|keep: wipe the node home first, or keep its data
	local mode=${1:-fresh} p log="$LOG_DIR/opensearch.log" t0
	p=$(running opensearch)
	if [[ -n $p ]]; then
		local other
		other=$(engine_of "$(cmdline "$p")")
		if [[ $other != "$SEARCH" ]]; then
			say "opensearch: $other is running (pid $p); stopping it for $SEARCH"
			stop opensearch >/dev/null
		elif opensearch_ready && listens_ours "$OPENSEARCH_PORT" "$p"; then
			say "opensearch: $SEARCH already running (pid $p) at $OS_URL, leaving it"
			return 0
		else
			warn "opensearch: our pid $p is not answering at $OS_URL; restarting it"
			stop opensearch >/dev/null
		fi
	fi
	rm -f "$(pidfile opensearch)"
	if port_open "$OPENSEARCH_PORT"; then
		warn "port $HOST:$OPENSEARCH_PORT is taken by something that is not ours:"
		listener_desc "$OPENSEARCH_PORT" >&2
		die "cannot start OpenSearch on $HOST:$OPENSEARCH_PORT (stop that process or set OPENSEARCH_PORT)"
	fi
	find_java
	install_opensearch
	seed_opensearch_config "$mode"
	t0=$(now_ms)
	# The runner gives node N the HTTP port baseHttpPort+N.
	launch "$log" "$JAVA" "${OS_JAVA_OPTS[@]}" -Djava.awt.headless=true -Dfile.encoding=UTF-8 \
		-cp "$OS_LIB/*" "$OS_MAIN" \
		-basePath "$OS_BASE" -numOfNode 1 -baseHttpPort $((OPENSEARCH_PORT - 1)) -clusterName "$OS_CLUSTER"
	echo "$LAUNCHED_PID" >"$(pidfile opensearch)"
	wait_ready opensearch "$LAUNCHED_PID" "$OS_TIMEOUT" opensearch_ready "$log"
	if [[ $mode == keep ]]; then
		say "opensearch: $SEARCH started (pid $LAUNCHED_PID, data kept) at $OS_URL in $(secs_since "$t0")"
	else
		say "opensearch: $SEARCH started (pid $LAUNCHED_PID, Java $(java_version "$JAVA")) at $OS_URL in $(secs_since "$t0")"
	fi
}

# ---------------------------------------------------------------- commands

lock() {
	mkdir -p "$RUN_DIR" "$LOG_DIR"
	exec 9>"$RUN_DIR/.lock"
	flock -w 600 9 || die "another testenv/services.sh holds $RUN_DIR/.lock"
}

cmd_up() {
	local t0
	t0=$(now_ms)
	lock
	up_moto
	up_opensearch
	say "ready in $(secs_since "$t0"):"
	say "  moto (S3, SQS): $MOTO_URL   reset: curl -X POST $MOTO_URL/moto-api/reset"
	say "  search:         $OS_URL ($SEARCH)"
	say "  env for tests:  . testenv/env.sh"
}

cmd_down() {
	lock
	stop moto
	stop opensearch
}

service_arg() { # command service: validates the service name
	case ${2:-} in
	moto | opensearch) ;;
	*)
		echo "usage: $0 $1 moto|opensearch" >&2
		exit 2
		;;
	esac
}

# cmd_stop service: stops just that service (same pid-file checks as down).
cmd_stop() {
	service_arg stop "${1:-}"
	lock
	stop "$1"
}

# cmd_start service: starts that service if it is not running. OpenSearch keeps
# its data directory (unlike up); moto keeps nothing anyway (in-memory state).
cmd_start() {
	service_arg start "${1:-}"
	lock
	case $1 in
	moto) up_moto ;;
	opensearch) up_opensearch keep ;;
	esac
}

cmd_status() {
	local rc=0 p
	p=$(running moto)
	if [[ -n $p ]] && moto_ready; then
		say "moto:       up    pid $p  $MOTO_URL"
	elif [[ -n $p ]]; then
		say "moto:       not answering  pid $p  $MOTO_URL"
		rc=1
	else
		say "moto:       down"
		rc=1
	fi
	p=$(running opensearch)
	if [[ -n $p ]] && opensearch_ready; then
		say "opensearch: up    pid $p  $OS_URL ($(engine_of "$(cmdline "$p")"))"
	elif [[ -n $p ]]; then
		say "opensearch: not answering  pid $p  $OS_URL"
		rc=1
	else
		say "opensearch: down"
		rc=1
	fi
	return $rc
}

check_port_var MOTO_PORT "$MOTO_PORT"
check_port_var OPENSEARCH_PORT "$OPENSEARCH_PORT"

case "${1:-}" in
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
stop) cmd_stop "${2:-}" ;;
start) cmd_start "${2:-}" ;;
*)
	echo "usage: $0 up|down|status|stop <service>|start <service>  (service: moto|opensearch)" >&2
	exit 2
	;;
esac
