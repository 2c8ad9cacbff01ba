#!/usr/bin/env bash
# Stops what infra/up.sh started (by pid file), and nothing else.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

stopped=0
stop_pidfile registry "$REGISTRY_INSTANCE_DIR/registry.pid" && stopped=$((stopped + 1))
# Every node of ours, whichever mode started it, all at once: a node stopped after the others has
# no controller quorum left and would wait out its controlled shutdown.
pids=()
for pidfile in "$KAFKA_HOME/kafka.pid" "$KAFKA_HOME"/cluster-*/node-*/kafka.pid; do
  [[ -e "$pidfile" ]] || continue
  pid_alive "$pidfile" && stopped=$((stopped + 1))
  stop_pidfile "kafka${pidfile#"$KAFKA_HOME"}" "$pidfile" & pids+=($!)
done
(( ${#pids[@]} == 0 )) || wait "${pids[@]}" || true
rm -f "$INFRA_DIR/connection.env" "$INFRA_DIR/started.env"
if (( stopped == 0 )); then log "nothing running"; fi
exit 0
