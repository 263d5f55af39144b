"""`imagetrail import --audit-log`: who changed the cluster, from its API audit events (issue 13 §2).

The records follow `audit.k8s.io/v1` Event (k8s.io/apiserver/pkg/apis/audit/v1/types.go): one JSON
object a line, one record per stage, only ResponseComplete says how a request ended. The objects
are the same real fixtures the watch tests use (test_watch.py).
"""

import json

from test_watch import NEW, REPO, moved, objects, stream_file


def record(audit_id, verb, resource, name, user, time, *, level="RequestResponse", response=None, code=200,
           group="image.openshift.io", stage="ResponseComplete", impersonated=None):
    event = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": level, "auditID": audit_id, "stage": stage,
             "requestURI": f"/apis/{group}/v1/namespaces/test/{resource}/{name}", "verb": verb,
             "user": {"username": user, "groups": ["system:authenticated"]},
             "objectRef": {"resource": resource, "namespace": "test", "name": name, "apiGroup": group,
                           "apiVersion": "v1"},
             "responseStatus": {"metadata": {}, "code": code},
             "requestReceivedTimestamp": time, "stageTimestamp": time}
    if impersonated:
        event["impersonatedUser"] = {"username": impersonated}
    if response is not None and level == "RequestResponse":
        event["responseObject"] = response
    return event


def write_log(tmp_path, *events, name="audit.log"):
    path = tmp_path / name
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


def istag_response(resource_version):
    return {"kind": "ImageStreamTag", "apiVersion": "image.openshift.io/v1",
            "metadata": {"name": "ruby-deploy:latest", "namespace": "test", "resourceVersion": resource_version},
            "image": {"metadata": {"name": NEW}, "dockerImageReference": f"{REPO}@{NEW}"}}


def test_the_audit_log_names_who_moved_the_tag_the_watch_saw(imagetrail, tmp_path):
    stream, deployment = objects()
    stream2, deployment2 = moved(stream, deployment)
    imagetrail(f"-n test watch -f {stream_file(tmp_path, ('ADDED', stream), ('ADDED', deployment), ('MODIFIED', stream2), ('MODIFIED', deployment2))}")
    log = write_log(
        tmp_path,
        record("a1", "update", "imagestreamtags", "ruby-deploy:latest", "alice", "2026-12-01T09:30:00.100000Z",
               stage="RequestReceived"),  # another stage of the same request: not how it ended
        record("a1", "update", "imagestreamtags", "ruby-deploy:latest", "alice", "2026-12-01T09:30:00.200000Z",
               response=istag_response("701")),
        record("c1", "update", "deployments", "ruby-deploy", "system:serviceaccount:openshift-infra:image-trigger-controller",
               "2026-12-01T09:30:01Z", group="apps", response=deployment2),
        record("x1", "update", "imagestreamtags", "ruby-deploy:latest", "mallory", "2026-12-01T09:31:00Z",
               code=403, response={"kind": "Status"}),  # refused: changed nothing
    )
    out = imagetrail(f"import --audit-log {log}").out
    assert out == ("4 audit records: 2 completed writes of image streams and Deployments; 2 attributed, "
                   "0 objects recorded from responses, 0 read before\n")
    moves = imagetrail("-n test history ruby-deploy:latest -o json").json()["items"]
    assert (moves[0]["actor"], moves[0]["to"]["image"]) == ("alice (oc tag)", NEW)
    rollout = imagetrail("-n test history deployment/ruby-deploy -o json").json()["items"][0]
    assert rollout["actor"] == "system:serviceaccount:openshift-infra:image-trigger-controller (update deployments)"
    # the same log again writes nothing
    count = imagetrail.event_count()
    assert imagetrail(f"import --audit-log {log}").out.endswith("0 attributed, 0 objects recorded from responses, "
                                                                "2 read before\n")
    assert imagetrail.event_count() == count


def test_an_audit_record_read_before_the_watch_still_names_the_person(imagetrail, tmp_path):
    stream, deployment = objects()
    stream2, _ = moved(stream, deployment)
    imagetrail(f"-n test watch -f {stream_file(tmp_path, ('ADDED', stream), name='first.json')}")
    # out of order in the file: the import's record comes after a later one
    log = write_log(tmp_path,
                    record("b2", "patch", "imagestreams", "ruby-deploy", "bob", "2026-12-01T10:00:00Z",
                           level="Metadata"),
                    record("b1", "create", "imagestreamimports", "ruby-deploy", "alice", "2026-12-01T09:30:00Z",
                           impersonated="system:admin",
                           response={"kind": "ImageStreamImport", "status": {"import": stream2}}))
    imagetrail(f"import --audit-log {log}")
    # the response carried the stream: recorded at once, as alice's
    moves = imagetrail("-n test history ruby-deploy:latest -o json").json()["items"]
    assert moves[0]["actor"] == "alice as system:admin (oc import-image)" and moves[0]["to"]["image"] == NEW
    # the watch's copy of that version adds nothing
    count = imagetrail.event_count()
    imagetrail(f"-n test watch -f {stream_file(tmp_path, ('MODIFIED', stream2), name='late.json')}")
    assert imagetrail.event_count() == count
    kinds = [(e["kind"], e["actor"]) for e in imagetrail("-n test log --kind attributed -o json").json()["items"]]
    assert kinds == [("imagestream.attributed", "bob"), ("imagestream.attributed", "alice as system:admin")]


def test_records_of_objects_imagetrail_does_not_know_are_named(imagetrail, tmp_path):
    log = write_log(tmp_path, record("z1", "update", "imagestreamtags", "other:1", "carol", "2026-12-01T09:00:00Z",
                                     response=istag_response("5")))
    result = imagetrail(f"import --audit-log {log}")
    assert result.err == "info: imagestream/test/other is not known to imagetrail and the record holds no object: " \
                         "run watch or import -f first\n"
    assert imagetrail.fails("import").err == \
        "error: give -f FILE (the cluster's objects) or --audit-log FILE (its API audit events)\n"
