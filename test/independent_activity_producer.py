"""Produces presence activities with confluent-kafka (librdkafka, partitioner murmur2_random as the
contract asks) and its own Avro serializer, using the schema registered for the override topic (kind
activity, the ActivityUpdate record): a calendar integration in another language.
Usage: independent_activity_producer.py BROKERS REGISTRY_URL TOPIC SET_AT EXPIRES_AT USER..."""
import sys
import time

START = time.monotonic()


def step(what):
    # On stderr with the seconds since start: a run the test kills for taking too long shows where it was.
    print(f"[{time.monotonic() - START:.1f} s] {what}", file=sys.stderr, flush=True)

from confluent_kafka import Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

brokers, registry_url, topic, set_at, expires_at, users = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6:]
serialize = AvroSerializer(
    SchemaRegistryClient({"url": registry_url}),
    conf={"auto.register.schemas": False, "use.latest.version": True},
)
producer = Producer({"bootstrap.servers": brokers, "acks": "all", "partitioner": "murmur2_random"})
failures = []
for user in users:
    value = {
        "kind": "activity", "userId": user, "eventId": f"py-cal-{user}", "setAt": set_at,
        "status": None, "customText": None, "expiresAt": None, "visibility": None, "lastSeenPrivacy": None,
        "activity": {"source": "calendar", "activity": "InAMeeting", "customText": f"sync of {user}", "emoji": "\U0001F4C5", "expiresAt": expires_at},
        "actor": {"kind": "integration", "id": "py-calendar"}, "reason": None,
    }
    encoded = serialize(value, SerializationContext(topic, MessageField.VALUE))
    step(f"encoded {user} with the registry's latest schema")
    producer.produce(
        topic, key=user.encode(), value=encoded,
        on_delivery=lambda err, msg: failures.append(str(err)) if err else print(f"{msg.key().decode()} {msg.partition()}", flush=True),
    )
remaining = producer.flush(30)
step(f"flushed, {remaining} not delivered")
if remaining:
    raise SystemExit(f"{remaining} records not delivered after 30 s")
if failures:
    raise SystemExit(f"{len(failures)} deliveries failed: {failures[0]}")
