#!/usr/bin/env bash
# The project's test command: runs the whole workspace test suite against a
# real Kafka broker.
#
#   ops/test.sh [CARGO TEST ARGS...]      e.g. ops/test.sh -p nvm-detector -- --nocapture
#
# Runs `cargo test --workspace --locked ARGS`; with -p/--package the run is
# limited to those packages instead of the whole workspace.
#
# With KAFKA_BOOTSTRAP set, that cluster is used as is. Otherwise the local
# broker from ops/kafka.sh is started, and stopped again afterwards unless it
# was already running before.
set -euo pipefail

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd -- "$SCRIPT_DIR/.." && pwd -P)"
KAFKA_SH="$SCRIPT_DIR/kafka.sh"

case "${1:-}" in
  -h|--help)
    sed -n '2,12s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
    exit 0
    ;;
esac

log() { printf 'test.sh: %s\n' "$*" >&2; }

command -v cargo >/dev/null 2>&1 || { log "error: cargo not found on PATH"; exit 1; }

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

# --workspace would override a -p/--package given by the caller, so only add it without one.
scope=(--workspace)
for arg in "$@"; do
  [[ "$arg" == "--" ]] && break
  case "$arg" in
    -p|-p?*|--package|--package=*) scope=() ;;
  esac
done

cd "$REPO_ROOT"
cmd=(cargo test "${scope[@]}" --locked "$@")
log "${cmd[*]}"
rc=0
"${cmd[@]}" || rc=$?
if ((rc != 0)); then
  log "cargo test failed (exit $rc)"
fi
exit "$rc"
