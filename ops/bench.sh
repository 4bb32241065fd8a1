#!/usr/bin/env bash
# The benchmark suite: nvm-detector against the raw Kafka client and a Kafka
# Streams peer of the same rule, on one broker, data set and machine.
#
#   ops/bench.sh [--smoke] [--runs N] [--engine-records N] [--topic-records N]
#                [--restore-groups N]... [--results-dir DIR]
#
# Builds nvm-detector and nvm-bench (release) and the Kafka Streams peer
# (Maven), then runs `nvm-bench suite`, which prints a table of medians and
# ratios and writes DIR/<date>.json and DIR/latest.json (default
# benches/results). --smoke runs tiny sizes once (a few minutes) and writes
# to target/nvm-benches/results instead. Without Maven the peer is reported
# as not measured. The default sizes take about 20 minutes on 2 cores, most
# of it the detector's end-to-end and latency runs.
#
# With KAFKA_BOOTSTRAP set, that cluster is used as is. Otherwise the local
# broker from ops/kafka.sh is started, and stopped again afterwards unless it
# was already running before.
set -euo pipefail

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd -- "$SCRIPT_DIR/.." && pwd -P)"
KAFKA_SH="$SCRIPT_DIR/kafka.sh"
PEER_POM="$REPO_ROOT/benches/streams-peer/pom.xml"

case "${1:-}" in
  -h|--help)
    sed -n '2,18s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
    exit 0
    ;;
esac

log() { printf 'bench.sh: %s\n' "$*" >&2; }

command -v cargo >/dev/null 2>&1 || { log "error: cargo not found on PATH"; exit 1; }

cd "$REPO_ROOT"
log "building nvm-detector and nvm-bench (release)"
cargo build --release --locked -p nvm-detector -p nvm-benches

if command -v mvn >/dev/null 2>&1; then
  log "building the Kafka Streams peer (mvn package)"
  mvn -q -B -f "$PEER_POM" package
else
  log "warning: mvn not found; the Kafka Streams peer will not be measured"
fi

started_broker=0
# shellcheck disable=SC2317 # called from the EXIT trap
stop_broker() {
  if ((started_broker)); then
    log "stopping the broker this run started"
    "$KAFKA_SH" stop || log "warning: could not stop the broker"
  fi
}
trap stop_broker EXIT
# Turn Ctrl-C/TERM into a normal exit so the EXIT trap runs once.
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ -n "${KAFKA_BOOTSTRAP:-}" ]]; then
  log "using Kafka at KAFKA_BOOTSTRAP=$KAFKA_BOOTSTRAP"
else
  # Only a broker that was not already up is ours to stop.
  if ! "$KAFKA_SH" status >/dev/null 2>&1; then
    started_broker=1
  fi
  "$KAFKA_SH" start
  KAFKA_BOOTSTRAP="$("$KAFKA_SH" bootstrap)"
  export KAFKA_BOOTSTRAP
  log "using local Kafka at $KAFKA_BOOTSTRAP"
fi

"$REPO_ROOT/target/release/nvm-bench" suite --repo "$REPO_ROOT" "$@"
