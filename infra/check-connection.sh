#!/usr/bin/env bash
# Shows that `make up` on other ports is what every later target dials: starts a broker and a
# registry of its own (a scratch INFRA_DIR sharing the downloaded jars) on CHECK_KAFKA_PORT (29092)
# and CHECK_REGISTRY_PORT (28081), then runs `make provision` with no connection setting at all and
# checks the topics and subjects landed there, then `make down` with no setting stops both.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SCRATCH="$INFRA_DIR/check-connection"
K="${CHECK_KAFKA_PORT:-29092}" R="${CHECK_REGISTRY_PORT:-28081}"
PREFIX="check-connection-$(date +%s)."
[[ -f "$KAFKA_HOME/libs/.complete-$KAFKA_VERSION" && -f "$REGISTRY_APP/.complete-$APICURIO_VERSION" ]] || die "run infra/up.sh once first (jars)"
rm -rf "$SCRATCH"; mkdir -p "$SCRATCH/kafka" "$SCRATCH/registry"
ln -s "$KAFKA_HOME/libs" "$SCRATCH/kafka/libs"; ln -s "$REGISTRY_APP" "$SCRATCH/registry/app"
clean_env() { env -u KAFKA_BROKERS -u SCHEMA_REGISTRY_URL -u KAFKA_PORT -u KAFKA_CONTROLLER_PORT -u REGISTRY_PORT \
  -u REGISTRY_MANAGEMENT_PORT -u KAFKA_NODES -u TOPIC_REPLICATION_FACTOR -u REGISTRY_STORAGE INFRA_DIR="$SCRATCH" "$@"; }
trap 'clean_env bash "$ROOT/infra/down.sh" >/dev/null 2>&1; rm -rf "$SCRATCH"' EXIT
cd "$ROOT"
clean_env KAFKA_PORT="$K" KAFKA_CONTROLLER_PORT=$((K + 1)) REGISTRY_PORT="$R" REGISTRY_MANAGEMENT_PORT=$((R + 1)) make -s ${CHECK_MAKE_ARGS:-} up
grep -qx "KAFKA_BROKERS=127.0.0.1:$K" "$SCRATCH/connection.env" || die "connection.env does not name 127.0.0.1:$K: $(cat "$SCRATCH/connection.env")"
clean_env TOPIC_PREFIX="$PREFIX" LOG_LEVEL=info make -s ${CHECK_MAKE_ARGS:-} provision | tee "$SCRATCH/provision.log"
topics="$(cd "$ROOT" && node -e "
  const { Kafka, logLevel } = require('kafkajs');
  const admin = new Kafka({ brokers: ['127.0.0.1:$K'], logLevel: logLevel.NOTHING }).admin();
  admin.connect().then(() => admin.listTopics()).then((t) => { console.log(t.filter((n) => n.startsWith('$PREFIX')).length); return admin.disconnect(); });
")"
subjects="$(curl -sf "http://127.0.0.1:$R/apis/ccompat/v7/subjects" | tr ',' '\n' | grep -c "$PREFIX" || true)"
(( topics >= 10 )) || die "make provision created $topics topics with prefix $PREFIX on 127.0.0.1:$K (expected 10)"
(( subjects >= 9 )) || die "make provision registered $subjects subjects with prefix $PREFIX on 127.0.0.1:$R (expected 9)"
clean_env make -s down
left="$(pgrep -f -- "-Dpresence.infra=$SCRATCH" || true)"
[[ -z "$left" ]] || die "make down left processes: $left"
[[ ! -f "$SCRATCH/connection.env" ]] || die "make down left connection.env behind"
log "connection ok: make up on $K/$R wrote connection.env; make provision with no settings created $topics topics on $K and $subjects subjects on $R; make down stopped both"
