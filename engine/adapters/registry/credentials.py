"""Registry credentials from the files `podman login` and `docker login` write.

Search order, as containers-auth.json(5) reads it: `REGISTRY_AUTH_FILE` alone when set;
else `$XDG_RUNTIME_DIR/containers/auth.json`, `~/.config/containers/auth.json`,
`$DOCKER_CONFIG/config.json` (default `~/.docker/config.json`). The first file with an
entry for the repository wins; within a file the most specific key wins
(`registry/ns/repo` before `registry/ns` before `registry`). As docker does, a
`credHelpers` entry for the registry comes first, then the `auths` entry, then the
file's `credsStore`: a helper is the program `docker-credential-NAME`, asked with
`get` and the server address on stdin.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from imagetrail.engine.domain.errors import UsageError
from imagetrail.engine.domain.references import quote

_DOCKER_HUB_KEYS = ("docker.io", "index.docker.io", "registry-1.docker.io")


@dataclass(frozen=True)
class Credentials:
    username: str = field(default="", repr=False)
    password: str = field(default="", repr=False)
    identity_token: str = field(default="", repr=False)
    source: str = ""  # the file they came from, safe to show

    def basic_header(self) -> str:
        return "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()


@dataclass
class CredentialStore:
    files: list[Path] = field(default_factory=list)
    required: bool = False  # REGISTRY_AUTH_FILE names a file that must exist

    @classmethod
    def search(cls, *, auth_file: str | None = None, runtime_dir: str | None = None,
               docker_config: str | None = None) -> CredentialStore:
        """podman's order: REGISTRY_AUTH_FILE alone if set, else $XDG_RUNTIME_DIR's auth.json, the
        user's containers auth.json, then docker's config.json (in $DOCKER_CONFIG or ~/.docker)."""
        if auth_file:
            return cls([Path(auth_file)], required=True)
        home = Path(os.path.expanduser("~"))
        files = []
        if runtime_dir:
            files.append(Path(runtime_dir) / "containers" / "auth.json")
        files.append(home / ".config" / "containers" / "auth.json")
        files.append(Path(docker_config or home / ".docker") / "config.json")
        return cls(files)

    def check(self) -> None:
        """Refuse a missing REGISTRY_AUTH_FILE or an unreadable auth file before any request, as
        podman does: an anonymous pull must not quietly stand in for a login the user made."""
        if self.required and not self.files[0].is_file():
            raise UsageError(f"REGISTRY_AUTH_FILE={self.files[0]} does not exist "
                             "(create it with `podman login --authfile`, or unset the variable)")
        for path in self.files:
            _read(path)

    def lookup(self, registry: str, repository: str) -> Credentials | None:
        """Credentials for `registry/repository`, or None to go anonymous."""
        wanted = _candidate_keys(registry, repository)
        hosts = list(_DOCKER_HUB_KEYS) if registry in _DOCKER_HUB_KEYS else [registry]
        for path in self.files:
            auth_file = _read(path)
            helper = next((auth_file.cred_helpers[h] for h in hosts if h in auth_file.cred_helpers), None)
            if helper:
                return _ask_helper(helper, _server_address(registry), path)
            for key in wanted:
                entry = auth_file.auths.get(key)
                if entry and (entry.get("auth") or entry.get("identitytoken")):
                    return _decode(entry, path, key)
            if auth_file.creds_store:
                found = _ask_helper(auth_file.creds_store, _server_address(registry), path)
                if found:
                    return found
        return None


@dataclass
class _AuthFile:
    auths: dict[str, dict] = field(default_factory=dict)
    cred_helpers: dict[str, str] = field(default_factory=dict)
    creds_store: str = ""


def _server_address(registry: str) -> str:
    """What docker asks a helper for: Docker Hub by its legacy URL, other registries by host."""
    return "https://index.docker.io/v1/" if registry in _DOCKER_HUB_KEYS else registry


def _ask_helper(name: str, server: str, path: Path) -> Credentials | None:
    """The docker-credential-helpers protocol: `get`, server on stdin, JSON {Username, Secret} out."""
    program = shutil.which(f"docker-credential-{name}")
    if program is None:
        raise UsageError(f"{path} names the credential helper {quote(name)}, but docker-credential-{name} is not "
                         "on PATH; install it, or remove it from the file")
    try:
        done = subprocess.run([program, "get"], input=server, capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        raise UsageError(f"credential helper docker-credential-{name} did not answer within 30 s") from None
    if done.returncode != 0:
        if "credentials not found" in done.stdout + done.stderr:
            return None  # the helper has no login for this registry: go anonymous
        raise UsageError(f"credential helper docker-credential-{name} failed (exit {done.returncode}) for {server}")
    try:
        answer = json.loads(done.stdout)
        username, secret = answer["Username"], answer["Secret"]
    except (ValueError, KeyError, TypeError):
        raise UsageError(f"credential helper docker-credential-{name} answered something that is not "
                         "JSON with Username and Secret") from None
    source = f"docker-credential-{name}"
    if username == "<token>":  # docker's convention for an identity token
        return Credentials(identity_token=secret, source=source)
    return Credentials(username, secret, source=source)


def _candidate_keys(registry: str, repository: str) -> list[str]:
    hosts = list(_DOCKER_HUB_KEYS) if registry in _DOCKER_HUB_KEYS else [registry]
    parts = repository.split("/")
    keys = [f"{host}/{'/'.join(parts[:n])}" for n in range(len(parts), 0, -1) for host in hosts]
    return keys + hosts


def _read(path: Path) -> _AuthFile:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return _AuthFile()
    except (OSError, ValueError) as e:
        raise UsageError(f"registry auth file {path} is not valid JSON ({type(e).__name__}); "
                         "fix it or log in again") from None
    if not isinstance(data, dict):
        return _AuthFile()
    auths = data.get("auths") if isinstance(data.get("auths"), dict) else {}
    helpers = data.get("credHelpers") if isinstance(data.get("credHelpers"), dict) else {}
    return _AuthFile({_normalize_key(k): v for k, v in auths.items() if isinstance(v, dict)},
                     {_normalize_key(k): v for k, v in helpers.items() if isinstance(v, str) and v},
                     data.get("credsStore") if isinstance(data.get("credsStore"), str) else "")


def _normalize_key(key: str) -> str:
    """docker's legacy keys are URLs: `https://index.docker.io/v1/` → `index.docker.io`."""
    if "://" in key:
        key = key.split("://", 1)[1].split("/", 1)[0]
    return key.rstrip("/")


def _decode(entry: dict, path: Path, key: str) -> Credentials:
    if entry.get("identitytoken"):
        return Credentials(identity_token=entry["identitytoken"], source=str(path))
    encoded = entry.get("auth") or ""
    try:
        username, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        raise UsageError(f'registry auth file {path}: the "auth" of {key} is not base64 of user:password; '
                         "log in again") from None
    username = username or entry.get("username", "")
    password = password or entry.get("password", "")
    return Credentials(username, password, source=str(path))
