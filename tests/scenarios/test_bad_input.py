"""Bad input: a one-line error naming the problem, a non-zero exit, no traceback, nothing written."""

import subprocess
import sys

import pytest

from conftest import KEYCLOAK
from imagetrail.cli.main import main

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


# -- issue 9: bad command-line input ------------------------------------------------------------

NAMED = [
    # kubectl names each container after the image's last path component; the API server refuses twins
    ("create deployment twins --image quay.io/a/n:1 --image quay.io/b/n:2",
     'Deployment.apps "twins" is invalid: spec.template.spec.containers[1].name: Duplicate value: "n"'),
    ("create deployment long --image quay.io/a/" + "a" * 64 + ":1",
     'spec.template.spec.containers[0].name: Invalid value: "' + "a" * 64 + '": must be no more than 63 characters'),
    ("set triggers deployment/mykeycloak --from-image a__b/keycloak:20 -c keycloak", 'invalid namespace "a__b"'),
    ("set triggers deployment/mykeycloak --from-image key__cloak:20 -c keycloak",
     'metadata.name: Invalid value: "key__cloak": must match "[a-z0-9]+(?:[._-][a-z0-9]+)*"'),
    # durations, positions and times out of range, and digits that are not ASCII
    ("get is keycloak --at 800000d", 'invalid --at "800000d": a duration may be at most 106751d'),
    ("log --since 99999999999999999999s", 'invalid --since "99999999999999999999s": a duration may be at most'),
    ("get is keycloak --at 10000000000000000000000", "position 10000000000000000000000 is past the head of the log ("),
    ("get is keycloak --at ²", 'invalid --at "²": use RFC 3339'),
    ("get is keycloak --at ٣", 'invalid --at "٣": use RFC 3339'),
    ("get is keycloak --at 0001-01-01T00:00:00+01:00", "out of range (years 1 to 9999 in UTC)"),
    ("events tail --from ³", 'invalid --from "³": use beginning, end or a position'),
    ("events tail --from 10000000000000000000000", 'invalid --from "10000000000000000000000": must be from 1 to'),
    ("history keycloak:20 --limit ٣", "Invalid value for '--limit': \"٣\": use a whole number of ASCII digits"),
    ("create deployment web --image nginx --replicas 1_0", "Invalid value for '--replicas'"),
    ("create deployment web --image nginx --replicas 3000000000", "must be from 0 to 2147483647"),
    ("rollback keycloak:20 --steps 99999999999999999999", "Invalid value for '--steps'"),
    ("events tail --poll nan", "Invalid value for '--poll'"),
    ("controller --once --interval 9999999999h", 'invalid --interval "9999999999h": longer than Go\'s maximum'),
    ("controller --once --interval ٣s", 'invalid --interval "٣s": use a duration like 15m'),
    # past the head of the log, or in the future
    ("rollback keycloak:20 --to-position 999", "position 999 is past the head of the log ("),
    ("get is keycloak --at 999", "position 999 is past the head of the log ("),
    ("rollback keycloak:20 --to-time 2099-01-01T00:00:00Z", "is in the future (now "),
    # image stream tag names the API server refuses (library-go ParseImageStreamTagName,
    # ValidatePathSegmentName, ValidateImageStreamName) or oc's tag regex refuses
    ("create istag keycloak: --from-image quay.io/a/b:1", 'image stream tag name "keycloak:" must have a name and a tag'),
    ("create istag keycloak:a:b --from-image quay.io/a/b:1", 'expected exactly one : delimiter in the istag "keycloak:a:b"'),
    ("create istag keycloak:a@b --from-image quay.io/a/b:1", '"keycloak:a@b" is an image stream image, not an image stream tag'),
    ("create istag keycloak:a/b --from-image quay.io/a/b:1", "metadata.name: Invalid value: \"keycloak:a/b\": may not contain '/'"),
    ("create istag keycloak:a%b --from-image quay.io/a/b:1", "metadata.name: Invalid value: \"keycloak:a%b\": may not contain '%'"),
    ("get istag keycloak:a:b", 'expected exactly one : delimiter in the istag "keycloak:a:b"'),
    ("history keycloak:", 'image stream tag name "keycloak:" must have a name and a tag'),
    ("history keycloak:a%b", "may not contain '%'"),
    ("rollback keycloak:a@b --to-position 1", "is an image stream image, not an image stream tag"),
    ("log --tag keycloak:a:b", "expected exactly one : delimiter"),
    ("set triggers deployment/mykeycloak --from-image keycloak:a@b -c keycloak", "the value of --from-image is not valid"),
    ("tag -d keycloak:a%b", 'invalid tag "a%b" format'),
    ("tag quay.io/a/b:1 Bad/keycloak:1", 'invalid namespace "Bad"'),
    # 'namespace/name' may be at most 255 characters (ValidateImageStream)
    ("create istag " + "k" * 251 + ":1 --from-image quay.io/a/b:1", "'namespace/name' cannot be longer than 255 characters"),
    ("tag quay.io/a/b:1 " + "k" * 251 + ":1", "'namespace/name' cannot be longer than 255 characters"),
    ("import-image " + "k" * 251 + ":1 --from quay.io/a/b:1 --confirm", "'namespace/name' cannot be longer than 255"),
    # namespaces are DNS-1123 labels, from -n whatever the command
    ("-n 'a b' get is", 'invalid namespace "a b": a lowercase RFC 1123 label'),
    ("-n Bad tag quay.io/a/b:1 keycloak:9", 'invalid namespace "Bad": a lowercase RFC 1123 label'),
    ("-n " + "a" * 70 + " get is", "must be no more than 63 characters"),
    ("-n Bad verify", 'invalid namespace "Bad"'),
    # deployment names are DNS-1123 subdomains, on every command that takes one
    ("rollout pause deployment/Bad_Name", 'invalid deployment name "Bad_Name"'),
    ("history deployment/Bad_Name", 'invalid deployment name "Bad_Name"'),
    ("get deployment Bad_Name", 'invalid deployment name "Bad_Name"'),
    ("log --deployment Bad_Name", 'invalid deployment name "Bad_Name"'),
    # kubectl's words for an empty template; event types named like `schema` names them
    ("get is keycloak -o jsonpath=", "template format specified but no template given"),
    ("events tail --type Nope", 'unknown event type "Nope"; known: dev.imagetrail.Deployment.Attributed, dev.imagetrail.Deployment.Created'),
    # one prefix, whatever the message brought along
    ("set image deployment/mykeycloak nope=x:1", 'unable to find container named "nope"'),
]


@pytest.mark.sqlite_only
@pytest.mark.parametrize("command, message", NAMED, ids=[c[:60] for c, _ in NAMED])
def test_bad_command_lines_are_one_clear_line_and_write_nothing(keycloak, command, message):
    before = keycloak.event_count()
    result = keycloak.fails(command)
    assert message in result.err, result.err
    assert result.err.startswith("error: ") and not result.err.startswith("error: error:"), result.err
    assert result.err.count("\n") == 1 and "unexpected" not in result.err.replace("Got unexpected", ""), result.err
    assert result.code in (1, 2) and result.out == ""
    assert keycloak.event_count() == before


def test_namespace_from_the_environment_is_checked(keycloak, monkeypatch):
    monkeypatch.setenv("IMAGETRAIL_NAMESPACE", "Bad")
    assert keycloak.fails("get is").err.startswith('error: invalid namespace "Bad": a lowercase RFC 1123 label')


@pytest.mark.sqlite_only
@pytest.mark.parametrize("value, shown", [("a\nb", r'"a\nb"'), ("a\rb", r'"a\rb"'), ("\x1b[31mred", r'"\x1b[31mred"'),
                                          ("a\u2028b", r'"a\u2028b"'), ("tab\there", r'"tab\there"'),
                                          ('q"uote\\', r'"q\"uote\\"')])
def test_user_values_are_quoted_as_go_quotes_them(keycloak, value, shown):
    """A control character in what the user typed never splits the error line nor reaches the terminal raw."""
    for command in (["get", "is", value], ["set", "image", "deployment/mykeycloak", f"{value}=x:1"],
                    ["history", f"keycloak:{value}"], ["log", "--since", value], ["get", value]):
        keycloak.capsys.readouterr()
        with pytest.raises(SystemExit) as exit_:
            main(command)
        err = keycloak.capsys.readouterr().err
        assert exit_.value.code == 1 and shown in err, (command, err)
        assert err.startswith("error: ") and len(err.splitlines()) == 1 and err.endswith("\n"), (command, err)


def test_the_last_line_of_defence_keeps_any_message_on_one_line(keycloak, monkeypatch):
    """Even a message that did not quote its value (a store error, a click message) is one line."""
    from imagetrail.engine.domain.errors import NotFound

    def broken(*_args, **_kwargs):
        raise NotFound("error: first line\nsecond line\r\u2028third")
    monkeypatch.setattr("imagetrail.engine.service.deployments.Deployments.pause", broken)
    result = keycloak.fails("rollout pause deployment/mykeycloak")
    assert result.err == "error: first line\\nsecond line\\r\\u2028third\n"


@pytest.mark.sqlite_only
def test_a_read_of_a_store_that_does_not_exist_creates_nothing(imagetrail, tmp_path):
    store = tmp_path / "typo" / "dir" / "x.db"
    for command in ("get is", "describe is", "history keycloak:20", "log", "events tail", "verify",
                    "doctor deployment/web", "set triggers deployment/web", "rollout history deployment/web",
                    "set image-lookup", "get is --at 1", "rollback keycloak:20 --to-position 1 --dry-run",
                    "projections rebuild"):
        result = imagetrail.fails(f"--store sqlite://{store} {command}")
        assert result.err == (f"error: no store at {store}: nothing has been recorded yet "
                              "(a write command creates it)\n"), command
        assert result.code == 1 and result.out == ""
        assert not (tmp_path / "typo").exists(), command
    imagetrail(f"--store sqlite://{store} tag {KEYCLOAK}:20.0.2 keycloak:20")  # a write creates it
    assert store.exists()
    assert "keycloak" in imagetrail(f"--store sqlite://{store} get is").out


@pytest.mark.kafka_only
def test_a_read_of_a_topic_that_does_not_exist_creates_nothing(imagetrail):
    from kafka import KafkaConsumer

    def topics() -> set:
        consumer = KafkaConsumer(bootstrap_servers=imagetrail.kafka)
        try:
            return consumer.topics()
        finally:
            consumer.close()

    for command in ("get is", "history keycloak:20", "log", "events tail", "verify"):
        result = imagetrail.fails(command)
        assert result.err == (f"error: no topic {imagetrail.topic} at {imagetrail.kafka}: nothing has been "
                              "recorded yet (a write command creates it)\n"), command
        assert imagetrail.topic not in topics(), command
    imagetrail(f"tag {KEYCLOAK}:20.0.2 keycloak:20")  # a write creates it
    assert imagetrail.topic in topics()
    assert "keycloak" in imagetrail("get is").out


@pytest.mark.sqlite_only
def test_a_first_write_that_fails_leaves_no_store_behind(imagetrail, tmp_path):
    store = tmp_path / "new" / "dir" / "x.db"
    for command in ("create deployment Bad_x --image nginx", f"tag {KEYCLOAK}:20.0.2 Keycloak:1",
                    "apply -f /nonexistent.yaml", "rollout pause deployment/web"):
        imagetrail.fails(f"--store sqlite://{store} {command}")
        assert not (tmp_path / "new").exists(), command
    imagetrail(f"--store sqlite://{store} create deployment web --image quay.io/a/b@sha256:{'a' * 64}")
    imagetrail.fails(f"--store sqlite://{store} create deployment Bad_x --image nginx")
    assert "web" in imagetrail(f"--store sqlite://{store} get deploy").out  # a store with events stays


def test_container_names_are_sanitised_as_kubectl_does(keycloak):
    """kubectl create deployment turns '.' and '_' into '-' and adds a random suffix (sanitizeAndUniquify)."""
    import re

    keycloak("create deployment dotted --image quay.io/a/my.app:1 --image quay.io/a/my_app:1")
    doc = keycloak("get deployment dotted -o json").json()
    names = [c["name"] for c in doc["spec"]["template"]["spec"]["containers"]]
    assert all(re.fullmatch(r"my-app-[bcdfghjklmnpqrstvwxz2456789]{5}", n) for n in names) and len(set(names)) == 2


@pytest.mark.sqlite_only
def test_a_store_url_that_cannot_be_a_store_is_one_clear_line(imagetrail, tmp_path):
    (tmp_path / "notes.txt").write_text("not a database\n")
    cases = {
        f"sqlite://{tmp_path}/notes.txt": "file is not a database",
        f"sqlite://{tmp_path}": "is not a file",
        f"sqlite://{tmp_path}/{'a' * 300}.db": "File name too long",
    }
    for url, message in cases.items():
        for command in ("get is", f"tag {KEYCLOAK}:20.0.2 keycloak:20"):
            result = imagetrail.fails(f"--store {url} {command}")
            assert message in result.err and result.err.startswith("error: ") and result.err.count("\n") == 1, result.err
    through_a_file = f"sqlite://{tmp_path}/notes.txt/x.db"
    for command, message in (("get is", "no store at"), (f"tag {KEYCLOAK}:20.0.2 keycloak:20",
                                                         "cannot create the store directory")):
        result = imagetrail.fails(f"--store {through_a_file} {command}")
        assert message in result.err and result.err.startswith("error: ") and result.err.count("\n") == 1, result.err
