#!/usr/bin/env bash
# Stops what infra/up.sh started (by pid file), and nothing else.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

stopped=0
stop_pidfile registry "$REGISTRY_INSTANCE_DIR/registry.pid" && stopped=$((stopped + 1))
stop_pidfile kafka "$KAFKA_HOME/kafka.pid" && stopped=$((stopped + 1))
if (( stopped == 0 )); then log "nothing running"; fi
exit 0
