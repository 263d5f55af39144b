"""Bad input: a one-line error naming the problem, a non-zero exit, no traceback, nothing written."""

import subprocess
import sys

import pytest

from conftest import KEYCLOAK

BAD = [
    ("tag quay.io/keycloak/keycloak:20.0.2 keycloak", '"keycloak" must be of the form <stream_name>:<tag>'),
    ("tag quay.io/keycloak/keycloak:20.0.2 keycloak:.bad", 'invalid tag ".bad" format'),
    ("tag quay.io/keycloak/keycloak:20.0.2 Keycloak:1", 'must match "[a-z0-9]+(?:[._-][a-z0-9]+)*"'),
    ("tag quay.io/Keycloak/keycloak:1 keycloak:1", "invalid SOURCE: repository name must be lowercase"),
    ("tag keycloak@sha256:abc keycloak:1", "invalid SOURCE: invalid reference format"),
    ("tag --scheduled keycloak:20.0.2 keycloak:1", "only container images can have importing flags set"),
    ("tag --alias --scheduled keycloak:20.0.2 keycloak:1",
     "cannot set a container image tag as an alias and also set import flags"),
    ("tag --source=bogus keycloak:20.0.2 keycloak:1", 'invalid source "bogus"'),
    ("tag --source=istag quay.io/k/k:1 keycloak:1", "server in SOURCE is only allowed when providing a container image"),
    ("tag -d --alias keycloak:20", "--alias and --delete may not be both specified"),
    ("tag -d keycloak:nope", 'imagestreamtags.image.openshift.io "keycloak:nope" not found'),
    ("tag keycloak:20.0.2", "you must specify a source and at least one destination"),
    ("create istag keycloak:x --from a:b --from-image quay.io/a/b:c", "--from and --from-image may not be used together"),
    ("create istag keycloakx --from-image quay.io/a/b:c", '"keycloakx" must be of the form <stream_name>:<tag>'),
    ("create istag keycloak:x --from quay.io/a/b:c", "Invalid --from, registry may not be specified"),
    ("create istag keycloak:x --from-image quay.io/a/b:c --reference-policy=other",
     "valid values for --reference-policy are: source, local"),
    ("import-image keycloak:1 --import-mode=Fast --from quay.io/a/b:1 --confirm", "invalid import mode"),
    ("create deployment Bad_Name --image nginx", 'invalid deployment name "Bad_Name"'),
    ("create deployment web --image NGINX", "repository name must be lowercase"),
    ("set image-lookup nope", 'imagestreams.image.openshift.io "nope" not found'),
    ("set triggers deployment/nope --auto", 'deployments.apps "nope" not found'),
    ("set triggers pod/nope --auto", '"pod/nope" is not a Deployment'),
    ("set image deployment/mykeycloak keycloak", "use CONTAINER=IMAGE"),
    ("set image deployment/mykeycloak nothere=nginx:1", 'unable to find container named "nothere"'),
    ("rollout pause deployment/nope", 'deployments.apps "nope" not found'),
    ("get pods", 'doesn\'t have a resource type "pods"'),
    ("get is nope", 'imagestreams.image.openshift.io "nope" not found'),
    ("get istag keycloak", "ImageStreamTags must be retrieved with <name>:<tag>"),
    ("get is keycloak -o xml", 'unable to match a printer suitable for the output format "xml"'),
    ("get is keycloak -o jsonpath='{.spec.tags[}'", "error parsing jsonpath"),
    ("describe deployment mykeycloak", "describe supports image streams"),
    ("apply -f /nonexistent.yaml", "cannot read /nonexistent.yaml"),
    ("--store postgres://x get is", 'unknown store "postgres://x"'),
    ("--store sqlite://relative.db get is", "use sqlite:///ABSOLUTE/PATH.db"),
    ("--mirror /nonexistent.json tag quay.io/a/b:1 keycloak:9", "registry snapshot file /nonexistent.json does not exist"),
]


@pytest.mark.parametrize("command, message", BAD, ids=[c for c, _ in BAD])
def test_bad_input_is_one_clear_line_and_writes_nothing(keycloak, command, message):
    before = keycloak.event_count()
    result = keycloak.fails(command)
    assert message in result.err
    assert result.err.startswith("error: ") and result.err.count("\n") == 1, result.err
    assert result.out == ""
    assert keycloak.event_count() == before


def test_click_usage_errors_exit_2(keycloak):
    result = keycloak.fails("tag --no-such-flag a b")
    assert result.code == 2
    assert result.err == "error: No such option '--no-such-flag'. (see 'imagetrail tag --help')\n"


def test_unresolvable_import_is_recorded_not_rejected(keycloak):
    before = keycloak.event_count()
    result = keycloak.fails(f"tag {KEYCLOAK}:0.0.1 keycloak:old")
    assert result.code == 1
    assert keycloak.event_count() > before  # the spec tag and the failure condition are history


def test_python_dash_m_and_help_work():
    out = subprocess.run([sys.executable, "-m", "imagetrail", "--help"], capture_output=True, text=True, check=True)
    assert "imagetrail: oc's image stream and trigger workflow" in out.stdout
    for verb in ("tag", "import-image", "create", "set", "get", "describe", "rollout", "apply", "demo"):
        assert f"  {verb}" in out.stdout


def test_namespace_flag_before_or_after_the_verb(keycloak):
    keycloak(f"-n team tag {KEYCLOAK}:20.0.2 web:1")
    keycloak(f"tag {KEYCLOAK}:20.0.3 web:2 -n team")
    keycloak(f"tag {KEYCLOAK}:20.0.3 web:3 --namespace=team")
    assert keycloak("get is web -n team -o jsonpath='{.spec.tags[*].name}'").out == "1 2 3"
    keycloak.fails("get is web")  # not in the default namespace of the session (demo)
