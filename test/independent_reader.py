"""Reads a topic from the beginning with confluent-kafka (librdkafka) and decodes each value with
confluent-kafka's own Avro deserializer against the schema registry: code not written here.
Prints one JSON object per record. Usage: independent_reader.py BROKERS REGISTRY_URL TOPIC COUNT"""
import json
import sys

from confluent_kafka import Consumer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

brokers, registry_url, topic, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
deserialize = AvroDeserializer(SchemaRegistryClient({"url": registry_url}))
consumer = Consumer({
    "bootstrap.servers": brokers,
    "group.id": f"independent-reader-{topic}",
    "auto.offset.reset": "earliest",
    "enable.auto.commit": False,
})
consumer.subscribe([topic])
seen = 0
idle_polls = 0
try:
    while seen < count and idle_polls < 60:
        msg = consumer.poll(0.5)
        if msg is None:
            idle_polls += 1
            continue
        if msg.error():
            raise SystemExit(f"kafka error: {msg.error()}")
        value = deserialize(msg.value(), SerializationContext(topic, MessageField.VALUE))
        print(json.dumps({"key": msg.key().decode(), "value": value}, default=str), flush=True)
        seen += 1
finally:
    consumer.close()
if seen < count:
    raise SystemExit(f"read {seen} of {count} records from {topic}")
