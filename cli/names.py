"""Names typed on the command line, checked by the rules the engine applies to writes
(engine.references: the API server's own), so a read never queries a name that cannot exist."""

from __future__ import annotations

from imagetrail.engine.domain.errors import UsageError
from imagetrail.engine.domain.references import (
    ReferenceError,
    parse_istag_name,
    validate_namespace,
    validate_object_name,
    validate_stream_name,
)


def namespace_name(name: str) -> str:
    """-n, $IMAGETRAIL_NAMESPACE: a DNS-1123 label, as Kubernetes names namespaces."""
    return _checked(lambda: validate_namespace(name), name)


def stream_name(namespace: str, name: str) -> str:
    return _checked(lambda: validate_stream_name(name, namespace=namespace), name)


def deployment_name(name: str) -> str:
    return _checked(lambda: validate_object_name(name, "deployment"), name)


def istag_name(namespace: str, name: str) -> tuple[str, str]:
    """IS:TAG as every command takes it (get istag, history, rollback, log --tag)."""
    return _checked(lambda: parse_istag_name(name, namespace=namespace), name)


def _checked(check, name):
    try:
        result = check()
    except ReferenceError as e:
        raise UsageError(str(e)) from None
    return name if result is None else result
