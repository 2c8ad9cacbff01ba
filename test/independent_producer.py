"""Produces presence overrides with confluent-kafka (librdkafka) on its default partitioner
(consistent_random, not murmur2) and its own Avro serializer against the schema registry, using the
schema registered for the topic: a producer in another language that did not read our contract.
Usage: independent_producer.py BROKERS REGISTRY_URL TOPIC SET_AT USER..."""
import sys

from confluent_kafka import Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

brokers, registry_url, topic, set_at, users = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5:]
serialize = AvroSerializer(
    SchemaRegistryClient({"url": registry_url}),
    conf={"auto.register.schemas": False, "use.latest.version": True},
)
producer = Producer({"bootstrap.servers": brokers, "acks": "all"})  # partitioner left at librdkafka's default
failures = []
for user in users:
    value = {
        "kind": "status", "userId": user, "eventId": f"py-{user}", "setAt": set_at, "status": "DoNotDisturb",
        "customText": f"python {user}", "expiresAt": None, "visibility": None,
    }
    producer.produce(
        topic, key=user.encode(), value=serialize(value, SerializationContext(topic, MessageField.VALUE)),
        on_delivery=lambda err, msg: failures.append(str(err)) if err else print(f"{msg.key().decode()} {msg.partition()}", flush=True),
    )
producer.flush(30)
if failures:
    raise SystemExit(f"{len(failures)} deliveries failed: {failures[0]}")
