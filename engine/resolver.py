"""Pull spec → image digest, without a network: pinned digests and registry snapshot files.

A snapshot file is JSON mapping pull specs to digests, e.g.
{"quay.io/keycloak/keycloak:20.0.2": "sha256:…"}. A live registry client joins the
chain in a later release.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from imagetrail.engine.errors import UsageError
from imagetrail.engine.references import (
    DockerImageReference,
    ReferenceError,
    parse_docker_image_reference,
    validate_digest,
)


@dataclass(frozen=True)
class Resolved:
    pull_spec: str  # the most specific pull spec: repository@digest
    digest: str


class ResolveFailed(Exception):
    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


class Resolver:
    def __init__(self, snapshot: dict[str, str] | None = None):
        self.snapshot = snapshot or {}

    @classmethod
    def from_file(cls, path: str | None) -> Resolver:
        path = path or os.environ.get("IMAGETRAIL_MIRROR")
        if not path:
            return cls()
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
        return cls(data)

    def resolve(self, pull_spec: str) -> Resolved:
        ref = parse_docker_image_reference(pull_spec)
        if ref.id:
            return Resolved(ref.with_digest(ref.id).exact(), ref.id)
        digest = self.snapshot.get(pull_spec) or self.snapshot.get(_with_default_tag(ref))
        if digest:
            return Resolved(ref.with_digest(digest).exact(), digest)
        raise ResolveFailed(
            "NotFound",
            f'dockerimage.image.openshift.io "{pull_spec}" not found: no registry snapshot has it '
            "(pin it by digest, or add it to the --mirror file)",
        )


def _with_default_tag(ref: DockerImageReference) -> str:
    return ref.exact() if ref.tag else f"{ref.exact()}:latest"
