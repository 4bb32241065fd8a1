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

# shellcheck source=ops/lib/broker.sh
source "$SCRIPT_DIR/lib/broker.sh"
use_broker

"$REPO_ROOT/target/release/nvm-bench" suite --repo "$REPO_ROOT" "$@"
