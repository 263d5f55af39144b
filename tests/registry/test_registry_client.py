"""The OCI distribution client against a real registry (Debian's docker-registry 2.8) on 127.0.0.1."""

import json
import socket
import threading

import pytest

from imagetrail.cli.session import credential_store
from imagetrail.engine.adapters.registry.credentials import CredentialStore
from imagetrail.engine.settings import Settings
from imagetrail.engine.domain.errors import ResolveFailed
from imagetrail.engine.domain.references import parse_docker_image_reference as ref
from imagetrail.engine.adapters.registry.client import RegistryClient
from imagetrail.engine.adapters.registry.resolver import Resolver
from registry_harness import LocalRegistry, down_address, push_image, push_index


def client(*auth_files, **settings) -> RegistryClient:
    """A client whose only auth files are `auth_files`, so the machine's own logins never leak in."""
    sleeps = []
    settings.setdefault("sleep", sleeps.append)
    c = RegistryClient(CredentialStore(list(auth_files)), **settings)
    c.sleeps = sleeps
    return c


def auth_file(tmp_path, registry: str, user: str, password: str, name: str = "auth.json"):
    import base64
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"auths": {registry: {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}}}))
    return path


# -- manifests and import modes ------------------------------------------------------------------

@pytest.mark.parametrize("media_type", ["docker", "oci"])
def test_a_single_arch_tag_resolves_to_its_manifest_digest(registry, fresh_repo, media_type):
    digest = push_image(registry, fresh_repo, "1.0", media_type=media_type)
    spec = ref(f"{registry.address}/{fresh_repo}:1.0")
    assert client().resolve(spec, insecure=True) == digest
    assert client().resolve(spec, insecure=True, import_mode="PreserveOriginal") == digest


@pytest.mark.parametrize("media_type", ["oci", "docker"])
def test_legacy_mode_records_the_linux_amd64_manifest_and_preserve_original_the_list(registry, fresh_repo,
                                                                                     media_type):
    index, platforms = push_index(registry, fresh_repo, "multi",
                                  platforms=[("linux", "arm64"), ("linux", "amd64"), ("linux", "ppc64le")],
                                  media_type=media_type)
    spec = ref(f"{registry.address}/{fresh_repo}:multi")
    assert client().resolve(spec, insecure=True) == platforms["linux/amd64"]
    assert client().resolve(spec, insecure=True, import_mode="PreserveOriginal") == index


def test_a_list_without_linux_amd64_falls_back_to_its_first_manifest(registry, fresh_repo):
    _, platforms = push_index(registry, fresh_repo, "arm", platforms=[("linux", "arm64"), ("linux", "s390x")])
    assert client().resolve(ref(f"{registry.address}/{fresh_repo}:arm"), insecure=True) == platforms["linux/arm64"]


def test_a_tag_moved_upstream_resolves_to_the_new_digest(registry, fresh_repo):
    spec = ref(f"{registry.address}/{fresh_repo}:stable")
    first = push_image(registry, fresh_repo, "stable")
    assert client().resolve(spec, insecure=True) == first
    second = push_image(registry, fresh_repo, "stable")
    assert second != first
    assert client().resolve(spec, insecure=True) == second


def test_a_missing_tag_is_not_found_with_the_registrys_own_error(registry, fresh_repo):
    push_image(registry, fresh_repo, "1.0")
    with pytest.raises(ResolveFailed) as failed:
        client().resolve(ref(f"{registry.address}/{fresh_repo}:nope"), insecure=True)
    assert failed.value.reason == "NotFound"
    assert failed.value.message == (f'dockerimage.image.openshift.io "{registry.address}/{fresh_repo}:nope" '
                                    "not found: MANIFEST_UNKNOWN: manifest unknown")


def test_a_missing_repository_is_not_found(registry):
    with pytest.raises(ResolveFailed) as failed:
        client().resolve(ref(f"{registry.address}/nobody/nothing:1"), insecure=True)
    assert failed.value.reason == "NotFound"
    assert "NAME_UNKNOWN" in failed.value.message or "MANIFEST_UNKNOWN" in failed.value.message


def test_a_plain_http_registry_needs_insecure_and_says_so(registry, fresh_repo):
    push_image(registry, fresh_repo, "1.0")
    c = client()
    c.resolve(ref(f"{registry.address}/{fresh_repo}:1.0"), insecure=True)
    with pytest.raises(ResolveFailed) as failed:  # even after an insecure lookup found plain HTTP there
        c.resolve(ref(f"{registry.address}/{fresh_repo}:1.0"))
    assert failed.value.reason == "InternalError"
    assert f"https://{registry.address}/v2/{fresh_repo}/manifests/1.0" in failed.value.message
    assert "--insecure" in failed.value.message


# -- token auth -----------------------------------------------------------------------------------

def test_anonymous_pull_from_a_token_registry_is_unauthorized(token_registry, fresh_repo):
    push_image(token_registry, fresh_repo, "1.0", credentials=("alice", "s3cret"))
    before = token_registry.token_request_count
    with pytest.raises(ResolveFailed) as failed:
        client().resolve(ref(f"{token_registry.address}/{fresh_repo}:1.0"), insecure=True)
    assert failed.value.reason == "Unauthorized"
    assert failed.value.message.startswith(
        f'you may not have access to the container image "{token_registry.address}/{fresh_repo}:1.0"')
    anonymous = token_registry.token_requests[before:]
    assert anonymous and not any(r.authorization for r in anonymous)


def test_credentials_from_an_auth_file_follow_the_bearer_challenge(token_registry, fresh_repo, tmp_path):
    digest = push_image(token_registry, fresh_repo, "1.0", credentials=("alice", "s3cret"))
    before = token_registry.token_request_count
    c = client(auth_file(tmp_path, token_registry.address, "alice", "s3cret"))
    assert c.resolve(ref(f"{token_registry.address}/{fresh_repo}:1.0"), insecure=True) == digest
    asked = token_registry.token_requests[before:]
    assert len(asked) == 1 and asked[0].authorization
    assert f"scope=repository%3A{fresh_repo.replace('/', '%2F')}%3Apull" in asked[0].path
    # the token is reused for the next lookup of the same repository
    assert c.resolve(ref(f"{token_registry.address}/{fresh_repo}:1.0"), insecure=True) == digest
    assert token_registry.token_request_count == before + 1


def test_wrong_credentials_are_refused_and_never_printed(token_registry, fresh_repo, tmp_path):
    push_image(token_registry, fresh_repo, "1.0", credentials=("alice", "s3cret"))
    c = client(auth_file(tmp_path, token_registry.address, "alice", "wrong-password"))
    with pytest.raises(ResolveFailed) as failed:
        c.resolve(ref(f"{token_registry.address}/{fresh_repo}:1.0"), insecure=True)
    assert failed.value.reason == "Unauthorized"
    assert "refused the credentials" in failed.value.message
    assert "wrong-password" not in failed.value.message and "YWxpY2" not in failed.value.message
    assert "wrong-password" not in repr(c)


def test_an_identity_token_is_exchanged_by_the_oauth2_refresh_grant(token_registry, fresh_repo, tmp_path):
    digest = push_image(token_registry, fresh_repo, "1.0", credentials=("alice", "s3cret"))
    token_registry.token_server.refresh_tokens["alice"] = "rt-alice-1"
    path = tmp_path / "auth.json"
    path.write_text(json.dumps({"auths": {token_registry.address: {"auth": "", "identitytoken": "rt-alice-1"}}}))
    before = token_registry.token_request_count
    assert client(path).resolve(ref(f"{token_registry.address}/{fresh_repo}:1.0"), insecure=True) == digest
    assert [(r.user, r.status) for r in token_registry.token_requests[before:]] == [("alice", 200)]
    path.write_text(json.dumps({"auths": {token_registry.address: {"identitytoken": "rt-revoked"}}}))
    with pytest.raises(ResolveFailed) as failed:
        client(path).resolve(ref(f"{token_registry.address}/{fresh_repo}:1.0"), insecure=True)
    assert failed.value.reason == "Unauthorized" and "rt-revoked" not in failed.value.message


def test_the_auth_files_are_searched_in_the_containers_order(token_registry, fresh_repo, tmp_path, monkeypatch):
    digest = push_image(token_registry, fresh_repo, "1.0", credentials=("alice", "s3cret"))
    spec = ref(f"{token_registry.address}/{fresh_repo}:1.0")
    home, runtime = tmp_path / "home", tmp_path / "run"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.delenv("DOCKER_CONFIG", raising=False)
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    # docker's config.json, keyed by URL as `docker login` writes it
    auth_file(home / ".docker", f"http://{token_registry.address}/v1/", "alice", "s3cret", "config.json")
    assert RegistryClient(credential_store(Settings())).resolve(spec, insecure=True) == digest
    # podman's runtime auth.json is read first: a wrong password there wins and fails
    auth_file(runtime / "containers", token_registry.address, "alice", "stale")
    with pytest.raises(ResolveFailed):
        RegistryClient(credential_store(Settings())).resolve(spec, insecure=True)
    # REGISTRY_AUTH_FILE replaces the search
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(auth_file(tmp_path, token_registry.address, "alice", "s3cret")))
    assert RegistryClient(credential_store(Settings())).resolve(spec, insecure=True) == digest


def credential_helper(tmp_path, monkeypatch, logins: dict[str, tuple[str, str]]) -> None:
    """A `docker-credential-keychain` on PATH that speaks the helper protocol over `logins`."""
    import os
    import sys
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(parents=True)
    helper = bin_dir / "docker-credential-keychain"
    helper.write_text(f"""#!{sys.executable}
import json, sys
logins = {json.dumps({k: list(v) for k, v in logins.items()})}
server = sys.stdin.read().strip()
if sys.argv[1:] != ["get"] or server not in logins:
    print("credentials not found in native keychain")
    sys.exit(1)
json.dump({{"ServerURL": server, "Username": logins[server][0], "Secret": logins[server][1]}}, sys.stdout)
""")
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


def test_credential_helpers_are_asked_as_docker_asks_them(token_registry, fresh_repo, tmp_path, monkeypatch):
    digest = push_image(token_registry, fresh_repo, "1.0", credentials=("alice", "s3cret"))
    spec = ref(f"{token_registry.address}/{fresh_repo}:1.0")
    credential_helper(tmp_path, monkeypatch, {token_registry.address: ("alice", "s3cret")})
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"auths": {token_registry.address: {}}, "credsStore": "keychain"}))
    assert client(config).resolve(spec, insecure=True) == digest
    config.write_text(json.dumps({"credHelpers": {token_registry.address: "keychain"}}))
    assert client(config).resolve(spec, insecure=True) == digest
    # the keychain has no login for another registry: anonymous, so Unauthorized
    credential_helper(tmp_path / "other", monkeypatch, {})
    with pytest.raises(ResolveFailed) as failed:
        client(config).resolve(spec, insecure=True)
    assert failed.value.reason == "Unauthorized"


def test_a_credential_helper_that_is_not_installed_is_named(token_registry, fresh_repo, tmp_path):
    from imagetrail.engine.domain.errors import UsageError
    push_image(token_registry, fresh_repo, "1.0", credentials=("alice", "s3cret"))
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"credHelpers": {token_registry.address: "nowhere"}}))
    with pytest.raises(UsageError, match="docker-credential-nowhere is not on PATH"):
        client(config).resolve(ref(f"{token_registry.address}/{fresh_repo}:1.0"), insecure=True)


def test_a_repository_scoped_entry_wins_over_the_registry_entry(tmp_path):
    path = tmp_path / "auth.json"
    path.write_text(json.dumps({"auths": {
        "quay.io": {"auth": "dXNlcjpyZWdpc3RyeQ=="},  # user:registry
        "quay.io/team": {"auth": "dXNlcjp0ZWFt"},  # user:team
        "https://index.docker.io/v1/": {"auth": "aHViOmh1Yg=="},  # hub:hub
    }}))
    store = CredentialStore([path])
    assert store.lookup("quay.io", "team/app").password == "team"
    assert store.lookup("quay.io", "other/app").password == "registry"
    assert store.lookup("docker.io", "library/nginx").username == "hub"
    assert store.lookup("ghcr.io", "team/app") is None


# -- outages ----------------------------------------------------------------------------------------

def test_a_registry_that_is_down_is_retried_with_backoff_then_reported(fresh_repo):
    c = client(retries=2, backoff=0.25)
    address = down_address()
    with pytest.raises(ResolveFailed) as failed:
        c.resolve(ref(f"{address}/{fresh_repo}:1.0"), insecure=True)
    assert failed.value.reason == "InternalError"
    assert failed.value.message == (f"Internal error occurred: [{address}/{fresh_repo}:1.0: HEAD "
                                    f"http://{address}/v2/{fresh_repo}/manifests/1.0: connection refused]")
    assert c.sleeps == [0.25, 0.5] * 2  # https, then plain http (--insecure), each with two retries


def test_a_registry_that_went_down_then_came_back(fresh_repo):
    with LocalRegistry() as local:
        local.start()
        digest = push_image(local, fresh_repo, "1.0")
        spec = ref(f"{local.address}/{fresh_repo}:1.0")
        local.stop()
        with pytest.raises(ResolveFailed, match="connection refused"):
            client(retries=0).resolve(spec, insecure=True)
        local.start()
        assert client(retries=0).resolve(spec, insecure=True) == digest


def test_a_registry_that_never_answers_times_out():
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections into the backlog, never answers
    address = f"127.0.0.1:{silent.getsockname()[1]}"
    try:
        with pytest.raises(ResolveFailed) as failed:
            client(timeout=0.3, retries=1).resolve(ref(f"{address}/team/app:1"))
        assert "timed out" in failed.value.message
    finally:
        silent.close()


def test_server_errors_are_retried_until_the_registry_recovers(registry, fresh_repo):
    """A proxy that answers 503 twice, then forwards to the real registry."""
    import http.server
    import urllib.request

    digest = push_image(registry, fresh_repo, "1.0")
    failures = [503, 503]

    class Flaky(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self):
            if failures:
                self.send_response(failures.pop(0))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            upstream = urllib.request.urlopen(urllib.request.Request(
                registry.url + self.path, method="HEAD", headers={"Accept": self.headers["Accept"]}))
            self.send_response(upstream.status)
            for name in ("Docker-Content-Digest", "Content-Type", "Content-Length"):
                self.send_header(name, upstream.headers[name])
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        c = client(retries=2, backoff=0.1)
        spec = ref(f"127.0.0.1:{server.server_address[1]}/{fresh_repo}:1.0")
        assert c.resolve(spec, insecure=True) == digest
        assert c.sleeps == [0.1, 0.2]
    finally:
        server.shutdown()


# -- the resolver chain ---------------------------------------------------------------------------

def test_the_chain_is_pinned_digest_then_snapshot_then_registry(registry, fresh_repo):
    live = push_image(registry, fresh_repo, "1.0")
    snapshot_digest = "sha256:" + "5" * 64
    pinned = "sha256:" + "7" * 64
    resolver = Resolver({f"{registry.address}/{fresh_repo}:snap": snapshot_digest}, client())
    assert resolver.resolve(f"{registry.address}/{fresh_repo}@{pinned}").digest == pinned
    assert resolver.resolve(f"{registry.address}/{fresh_repo}:snap").digest == snapshot_digest
    resolved = resolver.resolve(f"{registry.address}/{fresh_repo}:1.0", insecure=True)
    assert (resolved.digest, resolved.pull_spec) == (live, f"{registry.address}/{fresh_repo}@{live}")


def test_offline_resolution_never_contacts_the_registry(registry, fresh_repo):
    push_image(registry, fresh_repo, "1.0")
    with pytest.raises(ResolveFailed, match="live registry lookups are off"):
        Resolver({}).resolve(f"{registry.address}/{fresh_repo}:1.0", insecure=True)


# -- TLS and Basic auth ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tls_registry():
    with LocalRegistry(tls=True) as local:
        yield local


@pytest.fixture(scope="module")
def basic_registry():
    with LocalRegistry(basic_auth={"bob": "hunter2"}) as local:
        yield local


def test_a_self_signed_registry_is_refused_unless_insecure(tls_registry, fresh_repo):
    digest = push_image(tls_registry, fresh_repo, "1.0")
    spec = ref(f"{tls_registry.address}/{fresh_repo}:1.0")
    with pytest.raises(ResolveFailed) as failed:
        client().resolve(spec)
    assert "CERTIFICATE_VERIFY_FAILED" in failed.value.message and "--insecure" in failed.value.message
    assert client().resolve(spec, insecure=True) == digest  # unverified TLS (plain HTTP gets a 400 here)


def test_a_private_ca_is_trusted_through_ssl_cert_file(tls_registry, fresh_repo, monkeypatch):
    digest = push_image(tls_registry, fresh_repo, "1.0")
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_registry.cert_path))
    assert client().resolve(ref(f"{tls_registry.address}/{fresh_repo}:1.0")) == digest


def test_a_basic_auth_registry_takes_the_auth_files_password(basic_registry, fresh_repo, tmp_path):
    digest = push_image(basic_registry, fresh_repo, "1.0", credentials=("bob", "hunter2"))
    spec = ref(f"{basic_registry.address}/{fresh_repo}:1.0")
    with pytest.raises(ResolveFailed) as failed:
        client().resolve(spec, insecure=True)
    assert failed.value.reason == "Unauthorized" and "UNAUTHORIZED: authentication required" in failed.value.message
    assert client(auth_file(tmp_path, basic_registry.address, "bob", "hunter2")).resolve(spec, insecure=True) == digest


# -- naming (documentation-checked: Docker Hub is not reachable from here) -------------------------

@pytest.mark.parametrize("spec, host, repository", [
    ("nginx:1.27", "registry-1.docker.io", "library/nginx"),
    ("docker.io/nginx:1.27", "registry-1.docker.io", "library/nginx"),
    ("docker.io/bitnami/nginx:1.27", "registry-1.docker.io", "bitnami/nginx"),
    ("quay.io/keycloak/keycloak:20", "quay.io", "keycloak/keycloak"),
    ("registry.lab:5000/a/b/c:1", "registry.lab:5000", "a/b/c"),
])
def test_pull_specs_name_the_registrys_api_host_and_repository(spec, host, repository):
    from imagetrail.engine.adapters.registry.client import api_host, api_repository
    assert (api_host(ref(spec)), api_repository(ref(spec))) == (host, repository)


def test_challenges_are_parsed_as_rfc_7235_says():
    from imagetrail.engine.adapters.registry.client import parse_challenge
    assert parse_challenge('Bearer realm="https://auth.example/token",service="registry.example",'
                           'scope="repository:a/b:pull",error="insufficient_scope"') == ("bearer", {
                               "realm": "https://auth.example/token", "service": "registry.example",
                               "scope": "repository:a/b:pull", "error": "insufficient_scope"})
    assert parse_challenge('Basic realm="Registry Realm"') == ("basic", {"realm": "Registry Realm"})
