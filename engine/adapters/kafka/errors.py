"""How the Kafka store reads kafka-python's errors: fenced, definitive, unreachable, or unknown."""

from __future__ import annotations

from typing import Any


def _errors() -> Any:
    import kafka.errors  # imported lazily: the embedded store must not need a broker library loaded

    return kafka.errors


def fenced(error: BaseException) -> bool:
    """Fenced by another writer: directly, or as the error state kafka-python reports afterwards."""
    errors = _errors()
    return isinstance(error, (errors.ProducerFencedError, errors.InvalidProducerEpochError)) or (
        isinstance(error, errors.KafkaError) and ("ProducerFenced" in str(error) or "InvalidProducerEpoch" in str(error)))


def definitive(error: BaseException) -> bool:
    """A commit error that says the transaction did not commit (authorization, invalid state, …)."""
    errors = _errors()
    # "Invalid transition … BUMPING_PRODUCER_EPOCH": kafka-python aborted it to bump the epoch; the log decides
    return (isinstance(error, errors.KafkaError) and not isinstance(error, errors.KafkaTimeoutError)
            and not getattr(error, "retriable", False) and "Invalid transition" not in str(error)
            and not isinstance(error, errors.UnknownError) and "UnknownError" not in str(error))


def unreachable_errors() -> tuple[type[BaseException], ...]:
    errors = _errors()
    names = ("KafkaTimeoutError", "NoBrokersAvailable", "KafkaConnectionError", "RequestTimedOutError",
             "BrokerNotAvailableError", "NodeNotReadyError")
    return tuple(getattr(errors, n) for n in names if hasattr(errors, n))


class OutcomeUnknown(Exception):
    """The commit did not answer in time: it may or may not have happened."""


def error_of(fn) -> BaseException | None:
    try:
        fn()
    except BaseException as e:  # reported to the caller, which decides
        return e
    return None
