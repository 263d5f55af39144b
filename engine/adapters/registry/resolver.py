"""Pull spec → image digest: a pinned digest, else a registry snapshot file, else the live registry.

A snapshot file is JSON mapping pull specs to digests, e.g.
{"quay.io/keycloak/keycloak:20.0.2": "sha256:…"}: reproducible runs and air-gapped
machines. Without a live registry client (`--offline`), a pull spec the snapshot lacks
fails to import, as an unreachable registry would.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from imagetrail.engine.domain.errors import ResolveFailed, UsageError
from imagetrail.engine.domain.references import (
    DockerImageReference,
    ReferenceError,
    parse_docker_image_reference,
    validate_digest,
)

if TYPE_CHECKING:  # the client (http, ssl) is imported by whoever makes one: most commands never do
    from imagetrail.engine.adapters.registry.client import RegistryClient


@dataclass(frozen=True)
class Resolved:
    pull_spec: str  # the most specific pull spec: repository@digest
    digest: str


class Resolver:
    def __init__(self, snapshot: dict[str, str] | None = None, registry: RegistryClient | None = None):
        self.snapshot = snapshot or {}
        self.registry = registry

    @classmethod
    def from_file(cls, path: str | None, registry: RegistryClient | None = None) -> Resolver:
        """The snapshot at `path` (--mirror / IMAGETRAIL_MIRROR), backed by the live `registry` if any."""
        if not path:
            return cls(registry=registry)
        try:
            data = json.loads(Path(path).read_text())
        except FileNotFoundError:
            raise UsageError(f"registry snapshot file {path} does not exist (--mirror / IMAGETRAIL_MIRROR)") from None
        except (OSError, ValueError) as e:
            raise UsageError(f"registry snapshot file {path} is not valid JSON: {e}") from None
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise UsageError(f"registry snapshot file {path} must be a JSON object of pull spec → digest")
        for spec, digest in data.items():
            try:
                validate_digest(digest)
            except ReferenceError as e:
                raise UsageError(f"registry snapshot file {path}: {spec}: {e}") from None
        return cls(data, registry)

    def resolve(self, pull_spec: str, *, insecure: bool = False, import_mode: str = "Legacy") -> Resolved:
        ref = parse_docker_image_reference(pull_spec)
        if ref.id:
            return Resolved(ref.with_digest(ref.id).exact(), ref.id)
        digest = self.snapshot.get(pull_spec) or self.snapshot.get(_with_default_tag(ref))
        if digest:
            return Resolved(ref.with_digest(digest).exact(), digest)
        if self.registry is None:
            raise ResolveFailed(
                "NotFound",
                f'dockerimage.image.openshift.io "{pull_spec}" not found: no registry snapshot has it '
                "and live registry lookups are off (pin it by digest, add it to the --mirror file, "
                "or drop --offline)",
            )
        digest = self.registry.resolve(ref, insecure=insecure, import_mode=import_mode)
        return Resolved(ref.with_digest(digest).exact(), digest)


def _with_default_tag(ref: DockerImageReference) -> str:
    return ref.exact() if ref.tag else f"{ref.exact()}:latest"
