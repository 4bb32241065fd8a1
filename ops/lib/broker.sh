# shellcheck shell=bash
# Sourced by the ops scripts that need Kafka: `use_broker` uses the cluster
# named by KAFKA_BOOTSTRAP, or starts the local broker (ops/kafka.sh) and
# exports its address; a broker that was not running before is stopped again
# when the script exits. The caller defines KAFKA_SH and a `log` function.

started_broker=0

# shellcheck disable=SC2317 # called from the EXIT trap
stop_broker() {
  if ((started_broker)); then
    log "stopping the broker this run started"
    "$KAFKA_SH" stop || log "warning: could not stop the broker"
  fi
}

use_broker() {
  trap stop_broker EXIT
  # Turn Ctrl-C/TERM into a normal exit so the EXIT trap runs once.
  trap 'exit 130' INT
  trap 'exit 143' TERM
  if [[ -n "${KAFKA_BOOTSTRAP:-}" ]]; then
    log "using Kafka at KAFKA_BOOTSTRAP=$KAFKA_BOOTSTRAP"
    return
  fi
  # Only a broker that was not already up is ours to stop.
  if ! "$KAFKA_SH" status >/dev/null 2>&1; then
    started_broker=1
  fi
  "$KAFKA_SH" start
  KAFKA_BOOTSTRAP="$("$KAFKA_SH" bootstrap)"
  export KAFKA_BOOTSTRAP
  log "using local Kafka at $KAFKA_BOOTSTRAP"
}
