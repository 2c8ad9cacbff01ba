#!/usr/bin/env bash
# Starts a single-node KRaft Kafka broker and an Apicurio schema registry (Confluent API) on
# 127.0.0.1, fetching what is missing from Maven Central first. Safe to run twice.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
mkdir -p "$KAFKA_HOME" "$REGISTRY_HOME"

fetch_kafka() {
  [[ -f "$KAFKA_HOME/libs/.complete-$KAFKA_VERSION" ]] && return 0
  command -v mvn >/dev/null || die "Maven (mvn) is required to fetch Kafka; apt-get install maven"
  log "fetching Apache Kafka $KAFKA_VERSION from Maven Central"
  rm -rf "$KAFKA_HOME/libs"
  mvn -B -q -f "$ROOT/infra/kafka/pom.xml" "$MAVEN_DEPENDENCY_PLUGIN:copy-dependencies" \
    -DoutputDirectory="$KAFKA_HOME/libs" -DincludeScope=runtime || die "could not resolve Kafka jars"
  touch "$KAFKA_HOME/libs/.complete-$KAFKA_VERSION"
}

fetch_registry() {
  [[ -f "$REGISTRY_HOME/app/.complete-$APICURIO_VERSION" ]] && return 0
  command -v mvn >/dev/null || die "Maven (mvn) is required to fetch the registry"
  log "fetching Apicurio Registry $APICURIO_VERSION from Maven Central"
  rm -rf "$REGISTRY_APP" "$REGISTRY_HOME/download"
  mvn -B -q "$MAVEN_DEPENDENCY_PLUGIN:copy" \
    -Dartifact="io.apicurio:apicurio-registry-app:$APICURIO_VERSION:tar.gz:all" \
    -DoutputDirectory="$REGISTRY_HOME/download" || die "could not resolve Apicurio Registry"
  mkdir -p "$REGISTRY_HOME/app"
  tar xzf "$REGISTRY_HOME/download/"*.tar.gz -C "$REGISTRY_HOME/app"
  rm -rf "$REGISTRY_HOME/download"
  touch "$REGISTRY_HOME/app/.complete-$APICURIO_VERSION"
}

write_kafka_config() {
  cat > "$KAFKA_HOME/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$KAFKA_HOME/data
num.partitions=3
# One broker: internal topics must not wait for replicas that will never exist.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=10
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
# Compaction runs often enough to be seen in a demo; small segments for compacted topics are set per topic.
log.cleaner.backoff.ms=5000
log.retention.check.interval.ms=30000
num.network.threads=2
num.io.threads=4
PROPS
}

start_kafka() {
  if pid_alive "$KAFKA_HOME/kafka.pid"; then log "kafka already running (pid $(cat "$KAFKA_HOME/kafka.pid"))"; return 0; fi
  port_open "$KAFKA_PORT" && die "port $KAFKA_PORT is taken by a process this repository did not start; set KAFKA_PORT"
  write_kafka_config
  local cp="$KAFKA_HOME/libs/*"
  if [[ ! -f "$KAFKA_HOME/data/meta.properties" ]]; then
    local cluster_id
    cluster_id="$(java -Dlog4j.configuration="file:$ROOT/infra/kafka/log4j.properties" -cp "$cp" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)"
    log "formatting KRaft storage (cluster $cluster_id)"
    java -Dlog4j.configuration="file:$ROOT/infra/kafka/log4j.properties" -cp "$cp" kafka.tools.StorageTool format \
      -t "$cluster_id" -c "$KAFKA_HOME/server.properties" -g >"$KAFKA_HOME/format.log" 2>&1 \
      || { cat "$KAFKA_HOME/format.log" >&2; die "storage format failed"; }
  fi
  log "starting kafka $KAFKA_VERSION on 127.0.0.1:$KAFKA_PORT (log: $KAFKA_HOME/kafka.log)"
  : > "$KAFKA_HOME/kafka.log"
  nohup java -Xms"$KAFKA_HEAP" -Xmx"$KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$ROOT/infra/kafka/log4j.properties" -Dpresence.infra="$INFRA_DIR" \
    -cp "$cp" kafka.Kafka "$KAFKA_HOME/server.properties" >>"$KAFKA_HOME/kafka.log" 2>&1 &
  echo $! > "$KAFKA_HOME/kafka.pid"
}

wait_ready() {
  local deadline=$((SECONDS + READY_TIMEOUT_S)) kafka_ok="" registry_ok=""
  while (( SECONDS < deadline )); do
    if [[ -z "$kafka_ok" ]] && port_open "$KAFKA_PORT" && grep -q "Kafka Server started\|KafkaRaftServer.*started" "$KAFKA_HOME/kafka.log" 2>/dev/null; then kafka_ok=1; fi
    [[ -z "$kafka_ok" ]] && ! pid_alive "$KAFKA_HOME/kafka.pid" && { tail -30 "$KAFKA_HOME/kafka.log" >&2; die "kafka exited during start-up"; }
    if [[ -z "$registry_ok" ]] && registry_ready; then registry_ok=1; fi
    [[ -z "$registry_ok" ]] && ! pid_alive "$REGISTRY_INSTANCE_DIR/registry.pid" && { tail -30 "$REGISTRY_INSTANCE_DIR/registry.log" >&2; die "registry exited during start-up"; }
    if [[ -n "$kafka_ok" && -n "$registry_ok" ]]; then
      log "ready: KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT SCHEMA_REGISTRY_URL=http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7"
      return 0
    fi
    sleep 0.5
  done
  die "not ready after ${READY_TIMEOUT_S}s (kafka=${kafka_ok:-no} registry=${registry_ok:-no}); see $KAFKA_HOME/kafka.log and $REGISTRY_HOME/registry.log"
}

fetch_kafka
fetch_registry
start_kafka
start_registry
wait_ready
