"""`imagetrail diff -f`: what a cluster's objects show that imagetrail's view does not (issue 13 §3)."""

import json

from conftest import A, C, KEYCLOAK


def cluster_dump(it, tmp_path, edit=lambda items: None):
    """What `oc get is,deploy -o json` would print if the cluster were as imagetrail has it, then `edit`ed."""
    items = it("get is -o json").json()["items"] + it("get deploy -o json").json()["items"]
    edit(items)
    path = tmp_path / "cluster.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    return path


def test_no_drift_exits_0_and_prints_nothing(keycloak, tmp_path):
    result = keycloak(f"diff -f {cluster_dump(keycloak, tmp_path)}")
    assert (result.code, result.out) == (0, "")


def test_each_kind_of_drift_is_named_and_exits_1(keycloak, tmp_path):
    keycloak(f"tag {KEYCLOAK}@{A} extra:1")  # imagetrail has a stream the cluster lacks

    def drift(items):
        stream = next(i for i in items if i["kind"] == "ImageStream" and i["metadata"]["name"] == "keycloak")
        entry = next(t for t in stream["status"]["tags"] if t["tag"] == "20")
        entry["items"].insert(0, {**entry["items"][0], "image": C, "dockerImageReference": f"{KEYCLOAK}@{C}"})
        spec = next(t for t in stream["spec"]["tags"] if t["name"] == "20")
        spec["from"] = {"kind": "DockerImage", "name": f"{KEYCLOAK}@{C}"}
        deployment = next(i for i in items if i["kind"] == "Deployment")
        deployment["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.25"  # edited by hand
        annotations = deployment["metadata"]["annotations"]
        annotations["image.openshift.io/triggers"] = annotations["image.openshift.io/triggers"].replace(
            '"fieldPath"', '"paused":true,"fieldPath"')  # oc set triggers --manual, on the cluster
        deployment["spec"]["paused"] = True
        items[:] = [i for i in items if i["metadata"]["name"] != "extra"]
        items.append({"apiVersion": "image.openshift.io/v1", "kind": "ImageStream",
                      "metadata": {"name": "only-there", "namespace": "demo"}, "spec": {}})

    result = keycloak(f"diff -f {cluster_dump(keycloak, tmp_path, drift)}", ok=False)
    assert result.code == 1
    fields = {(d["name"], d["field"]) for d in
              json.loads(keycloak(f"diff -f {tmp_path / 'cluster.json'} -o json", ok=False).out)["differences"]}
    assert fields == {("keycloak", "tag 20"), ("keycloak", "spec tag 20"), ("mykeycloak", "container keycloak"),
                      ("mykeycloak", "triggers"), ("mykeycloak", "paused"), ("extra", "object"),
                      ("only-there", "object")}
    lines = result.out.splitlines()
    assert f"imagestream.image.openshift.io/keycloak -n demo: tag 20: cluster {C}, imagetrail {A}" in lines
    assert "deployment.apps/mykeycloak -n demo: paused: cluster true, imagetrail false" in lines
    assert "imagestream.image.openshift.io/extra -n demo: object: cluster <none>, imagetrail exists" in lines


def test_a_dump_of_streams_alone_says_nothing_of_deployments(keycloak, tmp_path):
    path = cluster_dump(keycloak, tmp_path, lambda items: items.__setitem__(slice(None), items[:1]))
    assert keycloak(f"diff -f {path}").code == 0


def test_bad_input_is_one_line_and_writes_nothing(keycloak, tmp_path):
    before = keycloak.event_count()
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: [")
    result = keycloak.fails(f"diff -f {bad}")
    assert result.err.startswith("error: ") and result.err.count("\n") == 1
    assert keycloak.event_count() == before
