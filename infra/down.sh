#!/usr/bin/env bash
# Stops what infra/up.sh started (by pid file), and nothing else.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

stop_one() {
  local name="$1" pidfile="$2" pid
  if ! pid_alive "$pidfile"; then rm -f "$pidfile"; return 1; fi
  pid="$(cat "$pidfile")"
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do pid_alive "$pidfile" || break; sleep 0.5; done
  if pid_alive "$pidfile"; then log "$name did not stop in 30s; killing"; kill -KILL "$pid" 2>/dev/null || true; sleep 0.5; fi
  rm -f "$pidfile"
  return 0
}

stopped=0
stop_one registry "$REGISTRY_HOME/registry.pid" && stopped=$((stopped + 1))
stop_one kafka "$KAFKA_HOME/kafka.pid" && stopped=$((stopped + 1))
if (( stopped == 0 )); then log "nothing running"; fi
exit 0
