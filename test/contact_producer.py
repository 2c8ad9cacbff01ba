"""Adds contacts with confluent-kafka (librdkafka) and its own Avro serializer, using the schema the
registry holds for presence.contacts.v1 (ContactEntry): a producer in another language that knows
only the contract. The key is owner, U+001F, contact; `-` before a pair removes it (a tombstone).
Usage: contact_producer.py BROKERS REGISTRY_URL TOPIC ADDED_AT OWNER:CONTACT|-OWNER:CONTACT..."""
import sys
import time

from confluent_kafka import Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

started = time.monotonic()


def stage(what):
    """On stderr with the seconds since start: when a loaded machine makes this slow, the test's
    failure says which step was."""
    print(f"[contact_producer] {time.monotonic() - started:.1f}s {what}", file=sys.stderr, flush=True)


stage("imported")
brokers, registry_url, topic, added_at, pairs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5:]
serialize = AvroSerializer(
    SchemaRegistryClient({"url": registry_url}),
    conf={"auto.register.schemas": False, "use.latest.version": True},
)
# Any partitioner will do: readers read every partition of the contacts topic.
# A bounded delivery time: past it a delivery fails (and this exits non-zero, saying so) instead of
# librdkafka's 300 s default holding the process at exit with the message still queued.
producer = Producer({"bootstrap.servers": brokers, "acks": "all", "message.timeout.ms": 45000})
failures = []
for pair in pairs:
    remove = pair.startswith("-")
    owner, contact = pair.lstrip("-").split(":", 1)
    key = f"{owner}\x1f{contact}".encode()
    value = None if remove else serialize({"owner": owner, "contact": contact, "addedAt": added_at}, SerializationContext(topic, MessageField.VALUE))
    producer.produce(topic, key=key, value=value, on_delivery=lambda err, msg: failures.append(str(err)) if err else print(msg.partition(), flush=True))
stage("produced; flushing")
remaining = producer.flush(50)
stage(f"flushed, {remaining} undelivered")
if remaining:
    raise SystemExit(f"{remaining} messages still undelivered after 50 s")
if failures:
    raise SystemExit(f"{len(failures)} deliveries failed: {failures[0]}")
