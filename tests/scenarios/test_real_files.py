"""Files as users have them: OpenShift's own samples and e2e manifests, `oc get all` dumps, JSON
streams, and files the API server would refuse. Each is taken (or refused) as oc takes it."""

import json
from pathlib import Path

import pytest

from conftest import A, B, KEYCLOAK

FIXTURES = Path(__file__).parents[1] / "fixtures"
RUBY_SAMPLE = FIXTURES / "imagestream_ruby_sample__openshift-library.json"        # tab-indented JSON
RUBY_LEGACY = FIXTURES / "imagestream_ruby_centos7_legacy_v1__openshift-library.json"  # apiVersion: v1
PLACEHOLDER = FIXTURES / "deployment_placeholder_image_trigger__openshift-origin.yaml"


@pytest.fixture
def ruby_registry(imagetrail, tmp_path, monkeypatch):
    """A registry snapshot with every image the ruby samples name."""
    specs = [t["from"]["name"] for path in (RUBY_SAMPLE, RUBY_LEGACY)
             for t in json.loads(path.read_text())["spec"]["tags"] if t["from"]["kind"] == "DockerImage"]
    mirror = tmp_path / "ruby-mirror.json"
    mirror.write_text(json.dumps({spec: "sha256:" + f"{i:x}" * 64 for i, spec in enumerate(specs, 1)}
                                 | {f"{KEYCLOAK}:20.0.2": A, f"{KEYCLOAK}:20.0.3": B}))
    monkeypatch.setenv("IMAGETRAIL_MIRROR", str(mirror))
    return imagetrail


def spec_tags(doc: dict) -> dict:
    return {t["name"]: t for t in doc["spec"]["tags"]}


def write(tmp_path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# -- the official samples ------------------------------------------------------------------------

def test_the_official_ruby_sample_applies_as_oc_create_takes_it(ruby_registry):
    assert ruby_registry(f"apply -f {RUBY_SAMPLE}").out == "imagestream.image.openshift.io/ruby created\n"
    doc = ruby_registry.stream("ruby")
    tags = spec_tags(doc)
    assert len(tags) == 8
    assert {t["referencePolicy"]["type"] for t in tags.values()} == {"Local"}
    assert {t["importPolicy"]["importMode"] for t in tags.values()} == {"Legacy"}  # `importPolicy: {}` defaulted
    # one create (generation 1), then one ImageStreamImport of all 7 pending tags (generation 2)
    assert doc["metadata"]["generation"] == 2
    assert {t["generation"] for name, t in tags.items() if name != "latest"} == {2}
    assert {e["items"][0]["generation"] for e in doc["status"]["tags"]} == {2}
    assert ruby_registry.history("latest", "ruby") == ruby_registry.history("3.3-ubi9", "ruby")
    before = ruby_registry.event_count()
    assert ruby_registry(f"apply -f {RUBY_SAMPLE}").out == "imagestream.image.openshift.io/ruby unchanged\n"
    assert ruby_registry.event_count() == before


def test_an_older_sample_under_the_legacy_v1_api_version_applies_and_imports(ruby_registry, tmp_path):
    assert ruby_registry(f"apply -f {RUBY_LEGACY}").out == "imagestream.image.openshift.io/ruby created\n"
    tags = spec_tags(ruby_registry.stream("ruby"))
    assert tags["latest"]["from"] == {"kind": "ImageStreamTag", "name": "2.3"}   # from.namespace stays empty
    assert tags["2.3"]["referencePolicy"] == {"type": "Source"}                   # missing → Source
    other = f"--store sqlite:///{tmp_path}/other.db"
    out = ruby_registry(f"import -f {RUBY_LEGACY} {other}").out
    assert out == "imagestream.image.openshift.io/ruby imported (4 spec tags, 0 history entries added)\n"


def test_a_spec_tag_written_by_oc_new_app_gets_the_api_servers_defaults(imagetrail, tmp_path):
    path = write(tmp_path, "newapp.yaml", f"""\
apiVersion: image.openshift.io/v1
kind: ImageStream
metadata: {{name: keycloak}}
spec:
  tags:
  - name: "20.0.2"
    from: {{kind: DockerImage, name: "{KEYCLOAK}:20.0.2"}}
    generation: null
    importPolicy: {{importMode: ""}}
    referencePolicy: {{type: ""}}
""")
    imagetrail(f"apply -f {path}")
    doc = imagetrail.stream()
    assert doc["spec"]["lookupPolicy"] == {"local": False}
    assert spec_tags(doc)["20.0.2"]["referencePolicy"] == {"type": "Source"}
    assert spec_tags(doc)["20.0.2"]["importPolicy"] == {"importMode": "Legacy"}
    # the same spec, spelt with the defaults filled in, is no change
    before = imagetrail.event_count()
    filled = path.read_text().replace('{importMode: ""}', "{importMode: Legacy, insecure: false}") \
                             .replace('{type: ""}', "{type: Source}")
    assert imagetrail(f"apply -f {write(tmp_path, 'filled.yaml', filled)}").out.endswith("unchanged\n")
    assert imagetrail.event_count() == before


def test_a_created_stream_takes_one_generation_and_one_import_batch(imagetrail, tmp_path):
    path = write(tmp_path, "three.json", json.dumps({
        "apiVersion": "image.openshift.io/v1", "kind": "ImageStream", "metadata": {"name": "keycloak"},
        "spec": {"tags": [{"name": v, "from": {"kind": "DockerImage", "name": f"{KEYCLOAK}:{v}"}}
                          for v in ("20.0.2", "20.0.3", "21.0.0")]
                 + [{"name": "20", "from": {"kind": "ImageStreamTag", "name": "20.0.2"}}]}}))
    imagetrail(f"apply -f {path}")
    doc = imagetrail.stream()
    assert doc["metadata"]["generation"] == 2
    assert {name: t["generation"] for name, t in spec_tags(doc).items()} == \
        {"20.0.2": 2, "20.0.3": 2, "21.0.0": 2, "20": 1}


# -- streams of documents ------------------------------------------------------------------------------

def test_concatenated_json_objects_as_oc_get_w_prints_them(imagetrail, tmp_path):
    stream = {"apiVersion": "image.openshift.io/v1", "kind": "ImageStream", "metadata": {"name": "keycloak"},
              "spec": {"tags": [{"name": "20.0.2", "from": {"kind": "DockerImage", "name": f"{KEYCLOAK}:20.0.2"}}]}}
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                  "spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]}}}}
    path = write(tmp_path, "watch.json", json.dumps(stream, indent=4) + "\n" + json.dumps(deployment, indent="\t"))
    assert imagetrail(f"apply -f {path}").out == \
        "imagestream.image.openshift.io/keycloak created\ndeployment.apps/web created\n"


@pytest.mark.parametrize("text", ["", "# nothing here\n", "---\n# still nothing\n---\n", '{"kind": "List", "items": []}'])
def test_a_file_without_objects_is_refused_as_oc_apply_refuses_it(imagetrail, tmp_path, text):
    path = write(tmp_path, "empty.yaml", text)
    assert imagetrail.fails(f"apply -f {path}").err == "error: no objects passed to apply\n"
    assert imagetrail.fails(f"import -f {path}").err == "error: no objects passed to import\n"
    assert imagetrail.event_count() == 0


# -- placeholder images ---------------------------------------------------------------------------------

def test_openshifts_e2e_placeholder_deployment_waits_for_its_trigger(imagetrail):
    assert imagetrail(f"apply -f {PLACEHOLDER}").out == "deployment.apps/test created\n"
    assert imagetrail.image("test", "test") == " "
    imagetrail(f"tag {KEYCLOAK}@{B} test:v1")
    assert imagetrail.image("test", "test") == f"{KEYCLOAK}@{B}"


def test_a_placeholder_is_filled_at_once_when_the_tag_already_exists(imagetrail):
    imagetrail(f"tag {KEYCLOAK}@{A} test:v1")
    imagetrail(f"apply -f {PLACEHOLDER}")
    assert imagetrail.image("test", "test") == f"{KEYCLOAK}@{A}"


def test_an_empty_image_is_still_refused(imagetrail, tmp_path):
    path = write(tmp_path, "empty-image.yaml", PLACEHOLDER.read_text().replace('image: " "', 'image: ""'))
    assert imagetrail.fails(f"apply -f {path}").err == \
        'error: Deployment "test": spec.template.spec.containers[0].image: Required value\n'


# -- re-importing a dump ----------------------------------------------------------------------------------

def test_reimporting_a_dump_writes_nothing_after_the_trigger_moved_the_image(keycloak, tmp_path):
    dump = write(tmp_path, "dump.yaml", keycloak("get is keycloak -o yaml").out + "---\n"
                 + keycloak("get deployment mykeycloak -o yaml").out)
    other = f"--store sqlite:///{tmp_path}/other.db"
    keycloak(f"import -f {dump} {other}")
    keycloak(f"tag {KEYCLOAK}:20.0.3 keycloak:20 {other}")      # the trigger rolls mykeycloak to B
    moved = keycloak(f"get deployment mykeycloak -o json {other}").json()
    count = keycloak(f"events tail {other}").out.count("\n")
    assert "deployment.apps/mykeycloak unchanged" in keycloak(f"import -f {dump} {other}").out
    assert keycloak(f"events tail {other}").out.count("\n") == count
    assert keycloak(f"get deployment mykeycloak -o json {other}").json() == moved


def test_reimporting_a_dump_leaves_an_image_set_since_alone(imagetrail, tmp_path):
    dump = write(tmp_path, "web.yaml", """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: demo}
spec:
  template:
    spec:
      containers: [{name: web, image: "nginx:1.25"}]
""")
    imagetrail(f"import -f {dump}")
    imagetrail("set image deployment/web web=nginx:1.27")
    before = imagetrail.event_count()
    assert imagetrail(f"import -f {dump}").out == "deployment.apps/web unchanged\n"
    assert imagetrail.event_count() == before
    newer = write(tmp_path, "newer.yaml", dump.read_text().replace("nginx:1.25", "nginx:1.29"))
    assert imagetrail(f"import -f {newer}").out == "deployment.apps/web configured\n"   # a newer dump still wins
    assert imagetrail.image("web", "web") == "nginx:1.29"


def test_a_dump_with_null_tag_generations_keeps_the_stored_ones(keycloak, tmp_path):
    doc = keycloak.stream()
    other = f"--store sqlite:///{tmp_path}/other.db"
    keycloak(f"import -f {write(tmp_path, 'is.json', json.dumps(doc))} {other}")
    stored = {t["name"]: t["generation"] for t in keycloak(f"get is keycloak -o json {other}").json()["spec"]["tags"]}
    for tag in doc["spec"]["tags"]:
        tag["generation"] = None
    count = keycloak(f"events tail {other}").out.count("\n")
    out = keycloak(f"import -f {write(tmp_path, 'null.json', json.dumps(doc))} {other}").out
    assert out.startswith("imagestream.image.openshift.io/keycloak unchanged")
    assert keycloak(f"events tail {other}").out.count("\n") == count
    assert {t["name"]: t["generation"] for t in keycloak(f"get is keycloak -o json {other}").json()["spec"]["tags"]} \
        == stored


# -- a whole `oc get all -o yaml` -------------------------------------------------------------------------

OC_GET_ALL = f"""\
apiVersion: v1
kind: List
items:
- {{apiVersion: v1, kind: Pod, metadata: {{name: web-1-abcde}}, spec: {{containers: [{{name: web, image: x}}]}}}}
- {{apiVersion: v1, kind: Pod, metadata: {{name: web-1-fghij}}}}
- {{apiVersion: v1, kind: Pod, metadata: {{name: web-1-klmno}}}}
- {{apiVersion: v1, kind: Service, metadata: {{name: web}}, spec: {{ports: [{{port: 8080}}]}}}}
- {{apiVersion: v1, kind: Service, metadata: {{name: db}}}}
- {{apiVersion: apps/v1, kind: ReplicaSet, metadata: {{name: web-1}}}}
- {{apiVersion: apps/v1, kind: ReplicaSet, metadata: {{name: web-2}}}}
- {{apiVersion: build.openshift.io/v1, kind: BuildConfig, metadata: {{name: web}}}}
- {{apiVersion: route.openshift.io/v1, kind: Route, metadata: {{name: web}}}}
- apiVersion: image.openshift.io/v1
  kind: ImageStream
  metadata: {{name: keycloak, namespace: demo}}
  spec:
    tags:
    - {{name: "20.0.2", from: {{kind: DockerImage, name: "{KEYCLOAK}:20.0.2"}}}}
- apiVersion: apps/v1
  kind: Deployment
  metadata: {{name: web, namespace: demo}}
  spec:
    replicas: 2
    template:
      spec:
        containers: [{{name: web, image: "nginx:1.25"}}]
"""


def test_import_of_oc_get_all_records_streams_and_deployments_and_says_what_it_skipped(imagetrail, tmp_path):
    path = write(tmp_path, "all.yaml", OC_GET_ALL)
    result = imagetrail(f"import -f {path}")
    assert result.out == ("imagestream.image.openshift.io/keycloak imported (1 spec tags, 0 history entries added)\n"
                          "deployment.apps/web created\n")
    assert result.err == ("info: skipped 9 objects imagetrail does not record: "
                          "3 Pod, 2 ReplicaSet, 2 Service, 1 BuildConfig, 1 Route\n")
    assert imagetrail("get deployment web -o jsonpath='{.spec.replicas}'").out == "2"


def test_apply_still_refuses_kinds_it_cannot_hold(imagetrail, tmp_path):
    path = write(tmp_path, "all.yaml", OC_GET_ALL)
    assert imagetrail.fails(f"apply -f {path}").err == \
        'error: imagetrail apply takes ImageStream and Deployment objects, not Pod "web-1-abcde"\n'
    assert imagetrail.event_count() == 0


# -- namespaces: kubectl's resource.Builder ---------------------------------------------------------------

def test_an_explicit_namespace_must_match_the_objects_own(imagetrail, tmp_path):
    path = write(tmp_path, "all.yaml", OC_GET_ALL)
    ours = write(tmp_path, "ours.yaml", "apiVersion: v1\nkind: List\nitems:\n- apiVersion: image"
                 + OC_GET_ALL.split("- apiVersion: image", 1)[1])  # the ImageStream and the Deployment
    for verb, file in (("apply", ours), ("import", path)):
        assert imagetrail.fails(f"-n b {verb} -f {file}").err == (
            'error: the namespace from the provided object "demo" does not match the namespace "b". '
            "You must pass '--namespace=demo' to perform this operation.\n")
    assert imagetrail.event_count() == 0
    assert imagetrail(f"-n demo import -f {path}").code == 0


def test_without_n_an_object_keeps_its_own_namespace(imagetrail, tmp_path):
    """IMAGETRAIL_NAMESPACE (demo here) is the kubeconfig context's namespace: a default, not enforced."""
    path = write(tmp_path, "elsewhere.yaml", OC_GET_ALL.replace("namespace: demo", "namespace: shop"))
    imagetrail(f"import -f {path}")
    assert imagetrail("-n shop get deployment web -o name").out == "deployment.apps/web\n"


# -- what the API server refuses, one line each --------------------------------------------------------------

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  paused: false
  template:
    spec:
      containers: [{name: web, image: "nginx:1.25"}]
"""
STREAM = f"""\
apiVersion: image.openshift.io/v1
kind: ImageStream
metadata: {{name: keycloak, creationTimestamp: "2026-01-05T10:00:00Z"}}
spec:
  lookupPolicy: {{local: false}}
  tags:
  - {{name: "20.0.2", from: {{kind: DockerImage, name: "{KEYCLOAK}:20.0.2"}}}}
"""
REFUSED = [
    (DEPLOYMENT.replace("replicas: 1", "replicas: abc"),
     'Deployment "web": spec.replicas: must be a non-negative integer, got "abc"'),
    (DEPLOYMENT.replace("replicas: 1", "replicas: -3"),
     'Deployment "web": spec.replicas: must be a non-negative integer, got -3'),
    (DEPLOYMENT.replace("paused: false", 'paused: "false"'),
     'Deployment "web": spec.paused: must be true or false, got "false"'),
    (STREAM.replace("local: false", 'local: "no"'),
     'ImageStream "keycloak": spec.lookupPolicy.local: must be true or false, got "no"'),
    (DEPLOYMENT.replace("kind: Deployment", "kind: 5"), "an object has no kind: kind must be a non-empty string, got 5"),
    (DEPLOYMENT.split("spec:")[0] + 'spec: "x"\n', 'Deployment "web": spec: must be a mapping, got "x"'),
    (DEPLOYMENT.replace("{name: web}", "{name: web, labels: [1]}"),
     'Deployment "web": metadata.labels: must be a mapping, got a list'),
    (STREAM.replace('"2026-01-05T10:00:00Z"', "yesterday"),
     'ImageStream "keycloak": metadata.creationTimestamp: must be an RFC 3339 time such as 2026-01-05T10:00:00Z, '
     'got "yesterday"'),
    (DEPLOYMENT.replace("{name: web}", "{name: 5}"), "a Deployment: metadata.name: must be a string, got 5"),
    (DEPLOYMENT.replace("{name: web}", "{name: Web_1}"),
     'Deployment "Web_1": metadata.name: Invalid value: "Web_1": a lowercase RFC 1123 subdomain'),
    (STREAM.replace("{name: keycloak,", "{name: Keycloak,"),
     'ImageStream "Keycloak": metadata.name: Invalid value: "Keycloak": must match'),
    (DEPLOYMENT.replace('[{name: web, image: "nginx:1.25"}]', '[{name: web, image: a}, {name: web, image: b}]'),
     'Deployment "web": spec.template.spec.containers[1].name: Duplicate value: "web"'),
    (DEPLOYMENT.replace("apps/v1", "v1"), 'Deployment "web": apiVersion: must be apps/v1 for a Deployment, got "v1"'),
    (DEPLOYMENT.replace("apps/v1", "image.openshift.io/v1"),
     'Deployment "web": apiVersion: must be apps/v1 for a Deployment, got "image.openshift.io/v1"'),
    (DEPLOYMENT.replace("replicas: 1", "replicas: !!int abc"), 'line 5: YAML tag "!!int" is not allowed'),
    (STREAM.replace('"2026-01-05T10:00:00Z"', "!!timestamp 2026-01-05"), 'YAML tag "!!timestamp" is not allowed'),
    (DEPLOYMENT.replace("replicas: 1", "replicas: !!python/object/apply:os.getpid []"),
     'YAML tag "!!python/object/apply:os.getpid" is not allowed'),
    ("[" * 5000 + "]" * 5000, "nested more than 100 levels deep"),
    ("a:\n" + "".join("  " * i + "- \n" for i in range(1, 3000)), "nested more than 100 levels deep"),
    (DEPLOYMENT.replace("metadata: {name: web}", "metadata: {name: web, namespace: Bad}"),
     'Deployment "web": metadata.namespace: invalid namespace "Bad"'),
]


@pytest.mark.parametrize("text, message", REFUSED, ids=[m[:50] for _, m in REFUSED])
def test_what_the_api_server_refuses_is_one_line_and_writes_nothing(imagetrail, tmp_path, text, message):
    path = write(tmp_path, "bad.yaml", text)
    for verb in ("apply", "import"):
        result = imagetrail.fails(f"{verb} -f {path}")
        assert result.err.startswith("error: ") and result.err.count("\n") == 1, result.err
        assert message in result.err
    assert imagetrail.event_count() == 0


def test_bytes_that_are_not_utf8_are_refused(imagetrail, tmp_path):
    path = tmp_path / "latin1.yaml"
    data = DEPLOYMENT.replace("web}", "w\xe9b}").encode("latin-1")
    path.write_bytes(data)
    assert imagetrail.fails(f"apply -f {path}").err == (f"error: {path} is not UTF-8 text: byte 0xe9 at offset "
                                                        f"{data.index(0xe9)} cannot be decoded; save the file as UTF-8\n")


def test_reimporting_a_dump_leaves_a_pause_and_trigger_change_made_since_alone(keycloak, tmp_path):
    dump = write(tmp_path, "dump.yaml", keycloak("get is keycloak -o yaml").out + "---\n"
                 + keycloak("get deployment mykeycloak -o yaml").out)
    other = f"--store sqlite:///{tmp_path}/other.db"
    keycloak(f"import -f {dump} {other}")
    keycloak(f"rollout pause deployment/mykeycloak {other}")
    keycloak(f"set triggers deployment/mykeycloak --from-image keycloak:20 --containers keycloak --manual {other}")
    changed = keycloak(f"get deployment mykeycloak -o json {other}").json()
    count = keycloak(f"events tail {other}").out.count("\n")
    assert "deployment.apps/mykeycloak unchanged" in keycloak(f"import -f {dump} {other}").out
    assert keycloak(f"events tail {other}").out.count("\n") == count
    assert keycloak(f"get deployment mykeycloak -o json {other}").json() == changed
    keycloak(f"rollout resume deployment/mykeycloak {other}")
    head, _, deployment = dump.read_text().rpartition("\nspec:\n")  # the Deployment's spec comes last
    paused = write(tmp_path, "paused.yaml", f"{head}\nspec:\n  paused: true\n{deployment}")
    assert "deployment.apps/mykeycloak configured" in keycloak(f"import -f {paused} {other}").out  # a newer dump wins
    assert keycloak(f"get deployment mykeycloak -o json {other}").json()["spec"]["paused"] is True
