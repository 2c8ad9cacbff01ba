# Shared settings for infra/*.sh. Everything this repository starts lives under $INFRA_DIR
# (ignored by git): downloaded jars, broker data, logs and pid files.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
INFRA_DIR="${INFRA_DIR:-$ROOT/.infra}"
KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$ROOT/infra/kafka/pom.xml")"
APICURIO_VERSION="${APICURIO_VERSION:-3.3.3}"
# What `make up` started is recorded in $INFRA_DIR/started.env (ports, nodes, storage); later
# scripts (a second `make up`, `make down`, registry.sh) use it for every setting the environment
# does not give, so `KAFKA_PORT=29092 make up` then `make down` or `make provision` agree.
if [[ -f "$INFRA_DIR/started.env" ]]; then
  while IFS='=' read -r name value; do
    [[ "$name" =~ ^[A-Z_]+$ ]] || continue
    [[ -z "${!name+x}" ]] && printf -v "$name" '%s' "$value"
  done < "$INFRA_DIR/started.env"
fi
# KAFKA_NODES=3: a KRaft quorum of three combined broker+controller nodes; node i listens on
# KAFKA_PORT + 2(i-1) and its controller on KAFKA_CONTROLLER_PORT + 2(i-1) (9092/9093, 9094/9095, 9096/9097).
KAFKA_NODES="${KAFKA_NODES:-1}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
REGISTRY_PORT="${REGISTRY_PORT:-8081}"
REGISTRY_MANAGEMENT_PORT="${REGISTRY_MANAGEMENT_PORT:-9001}"
if [[ "$KAFKA_NODES" == 1 ]]; then KAFKA_HEAP="${KAFKA_HEAP:-768m}"; else KAFKA_HEAP="${KAFKA_HEAP:-512m}"; fi
REGISTRY_HEAP="${REGISTRY_HEAP:-384m}"
READY_TIMEOUT_S="${READY_TIMEOUT_S:-120}"
# Registry storage: h2 (default; an H2 database file, kept across restarts), kafkasql (a journal
# topic on our broker; starts about 3x slower here) or mem (in-memory: ids are reused after a restart).
REGISTRY_STORAGE="${REGISTRY_STORAGE:-h2}"

KAFKA_HOME="$INFRA_DIR/kafka"
[[ "$KAFKA_NODES" =~ ^[1-9]$ ]] || { printf '[infra] error: KAFKA_NODES must be 1 to 9 (got %s)\n' "$KAFKA_NODES" >&2; exit 1; }
# Node i's folder (config, data, log, pid): the single node keeps the historical .infra/kafka layout.
kafka_node_dir() { if [[ "$KAFKA_NODES" == 1 ]]; then echo "$KAFKA_HOME"; else echo "$KAFKA_HOME/cluster-$KAFKA_NODES/node-$1"; fi; }
kafka_node_port() { echo $((KAFKA_PORT + 2 * ($1 - 1))); }
kafka_controller_port() { echo $((KAFKA_CONTROLLER_PORT + 2 * ($1 - 1))); }
kafka_brokers() { local i out=""; for i in $(seq 1 "$KAFKA_NODES"); do out+="${out:+,}127.0.0.1:$(kafka_node_port "$i")"; done; echo "$out"; }
REGISTRY_HOME="$INFRA_DIR/registry"
REGISTRY_APP="$REGISTRY_HOME/app"
# One registry instance's pid file, log and data; a second instance (tests) sets its own folder.
REGISTRY_INSTANCE_DIR="${REGISTRY_INSTANCE_DIR:-$REGISTRY_HOME}"
MAVEN_DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.6.1"

log() { printf '[infra] %s\n' "$*" >&2; }
die() { printf '[infra] error: %s\n' "$*" >&2; exit 1; }

# A pid file names a live process of ours only if that process still exists and its
# command line mentions our INFRA_DIR (guards against a recycled pid).
pid_alive() {
  local pidfile="$1" pid
  [[ -f "$pidfile" ]] || return 1
  pid="$(cat "$pidfile")"
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF "$INFRA_DIR"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Apicurio 3.2+ needs Java 21 or newer; Kafka runs on the default java (17).
find_java21() {
  local candidate v
  for candidate in ${REGISTRY_JAVA_HOME:-} /usr/lib/jvm/*; do
    [[ -x "$candidate/bin/java" ]] || continue
    v="$("$candidate/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)"
    if [[ -n "$v" && "$v" -ge 21 ]]; then echo "$candidate/bin/java"; return 0; fi
  done
  return 1
}

registry_url() { echo "http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7"; }

# Starts the registry instance of $REGISTRY_INSTANCE_DIR in the background (does not wait).
start_registry() {
  local pidfile="$REGISTRY_INSTANCE_DIR/registry.pid" storage=()
  if pid_alive "$pidfile"; then log "registry already running (pid $(cat "$pidfile"))"; return 0; fi
  port_open "$REGISTRY_PORT" && die "port $REGISTRY_PORT is taken by a process this repository did not start; set REGISTRY_PORT"
  [[ -f "$REGISTRY_APP/quarkus-run.jar" ]] || die "registry not fetched ($REGISTRY_APP); run infra/up.sh first"
  local java21
  java21="$(find_java21)" || die "Apicurio Registry $APICURIO_VERSION needs Java 21+; none found under /usr/lib/jvm (set REGISTRY_JAVA_HOME)"
  mkdir -p "$REGISTRY_INSTANCE_DIR/data"
  case "$REGISTRY_STORAGE" in
    # Schema ids are written into every record: they must survive a restart (see README).
    h2) storage=(-Dapicurio.storage.kind=sql -Dapicurio.storage.sql.kind=h2
                 "-Dapicurio.datasource.url=jdbc:h2:file:$REGISTRY_INSTANCE_DIR/data/registry") ;;
    kafkasql) storage=(-Dapicurio.storage.kind=kafkasql "-Dapicurio.kafkasql.bootstrap.servers=$(kafka_brokers)") ;;
    mem) storage=(-Dapicurio.storage.kind=sql -Dapicurio.storage.sql.kind=h2) ;;
    *) die "REGISTRY_STORAGE must be h2, kafkasql or mem (got $REGISTRY_STORAGE)" ;;
  esac
  log "starting Apicurio Registry $APICURIO_VERSION on 127.0.0.1:$REGISTRY_PORT, $REGISTRY_STORAGE storage (log: $REGISTRY_INSTANCE_DIR/registry.log)"
  (cd "$REGISTRY_APP"
   nohup "$java21" -Xms128m -Xmx"$REGISTRY_HEAP" -Dpresence.infra="$INFRA_DIR" \
    -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$REGISTRY_PORT" \
    -Dquarkus.management.host=127.0.0.1 -Dquarkus.management.port="$REGISTRY_MANAGEMENT_PORT" \
    -Dquarkus.http.access-log.enabled=false "${storage[@]}" \
    -jar quarkus-run.jar >"$REGISTRY_INSTANCE_DIR/registry.log" 2>&1 &
    echo $! > "$pidfile")
}

registry_ready() { curl -sf "$(registry_url)/subjects" >/dev/null 2>&1; }

wait_registry() {
  local deadline=$((SECONDS + READY_TIMEOUT_S))
  until registry_ready; do
    pid_alive "$REGISTRY_INSTANCE_DIR/registry.pid" || { tail -30 "$REGISTRY_INSTANCE_DIR/registry.log" >&2; die "registry exited during start-up"; }
    (( SECONDS < deadline )) || die "registry not ready after ${READY_TIMEOUT_S}s; see $REGISTRY_INSTANCE_DIR/registry.log"
    sleep 0.5
  done
}

# Stops the process of a pid file of ours (TERM, then KILL after 30 s); returns 1 if none ran.
stop_pidfile() {
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
