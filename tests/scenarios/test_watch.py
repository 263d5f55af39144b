"""`imagetrail watch -f`: a cluster's watch stream recorded as the cluster made it (issue 13 §1).

The streams are built from real objects (tests/fixtures: the openshift-docs image stream with its
status history and oc's Deployment with a triggers annotation) in the format
`oc get is,deploy -w --output-watch-events -o json` prints: one `{"type", "object"}` a line.
"""

import copy
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

FIXTURES = Path(__file__).parents[1] / "fixtures"
OLD = "sha256:" + "1" * 64
NEW = "sha256:" + "2" * 64
REPO = "172.30.56.218:5000/test/ruby-deploy"


def load(name: str):
    """A fixture as the API server sends it: timestamps are strings in JSON."""
    document = yaml.safe_load((FIXTURES / name).read_text())
    return json.loads(json.dumps(document, default=lambda t: t.isoformat().replace("+00:00", "Z")))


def objects():
    """The cluster's ruby-deploy stream (tag latest, one history entry) and the Deployment that follows it."""
    stream = load("imagestream_status_history__openshift-docs.yaml")
    stream["metadata"].update(name="ruby-deploy", resourceVersion="633")
    stream["spec"] = {"tags": [{"name": "latest", "from": {"kind": "DockerImage", "name": f"{REPO}:latest"}}]}
    stream["status"] = {"dockerImageRepository": REPO, "tags": [{"tag": "latest", "items": [
        {"created": "2026-11-30T10:00:00Z", "dockerImageReference": f"{REPO}@{OLD}", "generation": 1, "image": OLD}]}]}
    deployment = load("deployment_with_triggers_annotation__openshift-oc.yaml")["items"][0]
    deployment["metadata"].update(namespace="test", resourceVersion="640", creationTimestamp="2026-11-30T10:00:01Z")
    deployment["spec"]["template"]["spec"]["containers"][0]["image"] = f"{REPO}@{OLD}"
    return stream, deployment


def moved(stream, deployment):
    """`oc tag` moved latest to NEW on the cluster; its trigger controller then rolled the Deployment."""
    stream, deployment = copy.deepcopy(stream), copy.deepcopy(deployment)
    stream["metadata"]["resourceVersion"] = "701"
    stream["metadata"]["managedFields"] = [
        {"manager": "openshift-apiserver", "operation": "Update", "time": "2026-12-01T09:00:00Z"},
        {"manager": "oc", "operation": "Update", "time": "2026-12-01T09:30:00Z"}]
    stream["status"]["tags"][0]["items"].insert(0, {"created": "2026-12-01T09:30:00Z", "generation": 2,
                                                    "dockerImageReference": f"{REPO}@{NEW}", "image": NEW})
    deployment["metadata"]["resourceVersion"] = "702"
    deployment["spec"]["template"]["spec"]["containers"][0]["image"] = f"{REPO}@{NEW}"
    return stream, deployment


def stream_file(tmp_path, *events, name="watch.json"):
    path = tmp_path / name
    path.write_text("".join(json.dumps({"type": t, "object": o}) + "\n" for t, o in events))
    return path


def image(it):
    return it("-n test get deploy ruby-deploy -o jsonpath={.spec.template.spec.containers[0].image}").out


def test_a_watch_records_what_the_cluster_did_and_its_triggers_do_not_fire_twice(imagetrail, tmp_path):
    stream, deployment = objects()
    stream2, deployment2 = moved(stream, deployment)
    first = stream_file(tmp_path, ("ADDED", stream), ("ADDED", deployment), ("MODIFIED", stream2), name="a.json")
    out = imagetrail(f"-n test watch -f {first}").out.splitlines()
    assert out[2] == "imagestream/ruby-deploy -n test: recorded (MODIFIED at resourceVersion 701, by oc (field manager))"
    # the tag moved; the cluster's trigger controller has not been seen yet, and imagetrail's own stays out
    assert imagetrail("-n test get istag ruby-deploy:latest -o jsonpath={.image.metadata.name}").out == NEW
    assert image(imagetrail) == f"{REPO}@{OLD}"
    imagetrail(f"-n test watch -f {stream_file(tmp_path, ('MODIFIED', deployment2), name='b.json')}")
    assert image(imagetrail) == f"{REPO}@{NEW}"
    changes = imagetrail("-n test history deployment/ruby-deploy -o json").json()["items"]
    assert [(c["image"], c["cause"]["kind"]) for c in changes][0] == (f"{REPO}@{NEW}", "trigger")
    assert len(imagetrail("-n test rollout history deployment/ruby-deploy").out.splitlines()) == 4  # header + 2 revisions
    moves = imagetrail("-n test history ruby-deploy:latest -o json").json()["items"]
    assert (moves[0]["actor"], moves[0]["to"]["image"]) == ("oc (field manager)", NEW)
    observed = [json.loads(line)["data"].get("observed") for line in imagetrail("events tail").out.splitlines()]
    assert "imagestreams/test/ruby-deploy@701" in observed and "deployments/test/ruby-deploy@702" in observed


def test_a_restarted_or_refed_stream_writes_nothing(imagetrail, tmp_path):
    stream, deployment = objects()
    stream2, deployment2 = moved(stream, deployment)
    recorded = stream_file(tmp_path, ("ADDED", stream), ("ADDED", deployment), ("MODIFIED", stream2),
                           ("MODIFIED", deployment2))
    imagetrail(f"-n test watch -f {recorded}")
    count = imagetrail.event_count()
    # the same stream again, and a restarted watch: every object listed again as ADDED
    assert all("unchanged" in line for line in imagetrail(f"-n test watch -f {recorded}").out.splitlines())
    restart = stream_file(tmp_path, ("ADDED", stream2), ("ADDED", deployment2), name="restart.json")
    assert all("unchanged" in line for line in imagetrail(f"-n test watch -f {restart}").out.splitlines())
    assert imagetrail.event_count() == count


def test_bare_objects_and_pretty_printed_json_are_read_too(imagetrail, tmp_path):
    stream, deployment = objects()
    path = tmp_path / "bare.json"
    path.write_text(json.dumps(stream, indent=4) + "\n" + json.dumps(deployment, indent=2) + "\n")
    out = imagetrail(f"-n test watch -f {path}").out.splitlines()
    assert [line.split(":")[0] for line in out] == ["imagestream/ruby-deploy -n test", "deployment/ruby-deploy -n test"]
    assert "(SEEN at resourceVersion 633, by unknown (observed on the cluster))" in out[0]


def test_410_gone_ends_the_watch_with_one_line_after_recording_what_came_before(imagetrail, tmp_path):
    stream, _ = objects()
    gone = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 410, "reason": "Expired",
            "message": "too old resource version: 633 (900)"}
    result = imagetrail(f"-n test watch -f {stream_file(tmp_path, ('ADDED', stream), ('BOOKMARK', {'kind': 'ImageStream', 'metadata': {'resourceVersion': '800'}}), ('ERROR', gone))}", ok=False)
    assert result.code == 1
    assert result.err == ("error: the watch ended with an error: 410 Expired: too old resource version: 633 (900); "
                          "the resourceVersion is too old: list again and restart the watch\n")
    assert imagetrail("-n test get is ruby-deploy -o name").out == "imagestream.image.openshift.io/ruby-deploy\n"


def test_bad_input_is_one_line(imagetrail, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"type": "ADDED", "object": {"kind": "ImageStream"}}\nnot json\n')
    result = imagetrail.fails(f"-n test watch -f {path}")
    assert result.err.startswith("error: ") and result.err.count("\n") == 1
    weird = stream_file(tmp_path, ("RENAMED", {"kind": "ImageStream"}), name="weird.json")
    assert "not a watch event" in imagetrail.fails(f"-n test watch -f {weird}").err


def test_a_piped_watch_records_each_change_as_it_arrives(imagetrail, store_url):
    """`oc get … -w | imagetrail watch -f -`: stdin never ends; each line is recorded when it comes."""
    stream, deployment = objects()
    env = {**os.environ, "IMAGETRAIL_STORE": store_url}
    watcher = subprocess.Popen([sys.executable, "-m", "imagetrail", "-n", "test", "watch", "-f", "-"], env=env,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        watcher.stdin.write(json.dumps({"type": "ADDED", "object": stream}) + "\n")
        watcher.stdin.flush()
        started = time.monotonic()
        line = watcher.stdout.readline()  # before stdin is closed
        assert line.startswith("imagestream/ruby-deploy -n test: recorded") and time.monotonic() - started < 30
    finally:
        watcher.stdin.close()
        watcher.wait(timeout=30)
    assert watcher.returncode == 0


def test_a_deletion_is_recorded_and_a_new_object_of_that_name_continues_its_history(imagetrail, tmp_path):
    stream, deployment = objects()
    imagetrail(f"-n test watch -f {stream_file(tmp_path, ('ADDED', stream), ('ADDED', deployment), name='a.json')}")
    gone_stream = {**stream, "metadata": {**stream["metadata"], "resourceVersion": "800"}}
    gone_deployment = {**deployment, "metadata": {**deployment["metadata"], "resourceVersion": "801"}}
    deleted = stream_file(tmp_path, ("DELETED", gone_deployment), ("DELETED", gone_stream), name="d.json")
    out = imagetrail(f"-n test watch -f {deleted}").out.splitlines()
    assert [line.split(": ")[1].split()[0] for line in out] == ["recorded", "recorded"]
    assert imagetrail("-n test get is").err == "No resources found in test namespace.\n"
    assert imagetrail.fails("-n test get deploy ruby-deploy").err.startswith("error: ")
    kinds = [e["kind"] for e in imagetrail("-n test log -o json").json()["items"][:2]]
    assert kinds == ["imagestream.deleted", "deployment.deleted"]
    # as it was before: still there
    before = imagetrail("-n test log -o json").json()["items"][2]["position"]
    assert imagetrail(f"-n test get is --at {before} -o name").out == "imagestream.image.openshift.io/ruby-deploy\n"
    count = imagetrail.event_count()
    assert all("unchanged" in line for line in imagetrail(f"-n test watch -f {deleted}").out.splitlines())
    assert imagetrail.event_count() == count
    # created again on the cluster: the same name, a new object, the old history kept
    again = {**stream, "metadata": {**stream["metadata"], "resourceVersion": "900"}}
    imagetrail(f"-n test watch -f {stream_file(tmp_path, ('ADDED', again), name='again.json')}")
    assert imagetrail("-n test get is -o name").out == "imagestream.image.openshift.io/ruby-deploy\n"
    kinds = [e["kind"] for e in imagetrail("-n test log --stream ruby-deploy -o json").json()["items"]]
    assert kinds[:2] == ["tag.bootstrap", "imagestream.created"] and "imagestream.deleted" in kinds
    # a tag move on the cluster no longer reaches the deleted Deployment's trigger index
    imagetrail(f"-n test tag {REPO}@{NEW} ruby-deploy:latest")
    assert imagetrail.fails("-n test get deploy ruby-deploy").code == 1


def test_hundreds_of_changes_with_restarts_give_the_history_a_reader_expects(imagetrail, tmp_path):
    """300 tag moves seen on the cluster, each followed by the rollout it caused; the watch restarts
    every 100 changes (listing everything again). Then the same stream again: nothing new."""
    stream, deployment = objects()
    lines, moves = [("ADDED", stream), ("ADDED", deployment)], 300
    version = 1000
    for i in range(1, moves + 1):
        digest = f"sha256:{i:064x}"
        stream = copy.deepcopy(stream)
        version += 1
        stream["metadata"]["resourceVersion"] = str(version)
        stream["status"]["tags"][0]["items"].insert(0, {"created": f"2026-12-01T10:{i // 60:02d}:{i % 60:02d}Z",
                                                        "generation": i + 1, "dockerImageReference": f"{REPO}@{digest}",
                                                        "image": digest})
        deployment = copy.deepcopy(deployment)
        version += 1
        deployment["metadata"]["resourceVersion"] = str(version)
        deployment["spec"]["template"]["spec"]["containers"][0]["image"] = f"{REPO}@{digest}"
        lines += [("MODIFIED", stream), ("MODIFIED", deployment)]
        if i % 100 == 0:
            lines += [("ADDED", stream), ("ADDED", deployment)]  # a restarted watch lists everything again
    path = stream_file(tmp_path, *lines, name="long.json")
    imagetrail(f"-n test watch -f {path}")
    history = imagetrail("-n test history ruby-deploy:latest -o json").json()["items"]
    assert len(history) == moves + 1 and history[0]["to"]["image"] == f"sha256:{moves:064x}"
    rollouts = imagetrail("-n test history deployment/ruby-deploy -o json").json()["items"]
    assert len(rollouts) == moves and {r["cause"]["kind"] for r in rollouts} == {"trigger"}
    count = imagetrail.event_count()
    imagetrail(f"-n test watch -f {path}")
    assert imagetrail.event_count() == count
