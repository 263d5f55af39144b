"""`imagetrail doctor`: each precondition of image triggers, with the command that fixes it."""

import json

from conftest import KEYCLOAK


def checks(it, name, ok=True):
    result = it(f"doctor deployment/{name} -o json", ok=ok)
    return {(c["container"], c["name"]): c for c in json.loads(result.out)["checks"]}, result.code


def test_the_lecture_deployment_passes_every_check(keycloak):
    found, code = checks(keycloak, "mykeycloak")
    assert code == 0 and all(c["ok"] for c in found.values())
    assert len(found) == 7
    assert keycloak("doctor deployment/mykeycloak").out.startswith("PASS  [keycloak] uses an image stream tag")


def test_a_container_without_a_trigger_fails_with_the_fix(keycloak):
    keycloak("create deployment plain --image nginx:1.25")
    found, code = checks(keycloak, "plain", ok=False)
    assert code == 1
    check = found[("nginx", "uses an image stream tag")]
    assert not check["ok"]
    assert check["fix"] == "imagetrail set triggers deployment/plain --from-image <stream>:<tag> --containers nginx"
    text = keycloak("doctor deployment/plain", ok=False).out
    assert "FAIL  [nginx] uses an image stream tag: runs nginx:1.25, not an image stream tag" in text
    assert "      fix: imagetrail set triggers deployment/plain" in text


def test_manual_triggers_paused_rollouts_and_registry_names_are_named(keycloak):
    keycloak(f"create deployment reg --image {KEYCLOAK}:20.0.2")
    keycloak("set triggers deployment/reg --from-image keycloak:20.0.2 --containers keycloak --manual")
    keycloak("rollout pause deployment/reg")
    found, code = checks(keycloak, "reg", ok=False)
    assert code == 1
    assert found[("keycloak", "trigger is automatic")]["fix"] == "imagetrail set triggers deployment/reg --auto"
    assert found[("", "Deployment not paused")]["fix"] == "imagetrail rollout resume deployment/reg"
    assert found[("keycloak", "refers to the image stream tag, not the registry")]["fix"] == \
        "imagetrail set image deployment/reg keycloak=keycloak:20.0.2"
    keycloak("set triggers deployment/reg --auto")  # the fixes, as printed
    keycloak("rollout resume deployment/reg", ok=False)
    found, code = checks(keycloak, "reg")
    assert code == 0


def test_short_names_without_lookup_unresolved_tags_and_other_namespaces(keycloak):
    keycloak("create istag other:1 --from-image quay.io/keycloak/keycloak:20.0.2")
    keycloak("create deployment short --image other:1")       # lookup is off for "other": stays literal
    keycloak("set triggers deployment/short --from-image other:1 --containers other --manual")
    found, _ = checks(keycloak, "short", ok=False)
    assert found[("other", "local lookup for a short name")]["fix"] == "imagetrail -n demo set image-lookup other"
    keycloak("create deployment ghost --image nginx:1")
    keycloak("set triggers deployment/ghost --from-image nothere:1 --containers nginx")
    found, _ = checks(keycloak, "ghost", ok=False)
    assert not found[("nginx", "tag resolves")]["ok"]
    keycloak("create deployment far --image nginx:1")
    keycloak("set triggers deployment/far --from-image prod/keycloak:20 --containers nginx")
    found, _ = checks(keycloak, "far", ok=False)
    assert found[("nginx", "image stream in the Deployment's namespace")]["detail"] == "prod/keycloak"
