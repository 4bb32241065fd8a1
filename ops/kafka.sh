#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft, combined broker+controller) for
# development and tests. Jars are the official Apache artifacts from Maven
# Central (see ops/kafka/pom.xml); state lives in <repo>/.kafka/.
#
# Besides PLAINTEXT it listens with SASL_PLAINTEXT, SSL (client certificates
# required) and SASL_SSL; see ops/kafka/security.sh and `ops/kafka.sh security-env`.
#
# Timings on a 2-core machine: the first start fetches 47 jars (43 MB), about
# 15 s with an empty ~/.m2, and takes about 25 s in all; later starts take 6-8 s.
# Making the TLS certificates (first start only) takes about 0.3 s; adding the
# SCRAM users to storage formatted without them, about 3 s, once.
set -euo pipefail

usage() {
  cat >&2 <<EOF
usage: ops/kafka.sh COMMAND [ARGS...]

Runs a single-node Apache Kafka ${KAFKA_VERSION} broker on 127.0.0.1 for development and tests.

commands:
  start        fetch jars if needed, format storage if needed, start and wait until it answers
  stop         stop the broker (SIGTERM, then SIGKILL after ${KAFKA_STOP_TIMEOUT}s)
  restart      stop, then start
  status       print running/stopped; exit 0 if running, 3 if not
  reset        stop and delete all broker data (${KAFKA_HOME_DIR})
  topics ARGS  run the kafka-topics tool against this broker, e.g.
                 ops/kafka.sh topics --list
                 ops/kafka.sh topics --create --topic nvm.flows --partitions 6
  run-class CLASS ARGS
               run any class from the Kafka classpath, e.g.
                 ops/kafka.sh run-class org.apache.kafka.tools.consumer.ConsoleConsumer \\
                   --bootstrap-server "\$(ops/kafka.sh bootstrap)" --topic t --from-beginning
  bootstrap    print the bootstrap address (127.0.0.1:PORT)
  security-env print the running broker's listener addresses, CA and client
               certificate paths and SASL test credentials as KEY=VALUE lines
  logs         follow the broker log

environment:
  KAFKA_PORT             broker port (default 9092)
  KAFKA_CONTROLLER_PORT  controller port (default 9093)
  KAFKA_SASL_PORT        SASL_PLAINTEXT listener port (default KAFKA_PORT+2)
  KAFKA_SSL_PORT         SSL listener port, client certificates required (default KAFKA_PORT+3)
  KAFKA_SASL_SSL_PORT    SASL_SSL listener port (default KAFKA_PORT+4)
  KAFKA_VERSION          Apache Kafka version from Maven Central (default 4.1.1)
  KAFKA_HEAP_OPTS        broker JVM heap (default "-Xms256m -Xmx768m")
  KAFKA_START_TIMEOUT    seconds to wait for the broker to answer (default 90)
  KAFKA_STOP_TIMEOUT     seconds to wait for a graceful stop (default 30)
EOF
}

# Resolve everything from the script location so any cwd works.
SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd -- "$SCRIPT_DIR/.." && pwd -P)"

KAFKA_VERSION="${KAFKA_VERSION:-4.1.1}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx768m}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"

HOST=127.0.0.1
BOOTSTRAP="$HOST:$KAFKA_PORT"
POM="$SCRIPT_DIR/kafka/pom.xml"
LIBS_DIR="$SCRIPT_DIR/.cache/kafka-$KAFKA_VERSION/libs"
KAFKA_HOME_DIR="$REPO_ROOT/.kafka"
CONF_DIR="$KAFKA_HOME_DIR/config"
DATA_DIR="$KAFKA_HOME_DIR/data"
LOG_DIR="$KAFKA_HOME_DIR/logs"
PID_FILE="$KAFKA_HOME_DIR/kafka.pid"
PORT_FILE="$KAFKA_HOME_DIR/kafka.port"
SERVER_PROPS="$CONF_DIR/server.properties"

log() { printf 'kafka.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Fail early on bad numbers rather than deep inside Kafka's config parsing.
check_numbers() {
  local v
  for v in "$@"; do
    [[ "${!v}" =~ ^[0-9]+$ ]] || { usage; die "$v must be a number, got '${!v}'"; }
  done
}
check_numbers KAFKA_PORT KAFKA_CONTROLLER_PORT KAFKA_START_TIMEOUT KAFKA_STOP_TIMEOUT
# The security listeners follow KAFKA_PORT so that one variable moves a whole broker.
KAFKA_SASL_PORT="${KAFKA_SASL_PORT:-$((KAFKA_PORT + 2))}"
KAFKA_SSL_PORT="${KAFKA_SSL_PORT:-$((KAFKA_PORT + 3))}"
KAFKA_SASL_SSL_PORT="${KAFKA_SASL_SSL_PORT:-$((KAFKA_PORT + 4))}"
check_numbers KAFKA_SASL_PORT KAFKA_SSL_PORT KAFKA_SASL_SSL_PORT
ALL_PORTS=("$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" "$KAFKA_SASL_PORT" "$KAFKA_SSL_PORT" "$KAFKA_SASL_SSL_PORT")
[[ "$(printf '%s\n' "${ALL_PORTS[@]}" | sort -u | wc -l)" -eq ${#ALL_PORTS[@]} ]] \
  || die "the broker ports must all differ: ${ALL_PORTS[*]} (KAFKA_PORT, KAFKA_CONTROLLER_PORT, KAFKA_SASL_PORT, KAFKA_SSL_PORT, KAFKA_SASL_SSL_PORT)"

# shellcheck source=ops/kafka/security.sh
source "$SCRIPT_DIR/kafka/security.sh"

require_java() {
  command -v java >/dev/null 2>&1 || die "java not found on PATH (Kafka ${KAFKA_VERSION} needs Java 17+)"
  local major
  major="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p')"
  major="${major#1.}"
  [[ "$major" =~ ^[0-9]+$ && "$major" -ge 17 ]] \
    || die "Kafka ${KAFKA_VERSION} needs Java 17+, found '${major:-unknown}' ($(command -v java))"
}

# Jars are copied once per version into ops/.cache; Maven's ~/.m2 caches the downloads too.
fetch_jars() {
  if [[ -f "$LIBS_DIR/.complete" ]]; then
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found on PATH; it is needed once to fetch the Kafka jars"
  log "fetching Apache Kafka ${KAFKA_VERSION} jars from Maven Central into ${LIBS_DIR#"$REPO_ROOT"/}"
  local started=$SECONDS tmp="$LIBS_DIR.tmp.$$" mvn_log="$LIBS_DIR.mvn.log"
  rm -rf "$tmp"
  mkdir -p "$(dirname "$LIBS_DIR")"
  # Output goes to a log (Maven 3.8 prints stray colour codes even with -q -B).
  if ! mvn -q -B -f "$POM" -Dkafka.version="$KAFKA_VERSION" \
      dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" \
      >"$mvn_log" 2>&1; then
    sed 's/\x1b\[[0-9;]*m//g' "$mvn_log" | tail -n 40 >&2
    rm -rf "$tmp"
    die "mvn could not fetch the Kafka ${KAFKA_VERSION} jars (full log: ${mvn_log#"$REPO_ROOT"/})"
  fi
  # Publish atomically so an interrupted fetch is retried, not half-used.
  rm -rf "$LIBS_DIR"
  mv "$tmp" "$LIBS_DIR"
  touch "$LIBS_DIR/.complete"
  log "fetched $(find "$LIBS_DIR" -name '*.jar' | wc -l) jars in $((SECONDS - started))s"
}

# Tool JVMs are short-lived: small heap, quick JIT, warnings only on stderr.
run_tool() {
  local class="$1"; shift
  write_tools_config
  java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$CONF_DIR/tools-log4j2.properties" \
    -cp "$LIBS_DIR/*" "$class" "$@"
}

write_tools_config() {
  mkdir -p "$CONF_DIR" "$LOG_DIR"
  [[ -f "$CONF_DIR/probe.properties" ]] \
    || printf 'request.timeout.ms=5000\ndefault.api.timeout.ms=8000\n' >"$CONF_DIR/probe.properties"
  [[ -f "$CONF_DIR/tools-log4j2.properties" ]] && return 0
  cat >"$CONF_DIR/tools-log4j2.properties" <<'EOF'
# Command line tools: warnings and errors only, on stderr.
status = error
appender.stderr.type = Console
appender.stderr.name = STDERR
appender.stderr.target = SYSTEM_ERR
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stderr.ref = STDERR
EOF
}

write_config() {
  mkdir -p "$CONF_DIR" "$DATA_DIR" "$LOG_DIR"
  # Regenerated on every start so port changes apply; it holds test secrets, so owner-only.
  (umask 077 && : >"$SERVER_PROPS")
  cat >"$SERVER_PROPS" <<EOF
# Generated by ops/kafka.sh on each start; edit the script, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=$HOST:$KAFKA_CONTROLLER_PORT
listeners=$(listener_list)
advertised.listeners=$(listener_list)
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL
log.dirs=$DATA_DIR

# One node: every internal topic has a single replica.
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1

# Tests create their topics explicitly and want consumer groups to join at once.
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0

# Keep a developer box lean.
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.retention.hours=24
log.segment.bytes=134217728
log.retention.check.interval.ms=300000
EOF
  security_server_properties >>"$SERVER_PROPS"

  cat >"$CONF_DIR/log4j2.properties" <<EOF
# Broker logs go to files under .kafka/logs; nothing on the console.
status = error
appender.server.type = RollingFile
appender.server.name = SERVER
appender.server.fileName = $LOG_DIR/server.log
appender.server.filePattern = $LOG_DIR/server.log.%i
appender.server.layout.type = PatternLayout
appender.server.layout.pattern = [%d] %p %m (%c)%n
appender.server.policies.type = Policies
appender.server.policies.size.type = SizeBasedTriggeringPolicy
appender.server.policies.size.size = 50MB
appender.server.strategy.type = DefaultRolloverStrategy
appender.server.strategy.max = 3
rootLogger.level = INFO
rootLogger.appenderRef.server.ref = SERVER
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
EOF
  write_tools_config
}

listener_list() {
  printf '%s' "PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT"
  printf '%s' ",SASL_PLAINTEXT://$HOST:$KAFKA_SASL_PORT,SSL://$HOST:$KAFKA_SSL_PORT"
  printf '%s' ",SASL_SSL://$HOST:$KAFKA_SASL_SSL_PORT"
}

# The controller port is recorded in the metadata log at format time, so a
# different port needs fresh storage.
format_storage() {
  local formatted_port_file="$KAFKA_HOME_DIR/controller.port"
  if [[ -f "$DATA_DIR/meta.properties" ]]; then
    local formatted_port
    formatted_port="$(cat "$formatted_port_file" 2>/dev/null || echo "$KAFKA_CONTROLLER_PORT")"
    [[ "$formatted_port" == "$KAFKA_CONTROLLER_PORT" ]] \
      || die "storage in .kafka/ was formatted for controller port $formatted_port, not $KAFKA_CONTROLLER_PORT; run 'ops/kafka.sh reset' or set KAFKA_CONTROLLER_PORT=$formatted_port"
    return 0
  fi
  local cluster_id scram_args
  cluster_id="$(run_tool kafka.tools.StorageTool random-uuid)"
  mapfile -t scram_args < <(scram_format_args)
  log "formatting KRaft storage (cluster id $cluster_id, standalone controller, SCRAM users)"
  run_tool kafka.tools.StorageTool format --standalone --cluster-id "$cluster_id" \
    --config "$SERVER_PROPS" "${scram_args[@]}" >"$LOG_DIR/format.log" 2>&1 \
    || { cat "$LOG_DIR/format.log" >&2; die "formatting storage failed"; }
  echo "$KAFKA_CONTROLLER_PORT" >"$formatted_port_file"
  scram_applied_at_format
}

# Prints the pid if our broker process is alive; guards against a recycled pid.
running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "kafka.Kafka $SERVER_PROPS" || return 1
  echo "$pid"
}

port_open() {
  (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

# A real Kafka request (list topics through the admin client), bounded in time.
probe_broker() {
  write_tools_config
  timeout 30 java -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$CONF_DIR/tools-log4j2.properties" \
    -cp "$LIBS_DIR/*" org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "$BOOTSTRAP" --command-config "$CONF_DIR/probe.properties" --list \
    >/dev/null 2>"$LOG_DIR/probe.err"
}

# Byte offset where this start's part of server.log begins, so a failure shows only its own lines.
LOG_OFFSET=0

tail_server_log() {
  log "last lines of .kafka/logs/server.log from this start:"
  tail -c +$((LOG_OFFSET + 1)) "$LOG_DIR/server.log" 2>/dev/null | tail -n 40 >&2 || true
  if [[ -s "$LOG_DIR/kafka.out" ]]; then
    log "last lines of .kafka/logs/kafka.out:"
    tail -n 20 "$LOG_DIR/kafka.out" >&2 || true
  fi
}

wait_until_ready() {
  local pid="$1" deadline=$((SECONDS + KAFKA_START_TIMEOUT))
  # Cheap TCP check first; the JVM-based probe only once the port is open.
  while ((SECONDS < deadline)); do
    kill -0 "$pid" 2>/dev/null || { tail_server_log; die "broker process $pid exited during startup"; }
    if port_open "$KAFKA_PORT" && probe_broker; then
      return 0
    fi
    sleep 1
  done
  tail_server_log
  [[ -s "$LOG_DIR/probe.err" ]] && { log "last probe error:"; tail -n 5 "$LOG_DIR/probe.err" >&2; }
  die "broker did not answer on $BOOTSTRAP within ${KAFKA_START_TIMEOUT}s (pid $pid still running; 'ops/kafka.sh stop' to end it)"
}

cmd_start() {
  local pid started=$SECONDS
  if pid="$(running_pid)"; then
    local port
    port="$(cat "$PORT_FILE" 2>/dev/null || echo "$KAFKA_PORT")"
    [[ "$port" == "$KAFKA_PORT" ]] \
      || die "this checkout's broker is already running on $HOST:$port (pid $pid); 'ops/kafka.sh stop' it first to use port $KAFKA_PORT"
    if port_open "$KAFKA_PORT" && probe_broker; then
      log "already running (pid $pid) on $BOOTSTRAP"
    else
      log "broker pid $pid is up but not answering yet; waiting"
      wait_until_ready "$pid"
      log "ready on $BOOTSTRAP (pid $pid)"
    fi
    # A start that failed while adding the SCRAM users left the broker up without them.
    if [[ -f "$SECURITY_ENV" ]]; then
      ensure_scram_users
    else
      log "warning: the running broker has no security listeners (started by an older ops/kafka.sh); 'ops/kafka.sh restart' adds them"
    fi
    return 0
  fi
  rm -f "$PID_FILE"
  for p in "${ALL_PORTS[@]}"; do
    port_open "$p" && die "port $p on $HOST is already in use by another process; stop it or set KAFKA_PORT/KAFKA_CONTROLLER_PORT (and KAFKA_SASL_PORT/KAFKA_SSL_PORT/KAFKA_SASL_SSL_PORT)"
  done

  require_java
  fetch_jars
  ensure_security_material
  write_config
  format_storage
  write_security_env

  LOG_OFFSET="$(stat -c %s "$LOG_DIR/server.log" 2>/dev/null || echo 0)"
  log "starting Kafka ${KAFKA_VERSION} on $BOOTSTRAP (controller $HOST:$KAFKA_CONTROLLER_PORT, data .kafka/)"
  # setsid: the broker must outlive the caller's terminal/process group (e.g. a test run).
  # No inherited stdout/stderr (callers capturing our output would hang) and not the lock fd.
  # shellcheck disable=SC2086 # heap options are deliberately word-split
  setsid java $KAFKA_HEAP_OPTS -server \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
    -Dkafka.logs.dir="$LOG_DIR" \
    -Dlog4j2.configurationFile="$CONF_DIR/log4j2.properties" \
    -cp "$LIBS_DIR/*" kafka.Kafka "$SERVER_PROPS" \
    </dev/null >"$LOG_DIR/kafka.out" 2>&1 9>&- &
  pid=$!
  echo "$pid" >"$PID_FILE"
  echo "$KAFKA_PORT" >"$PORT_FILE"
  wait_until_ready "$pid"
  ensure_scram_users
  log "ready on $BOOTSTRAP (pid $pid) after $((SECONDS - started))s; also SASL_PLAINTEXT $HOST:$KAFKA_SASL_PORT, SSL $HOST:$KAFKA_SSL_PORT, SASL_SSL $HOST:$KAFKA_SASL_SSL_PORT"
}

cmd_stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE" "$PORT_FILE"
    log "not running"
    return 0
  fi
  log "stopping broker (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + KAFKA_STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "still running after ${KAFKA_STOP_TIMEOUT}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  fi
  rm -f "$PID_FILE" "$PORT_FILE"
  log "stopped"
}

cmd_status() {
  local pid
  if pid="$(running_pid)"; then
    echo "running (pid $pid) on $HOST:$(cat "$PORT_FILE" 2>/dev/null || echo "$KAFKA_PORT")"
    return 0
  fi
  echo "stopped"
  return 3
}

cmd_reset() {
  cmd_stop
  log "deleting ${KAFKA_HOME_DIR#"$REPO_ROOT"/}/"
  rm -rf "$KAFKA_HOME_DIR"
}

cmd_topics() {
  [[ -f "$LIBS_DIR/.complete" ]] || die "Kafka jars not fetched yet; run 'ops/kafka.sh start' first"
  # Otherwise the admin client would retry for a minute before failing.
  port_open "$KAFKA_PORT" || die "nothing listens on $BOOTSTRAP; run 'ops/kafka.sh start' first"
  run_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" "$@"
}

cmd_run_class() {
  (($# >= 1)) || { usage; die "run-class needs a class name"; }
  require_java
  fetch_jars
  run_tool "$@"
}

# Serialises start/stop when several callers (e.g. test processes) race.
take_lock() {
  mkdir -p "$SCRIPT_DIR/.cache"
  exec 9>"$SCRIPT_DIR/.cache/kafka.lock"
  flock -w 300 9 || die "timed out waiting for another ops/kafka.sh to finish"
}

main() {
  (($# >= 1)) || { usage; exit 2; }
  local cmd="$1"; shift
  case "$cmd" in
    start|stop|restart|reset) take_lock ;;
  esac
  case "$cmd" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    restart) cmd_stop; cmd_start ;;
    status) cmd_status ;;
    reset) cmd_reset ;;
    topics) cmd_topics "$@" ;;
    run-class) cmd_run_class "$@" ;;
    bootstrap) echo "$BOOTSTRAP" ;;
    security-env) cmd_security_env ;;
    logs) tail -n 50 -F "$LOG_DIR/server.log" ;;
    -h|--help|help) usage ;;
    *) usage; die "unknown command '$cmd'" ;;
  esac
}

main "$@"
