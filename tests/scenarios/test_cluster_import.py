"""`imagetrail import -f`: a cluster's existing objects, spec and whole history, as bootstrap events."""

import json
from pathlib import Path

import yaml

FIXTURES = Path(__file__).parents[1] / "fixtures"
HISTORY = FIXTURES / "imagestream_status_history__openshift-docs.yaml"


def items_of(doc: dict) -> dict:
    return {t["tag"]: [{k: i[k] for k in ("created", "dockerImageReference", "image", "generation")}
                       for i in t["items"]] for t in doc["status"].get("tags", [])}


def test_an_imagestream_dump_comes_back_with_its_whole_history(imagetrail):
    source = yaml.safe_load("\n".join(line for line in HISTORY.read_text().splitlines() if not line.startswith("#")))
    out = imagetrail(f"import -f {HISTORY}").out
    assert out == "imagestream.image.openshift.io/origin-ruby-sample imported (0 spec tags, 2 history entries added)\n"
    doc = imagetrail("-n test get is origin-ruby-sample -o json").json()
    expected = {t["tag"]: [{**i, "created": i["created"].isoformat().replace("+00:00", "Z")
                            if hasattr(i["created"], "isoformat") else i["created"]} for i in t["items"]]
                for t in source["status"]["tags"]}
    assert items_of(doc) == expected
    assert doc["status"]["dockerImageRepository"] == "172.30.56.218:5000/test/origin-ruby-sample"
    assert doc["metadata"]["labels"] == source["metadata"]["labels"]
    history = json.loads(imagetrail("-n test history origin-ruby-sample:latest -o json").out)["items"]
    assert [h["change"] for h in history] == ["bootstrap", "bootstrap"]
    assert {h["actor"] for h in history} == {"alice"} and {h["reason"] for h in history} == {f"imported from {HISTORY}"}


def test_importing_the_same_dump_again_writes_nothing_and_a_newer_one_appends_only_the_change(imagetrail, tmp_path):
    imagetrail(f"import -f {HISTORY}")
    before = imagetrail.event_count()
    assert "unchanged (0 spec tags, 0 history entries added)" in imagetrail(f"import -f {HISTORY}").out
    assert imagetrail.event_count() == before
    newer = HISTORY.read_text().replace("    tag: latest", "    tag: latest", 1)
    newer = newer.replace("  - items:\n", "  - items:\n    - created: 2017-10-01T09:00:00Z\n"
                          "      dockerImageReference: 172.30.56.218:5000/test/origin-ruby-sample@sha256:" + "c" * 64 + "\n"
                          "      generation: 3\n      image: sha256:" + "c" * 64 + "\n", 1)
    path = tmp_path / "newer.yaml"
    path.write_text(newer)
    assert "(0 spec tags, 1 history entries added)" in imagetrail(f"import -f {path}").out
    assert [i["image"] for i in items_of(imagetrail("-n test get is origin-ruby-sample -o json").json())["latest"]][0] \
        == "sha256:" + "c" * 64


def test_imagetrails_own_dump_round_trips(keycloak, tmp_path):
    dump = tmp_path / "dump.yaml"
    dump.write_text(keycloak("get is keycloak -o yaml").out)
    other = f"--store sqlite:///{tmp_path}/other.db"
    keycloak(f"import -f {dump} {other}")
    original, copy = (keycloak(f"get is keycloak -o json {store}").json() for store in ("", other))
    assert copy["spec"] == original["spec"]
    assert items_of(copy) == items_of(original)
    assert copy["metadata"]["generation"] == original["metadata"]["generation"]


def test_a_deployment_dump_keeps_its_triggers_and_pause(imagetrail):
    imagetrail(f"import -f {FIXTURES / 'deployment_with_triggers_annotation__openshift-oc.yaml'}")
    listing = imagetrail("set triggers deployment/ruby-deploy").out.splitlines()
    assert listing[2].split() == ["deployments/ruby-deploy", "image", "ruby-deploy:latest", "(ruby-deploy)", "true"]
