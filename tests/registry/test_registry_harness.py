"""The registry harness against the real docker-registry binary: if these fail, registry tests prove nothing."""

import pytest

from registry_harness import (
    DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, TOKEN_SERVICE, LocalRegistry, RegistryError,
    down_address, fetch_token, http_request, manifest_digest, parse_challenge, push_image, push_index,
    registry_binary,
)

ALICE = ("alice", "s3cret")


@pytest.mark.parametrize("media_type, content_type", [("docker", DOCKER_MANIFEST), ("oci", OCI_MANIFEST)])
def test_single_arch_push_heads_back_with_the_same_digest(registry, fresh_repo, media_type, content_type):
    digest = push_image(registry, fresh_repo, "v1", media_type=media_type)
    resp = http_request("HEAD", f"{registry.url}/v2/{fresh_repo}/manifests/v1", headers={"Accept": content_type})
    assert resp.status == 200
    assert resp.headers["Docker-Content-Digest"] == digest
    assert resp.headers["Content-Type"] == content_type
    assert manifest_digest(registry, fresh_repo, digest) == digest


def test_each_push_is_a_new_digest_and_a_seed_repeats_one(registry, fresh_repo):
    first, second = push_image(registry, fresh_repo, "v1"), push_image(registry, fresh_repo, "v1")
    assert first != second
    assert manifest_digest(registry, fresh_repo, "v1") == second
    assert push_image(registry, fresh_repo, "a", seed="s") == push_image(registry, fresh_repo, "b", seed="s")
    assert push_image(registry, fresh_repo, "c", seed="s", architecture="arm64") != manifest_digest(
        registry, fresh_repo, "a")


@pytest.mark.parametrize("media_type, index_type", [("oci", OCI_INDEX), ("docker", DOCKER_LIST)])
def test_index_heads_back_as_the_index(registry, fresh_repo, media_type, index_type):
    index, platforms = push_index(registry, fresh_repo, "multi", media_type=media_type)
    assert set(platforms) == {"linux/amd64", "linux/arm64"}
    resp = http_request("HEAD", f"{registry.url}/v2/{fresh_repo}/manifests/multi", headers={"Accept": index_type})
    assert (resp.status, resp.headers["Docker-Content-Digest"], resp.headers["Content-Type"]) == (
        200, index, index_type)
    body = http_request("GET", f"{registry.url}/v2/{fresh_repo}/manifests/{index}",
                        headers={"Accept": index_type}).json()
    assert {f"{m['platform']['os']}/{m['platform']['architecture']}": m["digest"]
            for m in body["manifests"]} == platforms


def test_oci_index_is_unknown_to_a_client_that_does_not_accept_it(registry, fresh_repo):
    """Registry 2.8 neither falls back to a platform manifest nor converts: 404 MANIFEST_UNKNOWN."""
    push_index(registry, fresh_repo, "multi", media_type="oci")
    resp = http_request("GET", f"{registry.url}/v2/{fresh_repo}/manifests/multi",
                        headers={"Accept": DOCKER_MANIFEST})
    assert resp.status == 404
    assert resp.json()["errors"][0]["code"] == "MANIFEST_UNKNOWN"


def test_missing_tag_is_404_manifest_unknown(registry, fresh_repo):
    push_image(registry, fresh_repo, "v1")
    resp = http_request("GET", f"{registry.url}/v2/{fresh_repo}/manifests/nope")
    assert resp.status == 404
    assert resp.json() == {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown",
                                       "detail": {"Tag": "nope"}}]}


def test_token_registry_challenges_anonymous_clients_and_accepts_alices_token(token_registry, fresh_repo):
    before = token_registry.token_request_count
    digest = push_image(token_registry, fresh_repo, "v1", credentials=ALICE)
    pushed_with = token_registry.token_requests[before:]
    assert pushed_with and all(r.authorization and r.user == "alice" and r.status == 200 for r in pushed_with)
    assert pushed_with[0].scopes == [f"repository:{fresh_repo}:pull,push"]

    url = f"{token_registry.url}/v2/{fresh_repo}/manifests/v1"
    anonymous = http_request("GET", url, headers={"Accept": DOCKER_MANIFEST})
    assert anonymous.status == 401
    assert anonymous.json()["errors"][0]["code"] == "UNAUTHORIZED"
    scheme, challenge = parse_challenge(anonymous.headers["WWW-Authenticate"])
    assert scheme == "bearer"
    assert challenge == {"realm": token_registry.token_server.realm, "service": TOKEN_SERVICE,
                         "scope": f"repository:{fresh_repo}:pull"}

    token = fetch_token(challenge["realm"], service=challenge["service"], scope=challenge["scope"], credentials=ALICE)
    resp = http_request("GET", url, headers={"Accept": DOCKER_MANIFEST, "Authorization": f"Bearer {token}"})
    assert resp.status == 200 and resp.headers["Docker-Content-Digest"] == digest
    assert manifest_digest(token_registry, fresh_repo, "v1", credentials=ALICE) == digest


def test_token_registry_refuses_anonymous_tokens_and_wrong_passwords(token_registry, fresh_repo):
    push_image(token_registry, fresh_repo, "v1", credentials=ALICE)
    realm = token_registry.token_server.realm
    scope = f"repository:{fresh_repo}:pull"
    empty = fetch_token(realm, service=TOKEN_SERVICE, scope=scope)  # anonymous: a token without access
    resp = http_request("GET", f"{token_registry.url}/v2/{fresh_repo}/manifests/v1",
                        headers={"Authorization": f"Bearer {empty}"})
    assert resp.status == 401 and 'error="insufficient_scope"' in resp.headers["WWW-Authenticate"]
    assert token_registry.token_requests[-1].authorization is False
    with pytest.raises(RegistryError, match="401"):
        fetch_token(realm, service=TOKEN_SERVICE, scope=scope, credentials=("alice", "wrong"))
    with pytest.raises(RegistryError, match="401"):
        push_image(token_registry, fresh_repo, "v2")


def test_registry_can_go_down_and_come_back(tmp_path):
    with LocalRegistry(workdir=tmp_path) as local:
        digest = push_image(local, "team/app", "v1")
        local.stop()
        with pytest.raises(ConnectionRefusedError):
            manifest_digest(local, "team/app", "v1")
        local.start()
        assert manifest_digest(local, "team/app", "v1") == digest  # same port, same storage


def test_down_address_refuses_connections():
    with pytest.raises(ConnectionRefusedError):
        http_request("GET", f"http://{down_address()}/v2/")


def test_missing_binary_is_an_error_that_says_how_to_get_it(monkeypatch, tmp_path):
    monkeypatch.setenv("IMAGETRAIL_TEST_REGISTRY_BIN", str(tmp_path / "nothing-here"))
    with pytest.raises(RuntimeError, match="make registry"):
        registry_binary()
