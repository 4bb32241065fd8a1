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

# shellcheck source=ops/lib/broker.sh
source "$SCRIPT_DIR/lib/broker.sh"
use_broker

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
