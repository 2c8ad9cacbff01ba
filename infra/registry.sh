#!/usr/bin/env bash
# One registry instance alone: `infra/registry.sh start|stop|restart|status`. Without settings it is
# the one `make up` started (.infra/registry); a test can run a second one beside it with its own
# REGISTRY_INSTANCE_DIR, REGISTRY_PORT and REGISTRY_MANAGEMENT_PORT (same downloaded app).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
case "${1:-}" in
  start) start_registry; wait_registry; log "registry ready: $(registry_url)" ;;
  stop) stop_pidfile registry "$REGISTRY_INSTANCE_DIR/registry.pid" || log "registry not running" ;;
  restart) stop_pidfile registry "$REGISTRY_INSTANCE_DIR/registry.pid" || true; start_registry; wait_registry; log "registry ready: $(registry_url)" ;;
  status) if pid_alive "$REGISTRY_INSTANCE_DIR/registry.pid"; then echo "running (pid $(cat "$REGISTRY_INSTANCE_DIR/registry.pid"))"; else echo "not running"; exit 1; fi ;;
  *) die "usage: infra/registry.sh start|stop|restart|status" ;;
esac
