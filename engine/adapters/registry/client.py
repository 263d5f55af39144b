"""A client of the OCI distribution API: resolve `registry/repo:tag` to a manifest digest.

Speaks what OpenShift's importer speaks: manifest HEAD/GET with the four manifest
media types, the Bearer token challenge (anonymous or with credentials from the
standard auth files, see `credentials.py`), Basic auth, timeouts and retries with
backoff. `Legacy` import mode picks the linux/amd64 manifest out of a manifest
list or index; `PreserveOriginal` keeps the list's own digest.

Credentials live only in memory for one request; they never reach an error message,
a log line or an event.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import re
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Callable

from imagetrail.engine.adapters.registry.credentials import Credentials, CredentialStore
from imagetrail.engine.domain.parsing import setting_number
from imagetrail.engine.domain.errors import ResolveFailed, UsageError
from imagetrail.engine.domain.references import DockerImageReference

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MANIFEST_LISTS = (OCI_INDEX, DOCKER_LIST)
ACCEPT = ", ".join((OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST))

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
DEFAULT_PLATFORM = ("linux", "amd64")
USER_AGENT = "imagetrail"


@dataclass(frozen=True)
class Manifest:
    digest: str
    media_type: str


@dataclass
class _Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    @property
    def media_type(self) -> str:
        return self.header("Content-Type").split(";")[0].strip()


class _Unreachable(Exception):
    """The connection itself failed (refused, reset, timed out, TLS)."""

    def __init__(self, cause: BaseException, *, permanent: bool = False):
        super().__init__(str(cause))
        self.cause = cause
        self.permanent = permanent


@dataclass
class RegistryClient:
    credentials: CredentialStore = field(default_factory=CredentialStore)
    timeout: float = 10.0
    retries: int = 2  # extra attempts after the first, for connection errors, 5xx and 429
    backoff: float = 0.5  # seconds before the first retry; doubles each time
    platform: tuple[str, str] = DEFAULT_PLATFORM
    sleep: Callable[[float], None] = time.sleep
    _authorizations: dict[tuple[str, str], str] = field(default_factory=dict, repr=False)
    _schemes: dict[tuple[str, bool], str] = field(default_factory=dict, repr=False)
    _contexts: dict[bool, ssl.SSLContext] = field(default_factory=dict, repr=False)

    @classmethod
    def configured(cls, credentials: CredentialStore, *, timeout: str | None = None, retries: str | None = None,
                   backoff: str | None = None, platform: str | None = None) -> RegistryClient:
        """From the raw IMAGETRAIL_REGISTRY_TIMEOUT / _RETRIES / _BACKOFF and IMAGETRAIL_IMPORT_PLATFORM
        (the cluster's architecture, which Legacy imports pick from a list); unset means the default."""
        def number(name: str, raw: str | None, default: float, whole: bool = False) -> float:
            return setting_number(name, raw, default, maximum=3600.0, whole=whole)
        platform = platform or "/".join(DEFAULT_PLATFORM)
        os_, _, arch = platform.partition("/")
        if not os_ or not arch or "/" in arch:
            raise UsageError(f"IMAGETRAIL_IMPORT_PLATFORM={platform} is not OS/ARCH (e.g. linux/arm64); "
                             "fix or unset it")
        return cls(credentials, platform=(os_, arch),
                   timeout=number("IMAGETRAIL_REGISTRY_TIMEOUT", timeout, 10.0),
                   retries=int(number("IMAGETRAIL_REGISTRY_RETRIES", retries, 2, whole=True)),
                   backoff=number("IMAGETRAIL_REGISTRY_BACKOFF", backoff, 0.5))

    # -- resolving ---------------------------------------------------------------------

    def resolve(self, ref: DockerImageReference, *, insecure: bool = False,
                import_mode: str = "Legacy") -> str:
        """The digest OpenShift records for `ref` under `import_mode`."""
        self.credentials.check()
        manifest = self.head_manifest(ref, ref.tag or "latest", insecure=insecure)
        if manifest.media_type in MANIFEST_LISTS and import_mode != "PreserveOriginal":
            return self._platform_digest(ref, manifest.digest, insecure=insecure)
        return manifest.digest

    def head_manifest(self, ref: DockerImageReference, reference: str, *, insecure: bool = False) -> Manifest:
        """HEAD the manifest; GET it when the HEAD gives no digest, or failed (a HEAD has no error body)."""
        response = self._manifest_request(ref, reference, "HEAD", insecure=insecure)
        digest = response.header("Docker-Content-Digest")
        if response.status == 200 and digest and response.media_type:
            return Manifest(digest, response.media_type)
        response = self._manifest_request(ref, reference, "GET", insecure=insecure)
        if response.status != 200:
            raise _failure(ref, response)
        return Manifest(_verified_digest(ref, response), response.media_type)

    def _platform_digest(self, ref: DockerImageReference, list_digest: str, *, insecure: bool) -> str:
        response = self._manifest_request(ref, list_digest, "GET", insecure=insecure)
        if response.status != 200:
            raise _failure(ref, response)
        _verified_digest(ref, response, expected=list_digest)
        try:
            entries = json.loads(response.body)["manifests"]
            platforms = [((m.get("platform") or {}).get("os"), (m.get("platform") or {}).get("architecture"),
                          m["digest"]) for m in entries]
        except (ValueError, KeyError, TypeError) as e:
            raise ResolveFailed("InternalError", f"{ref.name_string()}: the manifest list is not valid: {e}") from None
        if not platforms:
            raise ResolveFailed("InternalError", f"{ref.name_string()}: the manifest list has no manifests")
        for os_, arch, digest in platforms:
            if (os_, arch) == self.platform:
                return digest
        return platforms[0][2]  # like OpenShift: the preferred platform, else the first entry

    # -- HTTP with auth, retries and scheme fallback -------------------------------------

    def _manifest_request(self, ref: DockerImageReference, reference: str, method: str, *,
                          insecure: bool) -> _Response:
        host, repository = api_host(ref), api_repository(ref)
        path = f"/v2/{repository}/manifests/{urllib.parse.quote(reference, safe=':')}"
        return self._authorized(ref, host, repository, method, path, insecure=insecure)

    def _authorized(self, ref: DockerImageReference, host: str, repository: str, method: str, path: str, *,
                    insecure: bool) -> _Response:
        headers = {"Accept": ACCEPT}
        token = self._authorizations.get((host, repository))
        if token:
            headers["Authorization"] = token
        response = self._send(ref, host, method, path, headers, insecure=insecure)
        if response.status != 401:
            return response
        authorization = self._answer_challenge(ref, host, repository, response, insecure=insecure)
        if authorization is None:
            return response
        self._authorizations[(host, repository)] = authorization
        return self._send(ref, host, method, path, {**headers, "Authorization": authorization}, insecure=insecure)

    def _answer_challenge(self, ref: DockerImageReference, host: str, repository: str, response: _Response, *,
                          insecure: bool) -> str | None:
        scheme, params = parse_challenge(response.header("WWW-Authenticate"))
        credentials = self.credentials.lookup(ref.registry or DOCKER_HUB, ref.name_string())
        if scheme == "basic":
            return credentials.basic_header() if credentials and credentials.username else None
        if scheme != "bearer" or not params.get("realm"):
            return None
        token = self._fetch_token(ref, params, f"repository:{repository}:pull", credentials, insecure=insecure)
        return f"Bearer {token}"

    def _fetch_token(self, ref: DockerImageReference, challenge: dict[str, str], scope: str,
                     credentials: Credentials | None, *, insecure: bool) -> str:
        realm = challenge["realm"]
        query = {"scope": scope, **({"service": challenge["service"]} if challenge.get("service") else {})}
        headers: dict[str, str] = {}
        body = None
        if credentials and credentials.identity_token:  # OAuth2 refresh token, as docker login stores it
            body = urllib.parse.urlencode({"grant_type": "refresh_token", "refresh_token": credentials.identity_token,
                                           "client_id": USER_AGENT, **query}).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif credentials and credentials.username:
            headers["Authorization"] = credentials.basic_header()
        url = realm if body else f"{realm}{'&' if '?' in realm else '?'}{urllib.parse.urlencode(query)}"
        response = self._fetch(url, "POST" if body else "GET", headers, body, insecure=insecure)
        if response.status in (401, 403):
            raise ResolveFailed("Unauthorized", f'you may not have access to the container image "{ref.exact()}": '
                                f"the token service {_origin(realm)} refused the "
                                f"{'credentials' if credentials else 'anonymous request'} "
                                f"(HTTP {response.status}{_registry_says(response)})")
        if response.status != 200:
            raise ResolveFailed("InternalError", f"{ref.exact()}: the token service {_origin(realm)} answered "
                                f"HTTP {response.status}{_registry_says(response)}")
        try:
            answer = json.loads(response.body)
            return answer.get("token") or answer["access_token"]
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ResolveFailed("InternalError", f"{ref.exact()}: the token service {_origin(realm)} "
                                "answered without a token") from None

    def _send(self, ref: DockerImageReference, host: str, method: str, path: str, headers: dict[str, str], *,
              insecure: bool) -> _Response:
        """One request to the registry, HTTPS first; with `insecure`, unverified TLS, then plain HTTP."""
        # a secure tag never inherits the plain-HTTP fallback an insecure tag of the same host found
        known = self._schemes.get((host, insecure))
        schemes = [known] if known else (["https", "http"] if insecure else ["https"])
        last: _Unreachable | None = None
        for scheme in schemes:
            try:
                response = self._fetch(f"{scheme}://{host}{path}", method, headers, None, insecure=insecure)
            except _Unreachable as e:
                last = e
                continue
            self._schemes[(host, insecure)] = scheme
            return response
        assert last is not None
        hint = ""
        if isinstance(last.cause, ssl.SSLError) and not insecure:
            hint = " (if the registry speaks plain HTTP or has a self-signed certificate, import with --insecure)"
        raise ResolveFailed("InternalError", f"Internal error occurred: [{ref.exact()}: {method} "
                            f"{schemes[-1]}://{host}{path}: {_describe(last.cause)}]{hint}")

    def _fetch(self, url: str, method: str, headers: dict[str, str], body: bytes | None, *,
               insecure: bool) -> _Response:
        """The request with retries and exponential backoff on connection errors, 5xx and 429."""
        for attempt in range(self.retries + 1):
            try:
                response = self._once(url, method, headers, body, insecure=insecure)
                if response.status not in (429, 500, 502, 503, 504) or attempt == self.retries:
                    return response
            except _Unreachable as e:
                if e.permanent or attempt == self.retries:
                    raise
            self.sleep(self.backoff * 2 ** attempt)
        raise AssertionError("unreachable")

    def _tls_context(self, insecure: bool) -> ssl.SSLContext:
        """One context per kind for the client's life: loading the CA bundle costs ~50 ms."""
        if insecure not in self._contexts:
            context = ssl.create_default_context()
            if insecure:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            self._contexts[insecure] = context
        return self._contexts[insecure]

    def _once(self, url: str, method: str, headers: dict[str, str], body: bytes | None, *,
              insecure: bool) -> _Response:
        context = self._tls_context(insecure)
        request = urllib.request.Request(url, data=body, method=method,
                                         headers={"User-Agent": USER_AGENT, **headers})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout, context=context) as r:
                return _Response(r.status, {k.lower(): v for k, v in r.headers.items()}, r.read())
        except urllib.error.HTTPError as e:
            with e:
                return _Response(e.code, {k.lower(): v for k, v in e.headers.items()}, e.read())
        except urllib.error.URLError as e:
            cause = e.reason if isinstance(e.reason, BaseException) else e
            # a name that does not resolve, or a TLS handshake that fails, will not get better in a second
            raise _Unreachable(cause, permanent=isinstance(cause, (socket.gaierror, ssl.SSLError))) from None
        except (OSError, http.client.HTTPException) as e:  # timeouts, resets mid-response
            raise _Unreachable(e) from None


# -- naming: the registry's API host and repository for a pull spec -----------------------

def api_host(ref: DockerImageReference) -> str:
    registry = ref.registry or DOCKER_HUB
    return DOCKER_HUB_API if registry in (DOCKER_HUB, "index.docker.io") else registry


def api_repository(ref: DockerImageReference) -> str:
    name = ref.name_string()
    if (ref.registry or DOCKER_HUB) in (DOCKER_HUB, "index.docker.io") and "/" not in name:
        return f"library/{name}"
    return name


# -- challenges, digests and errors ------------------------------------------------------

_CHALLENGE_PARAM = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """`Bearer realm="…",service="…"` → ("bearer", {"realm": …, "service": …})."""
    scheme, _, rest = header.strip().partition(" ")
    params = {m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
              for m in _CHALLENGE_PARAM.finditer(rest)}
    return scheme.lower(), params


def _verified_digest(ref: DockerImageReference, response: _Response, expected: str = "") -> str:
    actual = "sha256:" + hashlib.sha256(response.body).hexdigest()
    claimed = expected or response.header("Docker-Content-Digest")
    if claimed and claimed.startswith("sha256:") and claimed != actual:
        raise ResolveFailed("InternalError", f"{ref.exact()}: the registry sent a manifest whose digest "
                            f"{actual} does not match {claimed}")
    return claimed or actual


def _failure(ref: DockerImageReference, response: _Response) -> ResolveFailed:
    says = _registry_says(response)
    if response.status == 404:
        return ResolveFailed("NotFound", f'dockerimage.image.openshift.io "{ref.exact()}" not found{says}')
    if response.status in (401, 403):
        return ResolveFailed("Unauthorized", f'you may not have access to the container image "{ref.exact()}"'
                             f"{says} (log in with `podman login {ref.registry or DOCKER_HUB}` or set "
                             "REGISTRY_AUTH_FILE)")
    return ResolveFailed("InternalError",
                         f"Internal error occurred: [{ref.exact()}: HTTP {response.status}{says}]")


def _registry_says(response: _Response) -> str:
    """The registry's own error list, `: CODE: message; …`, or nothing."""
    try:
        errors = json.loads(response.body).get("errors") or []
        said = "; ".join(f"{e.get('code', '')}: {e.get('message', '')}".strip(": ") for e in errors)
    except (ValueError, AttributeError, TypeError):
        said = response.body[:200].decode(errors="replace").strip()
    return f": {said}" if said else ""


def _describe(error: BaseException) -> str:
    if isinstance(error, socket.gaierror):
        return f"lookup failed: {error.strerror or error}"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, (socket.timeout, TimeoutError)):
        return "timed out"
    return str(error) or type(error).__name__


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"

