#!/usr/bin/env bash
# The main job on the bundled data set, end to end:
#   local Kafka broker → topics → replay data/nvm-flows.log → nvm-detector
#   (bounded run: exits once the input is drained) → print the alerts.
#
#   ops/demo.sh [DATA_FILE]
#
# With KAFKA_BOOTSTRAP set, that cluster is used and left as it is;
# otherwise the local broker is started and, if this script started it,
# stopped at the end. Each run uses fresh topics (demo-<time>.*).
set -euo pipefail

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd -- "$SCRIPT_DIR/.." && pwd -P)"
KAFKA_SH="$SCRIPT_DIR/kafka.sh"
DATA="${1:-$REPO_ROOT/data/nvm-flows.log}"

log() { printf '\ndemo: %s\n' "$*" >&2; }

cd "$REPO_ROOT"
[[ -f "$DATA" ]] || { echo "demo: no data file at $DATA" >&2; exit 1; }

started_broker=0
cleanup() {
  if ((started_broker)); then
    log "stopping the broker this demo started"
    "$KAFKA_SH" stop || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ -z "${KAFKA_BOOTSTRAP:-}" ]]; then
  "$KAFKA_SH" status >/dev/null 2>&1 || started_broker=1
  "$KAFKA_SH" start
  KAFKA_BOOTSTRAP="$("$KAFKA_SH" bootstrap)"
fi
export KAFKA_BOOTSTRAP

log "building nvm-detector"
cargo build --locked --release -p nvm-detector
BIN="$REPO_ROOT/target/release/nvm-detector"

run="demo-$(date +%Y%m%d%H%M%S)"
topics=(--input-topic "$run.flows" --alerts-topic "$run.alerts"
        --dlq-topic "$run.flows.dlq" --late-topic "$run.flows.late")

log "creating topics $run.* on $KAFKA_BOOTSTRAP"
"$BIN" topics "${topics[@]}" --partitions 6

log "replaying $(wc -l <"$DATA") lines of $DATA"
"$BIN" replay --topic "$run.flows" "$DATA"

log "running the detector until the input is drained"
# Metrics on a free port (logged), so a detector already on the default one does not stop the demo.
"$BIN" run "${topics[@]}" --group-id "$run" --exit-when-idle-ms 2000 --metrics-listen 127.0.0.1:0

log "final alerts published to $run.alerts (one JSON document per line)"
"$BIN" alerts --topic "$run.alerts" --status final

count() { "$BIN" alerts --topic "$1" ${2:+--status "$2"} | wc -l; }
log "summary: $(count "$run.alerts" new) new, $(count "$run.alerts" update) update, $(count "$run.alerts" final) final alerts; $(count "$run.flows.dlq") dead-lettered, $(count "$run.flows.late") late records"
