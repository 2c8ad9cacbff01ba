# Shared settings for infra/*.sh. Everything this repository starts lives under $INFRA_DIR
# (ignored by git): downloaded jars, broker data, logs and pid files.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
INFRA_DIR="${INFRA_DIR:-$ROOT/.infra}"
KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$ROOT/infra/kafka/pom.xml")"
APICURIO_VERSION="${APICURIO_VERSION:-3.3.3}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
REGISTRY_PORT="${REGISTRY_PORT:-8081}"
REGISTRY_MANAGEMENT_PORT="${REGISTRY_MANAGEMENT_PORT:-9001}"
KAFKA_HEAP="${KAFKA_HEAP:-768m}"
REGISTRY_HEAP="${REGISTRY_HEAP:-384m}"
READY_TIMEOUT_S="${READY_TIMEOUT_S:-120}"

KAFKA_HOME="$INFRA_DIR/kafka"
REGISTRY_HOME="$INFRA_DIR/registry"
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
