"""Clear reasons for what kafka-python reports only as a timeout or an error code.

kafka-python retries a bootstrap that fails (bad credentials, an untrusted certificate) until its
timeout, and says only "Unable to bootstrap"; the reason is in its log. A watcher on its network
loggers keeps the last such reason, so the error a user sees can name it. Authorization failures
come back as bare error codes; they get the principal, the resource and the fix. No message here
ever includes a password.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from imagetrail.engine.adapters.kafka.settings import KafkaSettings

# Kafka protocol error codes of the authorization failures a store operation can meet
AUTHORIZATION_CODES = {29: "topic", 30: "consumer group", 31: "cluster", 53: "transactional id"}


class _Watcher(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.last = ""
        self.lock_ = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "SaslAuthenticationFailed" in message or "CERTIFICATE_VERIFY_FAILED" in message \
                or "Handshake failed" in message:
            with self.lock_:
                self.last = message


_watcher = _Watcher()


def watch() -> None:
    """Listen to kafka-python's connection failures (idempotent). Its records still reach any other
    handler; with none configured they are not printed, as before."""
    logger = logging.getLogger("kafka.net")
    if _watcher not in logger.handlers:
        logger.addHandler(_watcher)
        _watcher.last = ""


def connection_problem(settings: KafkaSettings) -> str:
    """The reason the last connection attempt was refused, in words, or empty."""
    with _watcher.lock_:
        last, _watcher.last = _watcher.last, ""
    options = dict(settings.security)
    if "SaslAuthenticationFailed" in last:
        return (f": authentication failed for user {options.get('sasl_plain_username', '?')} with "
                f"{options.get('sasl_mechanism', 'SASL')}; check sasl.username and sasl.password "
                f"(IMAGETRAIL_KAFKA_SASL_USERNAME / _PASSWORD)")
    if "CERTIFICATE_VERIFY_FAILED" in last or "Handshake failed" in last:
        cafile = options.get("ssl_cafile")
        trusted = f"the CA in ssl.cafile {cafile}" if cafile else "the system's CAs (no ssl.cafile set)"
        return (f": the broker's TLS certificate is not trusted by {trusted}; set IMAGETRAIL_KAFKA_SSL_CAFILE "
                f"to the CA that signed it")
    return ""


def authorization_problem(settings: KafkaSettings, code: int, resource: str, operation: str) -> str | None:
    """An authorization error code as a sentence naming the principal, the resource and the fix."""
    kind = AUTHORIZATION_CODES.get(code)
    if kind is None:
        return None
    user = dict(settings.security).get("sasl_plain_username") or "this client"
    return (f"Kafka refused {operation}: {user} is not authorized on the {kind} {resource}; "
            f"grant the ACLs the README lists under \"Kafka ACLs\"")

