#!/usr/bin/env bash
# Starts a single-node (or KAFKA_NODES=3: three-node) KRaft Kafka broker and an Apicurio schema registry (Confluent API) on
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
  local i="$1" dir voters="" rf=1 isr=1 j
  dir="$(kafka_node_dir "$i")"
  for j in $(seq 1 "$KAFKA_NODES"); do voters+="${voters:+,}$j@127.0.0.1:$(kafka_controller_port "$j")"; done
  if (( KAFKA_NODES >= 3 )); then rf=3; isr=2; elif (( KAFKA_NODES == 2 )); then rf=2; fi
  cat > "$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=$i
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$(kafka_node_port "$i"),CONTROLLER://127.0.0.1:$(kafka_controller_port "$i")
advertised.listeners=PLAINTEXT://127.0.0.1:$(kafka_node_port "$i")
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=3
# Internal topics replicated as far as the cluster allows (1 on one node: no waiting for replicas
# that will never exist); with three nodes a write needs two in-sync copies.
default.replication.factor=$rf
min.insync.replicas=$isr
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
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

kafka_java() { java -Dlog4j.configuration="file:$ROOT/infra/kafka/log4j.properties" -cp "$KAFKA_HOME/libs/*" "$@"; }

start_kafka() {
  local i dir running=0 cluster_id=""
  for i in $(seq 1 "$KAFKA_NODES"); do pid_alive "$(kafka_node_dir "$i")/kafka.pid" && running=$((running + 1)); done
  if (( running == KAFKA_NODES )); then log "kafka already running ($KAFKA_NODES node(s): $(kafka_brokers))"; return 0; fi
  for i in $(seq 1 "$KAFKA_NODES"); do
    dir="$(kafka_node_dir "$i")"
    mkdir -p "$dir"
    pid_alive "$dir/kafka.pid" && continue
    port_open "$(kafka_node_port "$i")" && die "port $(kafka_node_port "$i") is taken by a process this repository did not start; set KAFKA_PORT"
    write_kafka_config "$i"
    if [[ ! -f "$dir/data/meta.properties" ]]; then
      # Every node of a cluster is formatted with the same id (taken from a formatted sibling if any).
      [[ -z "$cluster_id" ]] && cluster_id="$(sed -n 's/^cluster.id=//p' "$(kafka_node_dir 1)/data/meta.properties" 2>/dev/null || true)"
      [[ -z "$cluster_id" ]] && cluster_id="$(kafka_java kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)"
      log "formatting KRaft storage of node $i (cluster $cluster_id)"
      kafka_java kafka.tools.StorageTool format -t "$cluster_id" -c "$dir/server.properties" -g >"$dir/format.log" 2>&1 \
        || { cat "$dir/format.log" >&2; die "storage format failed"; }
    fi
    log "starting kafka $KAFKA_VERSION node $i/$KAFKA_NODES on 127.0.0.1:$(kafka_node_port "$i") (log: $dir/kafka.log)"
    : > "$dir/kafka.log"
    nohup java -Xms"$KAFKA_HEAP" -Xmx"$KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
      -Dlog4j.configuration="file:$ROOT/infra/kafka/log4j.properties" -Dpresence.infra="$INFRA_DIR" \
      -cp "$KAFKA_HOME/libs/*" kafka.Kafka "$dir/server.properties" >>"$dir/kafka.log" 2>&1 &
    echo $! > "$dir/kafka.pid"
  done
}

kafka_ready() {
  local i dir
  for i in $(seq 1 "$KAFKA_NODES"); do
    dir="$(kafka_node_dir "$i")"
    port_open "$(kafka_node_port "$i")" && grep -q "Kafka Server started\|KafkaRaftServer.*started" "$dir/kafka.log" 2>/dev/null || return 1
  done
}

kafka_dead() {
  local i
  for i in $(seq 1 "$KAFKA_NODES"); do pid_alive "$(kafka_node_dir "$i")/kafka.pid" || { tail -30 "$(kafka_node_dir "$i")/kafka.log" >&2; return 0; }; done
  return 1
}

# What was started, for every later make target, script and service (see README, "Configuration").
write_connection() {
  local rf=1
  (( KAFKA_NODES >= 3 )) && rf=3
  (( KAFKA_NODES == 2 )) && rf=2
  cat > "$INFRA_DIR/connection.env.tmp" <<ENV
KAFKA_BROKERS=$(kafka_brokers)
SCHEMA_REGISTRY_URL=$(registry_url)
TOPIC_REPLICATION_FACTOR=$rf
ENV
  mv "$INFRA_DIR/connection.env.tmp" "$INFRA_DIR/connection.env"
  cat > "$INFRA_DIR/started.env" <<ENV
KAFKA_NODES=$KAFKA_NODES
KAFKA_PORT=$KAFKA_PORT
KAFKA_CONTROLLER_PORT=$KAFKA_CONTROLLER_PORT
REGISTRY_PORT=$REGISTRY_PORT
REGISTRY_MANAGEMENT_PORT=$REGISTRY_MANAGEMENT_PORT
REGISTRY_STORAGE=$REGISTRY_STORAGE
ENV
}

wait_ready() {
  local deadline=$((SECONDS + READY_TIMEOUT_S)) kafka_ok="" registry_ok=""
  while (( SECONDS < deadline )); do
    if [[ -z "$kafka_ok" ]] && kafka_ready; then kafka_ok=1; fi
    [[ -z "$kafka_ok" ]] && kafka_dead && die "kafka exited during start-up"
    if [[ -z "$registry_ok" ]] && registry_ready; then registry_ok=1; fi
    [[ -z "$registry_ok" ]] && ! pid_alive "$REGISTRY_INSTANCE_DIR/registry.pid" && { tail -30 "$REGISTRY_INSTANCE_DIR/registry.log" >&2; die "registry exited during start-up"; }
    if [[ -n "$kafka_ok" && -n "$registry_ok" ]]; then
      write_connection
      log "ready: KAFKA_BROKERS=$(kafka_brokers) SCHEMA_REGISTRY_URL=$(registry_url) (written to $INFRA_DIR/connection.env)"
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
