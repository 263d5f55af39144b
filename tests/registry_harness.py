"""A real CNCF distribution registry (Debian's docker-registry 2.8) on 127.0.0.1 for the tests.

Mocked registries agree with whatever the code under test expects; this one answers the way
registries in the field do (digests, content negotiation, Bearer challenges, error JSON).
It runs the binary that `make registry` (a prerequisite of `make test`) unpacks into
compose/.registry, so nothing is installed system-wide and no Docker is needed.

Pushing goes through the registry's HTTP API with the standard library only and never imports
imagetrail: the images a test looks at must not depend on the code the test is checking.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import http.client
import io
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import tarfile
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, urlencode, urljoin, urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_BINARY = ROOT / "compose" / ".registry" / "usr" / "bin" / "docker-registry"
BINARY_ENV = "IMAGETRAIL_TEST_REGISTRY_BIN"

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
ALL_MANIFESTS = ", ".join([OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST])

TOKEN_SERVICE = "imagetrail-test-registry"
TOKEN_ISSUER = "imagetrail-test-issuer"


class RegistryError(RuntimeError):
    """The registry (or its token server) answered something a push did not expect."""


# -- the binary and ports ------------------------------------------------------------------------

def registry_binary() -> Path:
    """The docker-registry binary; missing is an error, never a skip, so CI cannot go green without it."""
    path = Path(os.environ.get(BINARY_ENV) or DEFAULT_BINARY)
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise RuntimeError(
            f"docker-registry binary not found at {path}. Run `make registry` (or `make test`, which "
            f"depends on it) to unpack Debian's docker-registry into compose/.registry, "
            f"or point {BINARY_ENV} at a docker-registry 2.8 binary.")
    return path


def free_port() -> int:
    """A port nothing listens on right now (the OS's pick; a small race with others is accepted)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def down_address() -> str:
    """127.0.0.1:PORT where nothing listens: connections are refused at once."""
    return f"127.0.0.1:{free_port()}"


# -- HTTP ----------------------------------------------------------------------------------------

@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self):
        return json.loads(self.body)


def http_request(method: str, url: str, *, headers: dict | None = None, body: bytes | None = None,
                 timeout: float = 30) -> Response:
    """One plain HTTP exchange that never raises on a status (urllib would, and would follow redirects)."""
    parts = urlsplit(url)
    if parts.scheme == "https":  # the harness's own self-signed registry: no verification needed here
        conn = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=timeout,
                                           context=ssl._create_unverified_context())
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), body=body,
                     headers=headers or {})
        resp = conn.getresponse()
        return Response(resp.status, resp.headers, resp.read())
    finally:
        conn.close()


def _base_url(registry) -> str:
    return registry.url if hasattr(registry, "url") else f"http://{registry}"


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """`Bearer realm="...",service="...",scope="..."` → ("bearer", {realm, service, scope})."""
    scheme, _, rest = header.partition(" ")
    return scheme.lower(), dict(re.findall(r'(\w+)="([^"]*)"', rest))


def fetch_token(realm: str, *, service: str, scope: str, credentials: tuple[str, str] | None = None) -> str:
    """A Bearer token from a token server, as a client does after a challenge (Basic credentials or none)."""
    headers = {}
    if credentials:
        headers["Authorization"] = "Basic " + base64.b64encode(":".join(credentials).encode()).decode()
    resp = http_request("GET", f"{realm}?{urlencode({'service': service, 'scope': scope})}", headers=headers)
    if resp.status != 200:
        raise RegistryError(f"token server {realm} answered {resp.status}: {resp.body.decode(errors='replace')}")
    doc = resp.json()
    return doc.get("token") or doc["access_token"]


class RegistryClient:
    """Requests to one repository of a registry; answers a Bearer challenge once, then reuses the token."""

    def __init__(self, registry, repo: str, *, credentials: tuple[str, str] | None = None,
                 actions: str = "pull"):
        self.base = _base_url(registry)
        self.repo = repo
        self.credentials = credentials
        self.actions = actions
        self.token: str | None = None
        self.basic: str | None = None

    def request(self, method: str, path_or_url: str, *, headers: dict | None = None,
                body: bytes | None = None) -> Response:
        url = urljoin(self.base, path_or_url)
        resp = self._send(method, url, headers, body)
        challenge = resp.headers.get("WWW-Authenticate", "")
        if resp.status == 401 and challenge.lower().startswith("basic") and self.credentials:
            self.basic = "Basic " + base64.b64encode(":".join(self.credentials).encode()).decode()
            resp = self._send(method, url, headers, body)
        elif resp.status == 401 and challenge.lower().startswith("bearer"):
            _, params = parse_challenge(challenge)
            self.token = fetch_token(params["realm"], service=params.get("service", ""),
                                     scope=f"repository:{self.repo}:{self.actions}", credentials=self.credentials)
            resp = self._send(method, url, headers, body)
        return resp

    def _send(self, method, url, headers, body) -> Response:
        headers = dict(headers or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        elif self.basic:
            headers["Authorization"] = self.basic
        return http_request(method, url, headers=headers, body=body)

    def expect(self, status: int, method: str, path_or_url: str, **kwargs) -> Response:
        resp = self.request(method, path_or_url, **kwargs)
        if resp.status != status:
            raise RegistryError(f"{method} {path_or_url} → {resp.status} (wanted {status}): "
                                f"{resp.body.decode(errors='replace')[:2000]}")
        return resp


# -- pushing -------------------------------------------------------------------------------------

def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _canonical(doc: dict) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def _layer(seed: str) -> tuple[bytes, str]:
    """A reproducible gzipped tar with one file: (blob, diff_id of the uncompressed tar)."""
    content = f"imagetrail test layer {seed}\n".encode()
    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo("imagetrail-seed.txt")
        info.size, info.mtime, info.mode = len(content), 0, 0o644
        tar.addfile(info, io.BytesIO(content))
    raw = tar_bytes.getvalue()
    return gzip.compress(raw, mtime=0), _digest(raw)


def _upload_blob(client: RegistryClient, data: bytes) -> dict:
    """POST an upload session, then PUT the whole blob into it (the monolithic two-step upload)."""
    digest = _digest(data)
    started = client.expect(202, "POST", f"/v2/{client.repo}/blobs/uploads/")
    location = urljoin(client.base, started.headers["Location"])
    location += ("&" if "?" in location else "?") + "digest=" + quote(digest)
    client.expect(201, "PUT", location, body=data,
                  headers={"Content-Type": "application/octet-stream"})
    return {"digest": digest, "size": len(data)}


def _put_manifest(client: RegistryClient, reference: str | None, media_type: str, doc: dict) -> tuple[str, int]:
    body = _canonical(doc)
    digest = _digest(body)
    resp = client.expect(201, "PUT", f"/v2/{client.repo}/manifests/{reference or digest}", body=body,
                         headers={"Content-Type": media_type})
    answered = resp.headers.get("Docker-Content-Digest")
    if answered != digest:
        raise RegistryError(f"registry says the manifest is {answered}, its bytes hash to {digest}")
    return digest, len(body)


def _client(registry, repo, credentials, client) -> RegistryClient:
    return client or RegistryClient(registry, repo, credentials=credentials, actions="pull,push")


def push_image(registry, repo: str, tag: str | None, *, os: str = "linux", architecture: str = "amd64",
               variant: str | None = None, seed: str | None = None, media_type: str = "docker",
               credentials: tuple[str, str] | None = None, client: RegistryClient | None = None) -> str:
    """Push a one-layer image (Docker schema 2 or OCI manifest) at `tag`, or by digest when tag is None.

    The seed goes into the config and the layer, so each push without one gets new digests and the
    same seed gives the same digests again. Returns the manifest digest the registry confirmed.
    """
    if media_type not in ("docker", "oci"):
        raise ValueError(f"media_type must be 'docker' or 'oci', not {media_type!r}")
    seed = seed if seed is not None else uuid.uuid4().hex
    oci = media_type == "oci"
    client = _client(registry, repo, credentials, client)
    layer_blob, diff_id = _layer(seed)
    config = {"architecture": architecture, "os": os, "created": "2024-01-01T00:00:00Z",
              "config": {"Labels": {"org.imagetrail.test.seed": seed}},
              "rootfs": {"type": "layers", "diff_ids": [diff_id]},
              "history": [{"created": "2024-01-01T00:00:00Z", "created_by": f"imagetrail test {seed}"}]}
    if variant:
        config["variant"] = variant
    config_ref = _upload_blob(client, _canonical(config))
    layer_ref = _upload_blob(client, layer_blob)
    manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST if oci else DOCKER_MANIFEST,
                "config": {"mediaType": OCI_CONFIG if oci else DOCKER_CONFIG, **config_ref},
                "layers": [{"mediaType": OCI_LAYER if oci else DOCKER_LAYER, **layer_ref}]}
    digest, _ = _put_manifest(client, tag, manifest["mediaType"], manifest)
    return digest


def push_index(registry, repo: str, tag: str | None, platforms=(("linux", "amd64"), ("linux", "arm64")), *,
               seed: str | None = None, media_type: str = "oci",
               credentials: tuple[str, str] | None = None) -> tuple[str, dict[str, str]]:
    """Push one image per platform by digest, then an OCI index or Docker manifest list of them at `tag`.

    Platforms are (os, architecture) or (os, architecture, variant). Returns the index digest and
    {"os/arch[/variant]": manifest digest}.
    """
    if media_type not in ("docker", "oci"):
        raise ValueError(f"media_type must be 'docker' or 'oci', not {media_type!r}")
    seed = seed if seed is not None else uuid.uuid4().hex
    client = _client(registry, repo, credentials, None)
    entries, digests = [], {}
    for os_name, arch, *rest in platforms:
        variant = rest[0] if rest else None
        key = "/".join(p for p in (os_name, arch, variant) if p)
        digest = push_image(registry, repo, None, os=os_name, architecture=arch, variant=variant,
                            seed=f"{seed}/{key}", media_type=media_type, client=client)
        size = int(client.expect(200, "HEAD", f"/v2/{repo}/manifests/{digest}",
                                 headers={"Accept": ALL_MANIFESTS}).headers["Content-Length"])
        platform = {"architecture": arch, "os": os_name, **({"variant": variant} if variant else {})}
        entries.append({"mediaType": OCI_MANIFEST if media_type == "oci" else DOCKER_MANIFEST,
                        "digest": digest, "size": size, "platform": platform})
        digests[key] = digest
    index_type = OCI_INDEX if media_type == "oci" else DOCKER_LIST
    index_digest, _ = _put_manifest(client, tag, index_type,
                                    {"schemaVersion": 2, "mediaType": index_type, "manifests": entries})
    return index_digest, digests


def manifest_digest(registry, repo: str, reference: str, accept: str = ALL_MANIFESTS, *,
                    credentials: tuple[str, str] | None = None) -> str:
    """HEAD a manifest and return the registry's Docker-Content-Digest (what a client would pin)."""
    client = RegistryClient(registry, repo, credentials=credentials)
    resp = client.expect(200, "HEAD", f"/v2/{repo}/manifests/{reference}", headers={"Accept": accept})
    return resp.headers["Docker-Content-Digest"]


# -- token auth ----------------------------------------------------------------------------------

def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def libtrust_key_id(public_key) -> str:
    """The `kid` registry 2.8 looks its trusted keys up by (docker/libtrust keyIDFromCryptoKey)."""
    from cryptography.hazmat.primitives import serialization

    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    b32 = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(b32[i:i + 4] for i in range(0, len(b32), 4))


@dataclass
class TokenRequest:
    """What the token server saw: enough for a test to assert the Bearer flow really happened."""
    path: str
    authorization: bool
    user: str | None
    scopes: list[str]
    status: int


@dataclass
class TokenServer:
    """A Docker-style token server (GET /token) signing RS256 JWTs that the registry trusts via `kid`.

    Valid Basic credentials get what they ask for; anonymous callers get a token with no access
    (as Docker Hub answers for private repositories); wrong credentials get 401.
    """
    users: dict[str, str]
    workdir: Path
    service: str = TOKEN_SERVICE
    issuer: str = TOKEN_ISSUER
    requests: list[TokenRequest] = field(default_factory=list)
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # user → OAuth2 refresh token

    def __post_init__(self):
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.issuer)])
        now = datetime.now(timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(self._key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
                .sign(self._key, hashes.SHA256()))
        self.cert_path = self.workdir / "token-signer.pem"
        self.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self.key_id = libtrust_key_id(self._key.public_key())
        self._server: ThreadingHTTPServer | None = None

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/token"

    def start(self) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                """The OAuth2 refresh-token grant `docker login` sets up (auth file `identitytoken`)."""
                form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode())
                self._reply(*server._refresh(self.path, form))

            def do_GET(self):
                self._reply(*server._answer(self.path, self.headers.get("Authorization")))

            def _reply(self, status: int, doc: dict):
                body = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                if status == 401:
                    self.send_header("WWW-Authenticate", f'Basic realm="{server.issuer}"')
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):  # keep pytest output clean
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="token-server", daemon=True).start()

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _refresh(self, path: str, form: dict[str, list[str]]) -> tuple[int, dict]:
        scopes = [s for value in form.get("scope", []) for s in value.split(" ") if s]
        token = (form.get("refresh_token") or [""])[0]
        user = next((u for u, t in self.refresh_tokens.items() if t == token), None)
        good = urlsplit(path).path == "/token" and form.get("grant_type") == ["refresh_token"] and user
        self.requests.append(TokenRequest(path, bool(token), user, scopes, 200 if good else 401))
        if not good:
            return 401, {"error": "invalid_grant"}
        return 200, {"access_token": self.sign(user, [self._grant(scope) for scope in scopes]),
                     "expires_in": 300, "scope": " ".join(scopes)}

    def _answer(self, path: str, authorization: str | None) -> tuple[int, dict]:
        parts = urlsplit(path)
        query = parse_qs(parts.query)
        scopes = [s for value in query.get("scope", []) for s in value.split(" ") if s]
        user = None
        if authorization:
            scheme, _, value = authorization.partition(" ")
            try:
                user, _, password = base64.b64decode(value).decode().partition(":")
            except ValueError:
                user, password = None, None
            if scheme.lower() != "basic" or user is None or self.users.get(user) != password:
                self.requests.append(TokenRequest(path, True, user, scopes, 401))
                return 401, {"errors": [{"code": "UNAUTHORIZED", "message": "invalid credentials"}]}
        if parts.path != "/token":
            self.requests.append(TokenRequest(path, bool(authorization), user, scopes, 404))
            return 404, {"errors": [{"code": "NOT_FOUND", "message": parts.path}]}
        access = [self._grant(scope) for scope in scopes] if user else []
        self.requests.append(TokenRequest(path, bool(authorization), user, scopes, 200))
        token = self.sign(user or "", access)
        issued = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return 200, {"token": token, "access_token": token, "expires_in": 300, "issued_at": issued}

    @staticmethod
    def _grant(scope: str) -> dict:
        """`repository:team/app:pull,push` → the access entry granting exactly those actions."""
        kind, _, rest = scope.partition(":")
        name, _, actions = rest.rpartition(":")
        return {"type": kind, "name": name, "actions": [a for a in actions.split(",") if a]}

    def sign(self, subject: str, access: list[dict], *, lifetime: int = 300) -> str:
        """An RS256 JWT with the claims registry 2.8's token verifier checks (iss, aud, exp, nbf, access)."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "kid": self.key_id}
        claims = {"iss": self.issuer, "sub": subject, "aud": self.service, "exp": now + lifetime,
                  "nbf": now - 10, "iat": now, "jti": uuid.uuid4().hex, "access": access}
        signing_input = f"{_b64url(_canonical(header))}.{_b64url(_canonical(claims))}".encode()
        signature = self._key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input.decode()}.{_b64url(signature)}"


# -- the registry --------------------------------------------------------------------------------

def _self_signed_certificate(workdir: Path, ip: str) -> tuple[Path, Path]:
    """A key and a self-signed certificate valid for `ip`, usable as its own CA bundle."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"imagetrail test registry {ip}")])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    workdir.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = workdir / "registry.crt", workdir / "registry.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class LocalRegistry:
    """`docker-registry serve` on 127.0.0.1:PORT with filesystem storage in a work directory.

    stop() ends only the registry process (a registry outage); start() brings it back on the same
    port and storage. close() (or leaving the `with` block) also stops the token server and removes
    a work directory it created.
    """

    def __init__(self, *, token_auth: bool = False, users: dict[str, str] | None = None,
                 basic_auth: dict[str, str] | None = None, tls: bool = False,
                 workdir: str | Path | None = None, start_timeout: float = 30):
        self._own_workdir = workdir is None
        self.workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="imagetrail-registry-"))
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.url = f"{'https' if tls else 'http'}://{self.address}"
        # TLS with a self-signed certificate for 127.0.0.1; a client trusts it through `cert_path`
        self.cert_path = self.key_path = None
        if tls:
            self.cert_path, self.key_path = _self_signed_certificate(self.workdir, "127.0.0.1")
        self.htpasswd_path = None
        if basic_auth:  # registry 2.8 reads bcrypt entries only
            import bcrypt
            self.htpasswd_path = self.workdir / "htpasswd"
            self.htpasswd_path.write_text("".join(
                f"{user}:{bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=5)).decode()}\n"
                for user, password in basic_auth.items()))
        self.log_path = self.workdir / "registry.log"
        self.config_path = self.workdir / "config.yml"
        self.start_timeout = start_timeout
        self.token_server = TokenServer(dict(users or {}), self.workdir) if token_auth else None
        self._process: subprocess.Popen | None = None
        self._log = None

    # the token server's record, for Bearer-flow assertions
    @property
    def token_requests(self) -> list[TokenRequest]:
        return self.token_server.requests if self.token_server else []

    @property
    def token_request_count(self) -> int:
        return len(self.token_requests)

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _config(self) -> dict:
        config = {
            "version": "0.1",
            "log": {"level": "warn", "formatter": "text", "accesslog": {"disabled": True}},
            "storage": {"filesystem": {"rootdirectory": str(self.workdir / "storage")},
                        "delete": {"enabled": True}},
            # A fixed secret: no warning at startup, and uploads survive a restart.
            "http": {"addr": self.address, "secret": f"imagetrail-test-{self.port}"},
        }
        if self.cert_path:
            config["http"]["tls"] = {"certificate": str(self.cert_path), "key": str(self.key_path)}
        if self.htpasswd_path:
            config["auth"] = {"htpasswd": {"realm": "imagetrail-test", "path": str(self.htpasswd_path)}}
        if self.token_server:
            config["auth"] = {"token": {"realm": self.token_server.realm, "service": self.token_server.service,
                                        "issuer": self.token_server.issuer,
                                        "rootcertbundle": str(self.token_server.cert_path)}}
        return config

    def start(self) -> "LocalRegistry":
        if self.running:
            return self
        binary = registry_binary()
        if self.token_server and self.token_server._server is None:
            self.token_server.start()
        self.config_path.write_text(yaml.safe_dump(self._config(), sort_keys=False))
        self._log = open(self.log_path, "ab")
        # the registry reads REGISTRY_* variables as config overrides (REGISTRY_AUTH_FILE → auth.file)
        env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
        self._process = subprocess.Popen([str(binary), "serve", str(self.config_path)], cwd=self.workdir, env=env,
                                         stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._fail(f"docker-registry exited with {self._process.returncode} at startup")
            try:
                if http_request("GET", f"{self.url}/v2/", timeout=2).status in (200, 401):
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        self._fail(f"docker-registry did not answer GET /v2/ on {self.address} within {self.start_timeout} s")

    def _fail(self, message: str):
        self.stop()
        raise RuntimeError(f"{message}; last lines of {self.log_path}:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    def stop(self) -> None:
        """Terminate the registry process and wait for it (a clean outage: connections are refused)."""
        if self._process is not None:
            if self._process.poll() is None:
                self._process.terminate()
                try:
                    self._process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait()
            self._process = None
        if self._log:
            self._log.close()
            self._log = None

    def close(self) -> None:
        self.stop()
        if self.token_server:
            self.token_server.stop()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "LocalRegistry":
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"LocalRegistry({self.url}, token_auth={self.token_server is not None}, "
                f"basic_auth={self.htpasswd_path is not None})")
