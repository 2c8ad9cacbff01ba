#!/usr/bin/env bash
# An independent Kafka + schema-registry client for the tests: Python's confluent-kafka (librdkafka
# in its wheel) with its Avro deserializer, in a virtual environment under $INFRA_DIR.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
VENV="$INFRA_DIR/pyclient"
PIN="confluent-kafka[avro]==2.16.1"
[[ -f "$VENV/.complete" ]] && [[ "$(cat "$VENV/.complete")" == "$PIN" ]] && exit 0
command -v python3 >/dev/null || die "python3 is required for the independent test client"
log "installing $PIN into $VENV"
rm -rf "$VENV"
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check "$PIN"
echo "$PIN" > "$VENV/.complete"
