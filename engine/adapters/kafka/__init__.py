"""An eventsourcing persistence module that keeps the events in an Apache Kafka topic
(PERSISTENCE_MODULE=imagetrail.engine.adapters.kafka).

settings   what the store URL and IMAGETRAIL_KAFKA_* say, as the factory reads them
log        the topic: safety checks, catching up, the fenced single writer
cache      the local cache of the committed log (SQLite), which serves the recorders' reads
records    the record format: CloudEvents headers and imagetrail's own
recorders  the eventsourcing recorders and the factory
shards     one topic per namespace, merged for reading
"""

from imagetrail.engine.adapters.kafka.cache import LocalCache
from imagetrail.engine.adapters.kafka.log import KafkaLog, StoreBusy, StoreUnavailable, UnsafeTopic, VersionConflict
from imagetrail.engine.adapters.kafka.recorders import (KafkaAggregateRecorder, KafkaApplicationRecorder, KafkaFactory,
                                                         open_log)
from imagetrail.engine.adapters.kafka.settings import KafkaSettings

Factory = KafkaFactory

__all__ = ["Factory", "KafkaAggregateRecorder", "KafkaApplicationRecorder", "KafkaFactory", "KafkaLog",
           "KafkaSettings", "LocalCache", "open_log", "StoreBusy", "StoreUnavailable", "UnsafeTopic", "VersionConflict"]
