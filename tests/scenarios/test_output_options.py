"""kubectl's output options on the read commands: -o custom-columns[-file], jsonpath-as-json, jsonpath-file,
--allow-missing-template-keys and --no-headers, printed as kubectl 1.32 prints them.

The expected texts were captured from kubectl 1.32 (`kubectl get` against a stub API server serving the same
documents); test_agrees_with_kubectl re-checks them live when kubectl is on PATH. The pure cases at the end
mirror kubectl's own pkg/cmd/get/customcolumn_test.go.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from imagetrail.cli import printers
from imagetrail.engine.domain.errors import UsageError

DIGEST_A = "quay.io/keycloak/keycloak@sha256:" + "a" * 64
TRIGGERS = r"{.metadata.annotations.image\.openshift\.io/triggers}"


WEB = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: nginx, image: "nginx:1.25"}
      - {name: sidecar, image: "quay.io/b/sidecar:2"}
"""


@pytest.fixture
def two_deployments(keycloak, tmp_path):
    """mykeycloak (trigger on keycloak:20) and web, a plain two-container Deployment."""
    (tmp_path / "web.yaml").write_text(WEB)
    keycloak(f"apply -f {tmp_path / 'web.yaml'}")
    return keycloak


def error_line(it, command: str) -> str:
    result = it.fails(command)
    assert result.code == 1 and result.out == "", (result.code, result.out)
    assert result.err.startswith("error: ") and result.err.count("\n") == 1, result.err
    return result.err[len("error: "):-1]


# -- custom-columns ------------------------------------------------------------------------------

def test_custom_columns_print_one_row_per_object_in_kubectls_table(two_deployments):
    out = two_deployments("get deployment -o custom-columns=NAME:.metadata.name,"
                          "CONTAINERS:.spec.template.spec.containers[*].name,"
                          "REPLICAS:spec.replicas,PAUSED:{.spec.paused},LABELS:{metadata.labels}").out
    # several values joined by commas, a missing one <none>, a map as Go's fmt.Sprint prints it
    assert out == ("NAME         CONTAINERS      REPLICAS   PAUSED   LABELS\n"
                   "mykeycloak   keycloak        1          <none>   map[app:mykeycloak]\n"
                   "web          nginx,sidecar   1          <none>   map[app:web]\n")


def test_custom_columns_of_one_object_and_of_nested_values(keycloak):
    out = keycloak("get is keycloak -o custom-columns=TAGS:.status.tags[*].tag,LOCAL:.spec.lookupPolicy.local,"
                   "FROM:.spec.tags[0].from").out
    assert out == ("TAGS               LOCAL   FROM\n"
                   "20,20.0.2,20.0.3   true    map[kind:ImageStreamTag name:keycloak:20.0.2]\n")


def test_narrow_columns_are_six_wide_and_no_headers_sizes_without_the_header(two_deployments):
    # kubectl's tabwriter: minimum width 6, padding 3
    spec = "custom-columns=R:.spec.replicas,LONG_HEADER_NAME:.metadata.name,X:.kind"
    assert two_deployments(f"get deployment -o {spec}").out == (
        "R     LONG_HEADER_NAME   X\n"
        "1     mykeycloak         Deployment\n"
        "1     web                Deployment\n")
    assert two_deployments(f"get deployment -o {spec} --no-headers").out == (
        "1     mykeycloak   Deployment\n"
        "1     web          Deployment\n")


def test_custom_columns_file_is_a_header_line_and_a_spec_line(two_deployments, tmp_path):
    # kubectl's exampleTemplateTwo: any white space between the words, lines after the second ignored
    columns = tmp_path / "columns.txt"
    columns.write_text("NAME               \t\tIMAGE\n\t\t\t{metadata.name}    .spec.template.spec.containers[0].image\n"
                       "ignored\n")
    expected = ("NAME         IMAGE\n"
                f"mykeycloak   {DIGEST_A}\n"
                "web          nginx:1.25\n")
    assert two_deployments(f"get deployment -o custom-columns-file={columns}").out == expected
    # kubectl's file printer ignores --no-headers (NewCustomColumnsPrinterFromTemplate sets NoHeaders false)
    assert two_deployments(f"get deployment -o custom-columns-file={columns} --no-headers").out == expected


def test_custom_columns_on_no_objects_print_the_header_only(imagetrail):
    imagetrail("create istag keycloak:20.0.2 --from-image quay.io/keycloak/keycloak:20.0.2")  # a store, no Deployment
    result = imagetrail("get deployment -o custom-columns=NAME:.metadata.name,IMAGE:.spec.x")
    assert (result.out, result.err) == ("NAME   IMAGE\n", "")


def test_a_column_that_fails_on_the_data_is_one_line_and_prints_nothing(keycloak):
    # kubectl prints the header, then the engine's own message; a failed read here prints nothing at all
    assert error_line(keycloak, "get deployment -o custom-columns=C:.spec.template.spec.containers[5].name") == \
        "array index out of bounds: index 5, length 1"


# -- default tables ------------------------------------------------------------------------------

def test_no_headers_drops_the_header_of_the_default_and_wide_tables(two_deployments):
    lines = two_deployments("get deployment --no-headers").out.splitlines()
    assert [line.rsplit(" ", 1)[0] for line in lines] == ["mykeycloak   1/1   1     1    ", "web          1/1   1     1    "]
    wide = two_deployments("get deployment -o wide --no-headers").out.splitlines()
    assert wide[1].split() == ["web", "1/1", "1", "1", wide[1].split()[4], "nginx,sidecar",
                               "nginx:1.25,quay.io/b/sidecar:2", "app=web"]


def test_wide_on_no_objects_says_so_as_the_default_table_does(imagetrail):
    imagetrail("create istag keycloak:20.0.2 --from-image quay.io/keycloak/keycloak:20.0.2")  # a store, no Deployment
    result = imagetrail("get deployment -o wide")
    assert (result.out, result.err) == ("", "No resources found in demo namespace.\n")


# -- jsonpath-as-json, jsonpath-file --------------------------------------------------------------

def test_jsonpath_as_json_prints_each_expression_as_an_indented_array(two_deployments):
    out = two_deployments("get deployment -o jsonpath-as-json='{.items[*].metadata.name}{.kind}'").out
    assert out == '[\n    "mykeycloak",\n    "web"\n]\n[\n    "List"\n]\n'
    one = two_deployments("get deployment web -o jsonpath-as-json='{.spec.template.spec.containers[1]}{.nope}'").out
    assert one == ('[\n    {\n        "image": "quay.io/b/sidecar:2",\n        "name": "sidecar"\n    }\n]\n'
                   "[]\n")


def test_jsonpath_file_reads_the_template_from_a_file(two_deployments, tmp_path):
    template = tmp_path / "names.jsonpath"
    template.write_text('{range .items[*]}{.metadata.name}{"\\t"}{.spec.template.spec.containers[0].image}{"\\n"}{end}')
    assert two_deployments(f"get deployment -o jsonpath-file={template}").out == \
        f"mykeycloak\t{DIGEST_A}\nweb\tnginx:1.25\n"


# -- --allow-missing-template-keys ----------------------------------------------------------------

def test_missing_keys_print_nothing_unless_allow_missing_template_keys_is_false(two_deployments):
    assert two_deployments("get deployment mykeycloak -o jsonpath='{.spec.paused}'").out == ""
    assert two_deployments("get deployment mykeycloak -o jsonpath='{.spec.paused}' "
                           "--allow-missing-template-keys").out == ""
    for false in ("false", "0", "F"):  # Go's strconv.ParseBool
        assert error_line(two_deployments, f"get deployment mykeycloak -o jsonpath='{{.spec.paused}}' "
                                           f"--allow-missing-template-keys={false}") == (
            'error executing jsonpath "{.spec.paused}": Error executing template: paused is not found. '
            "Printing more information for debugging the template:")
    # a key that one item has is no error: client-go fails only when no value has it
    assert two_deployments("get deployment -o jsonpath='{.items[*].metadata.annotations.image\\.openshift\\.io/triggers}' "
                           "--allow-missing-template-keys=false").out \
        .startswith('[{"from":{"kind":"ImageStreamTag","name":"keycloak:20"}')
    # and custom columns are always lenient, as in kubectl
    assert two_deployments("get deployment web -o custom-columns=P:.spec.paused "
                           "--allow-missing-template-keys=false").out == "P\n<none>\n"


def test_allow_missing_template_keys_false_applies_to_jsonpath_as_json(keycloak):
    assert error_line(keycloak, "get is keycloak -o jsonpath-as-json='{.spec.nope}' "
                                "--allow-missing-template-keys=false").endswith(": nope is not found. "
                                                                                "Printing more information for "
                                                                                "debugging the template:")


def test_allow_missing_template_keys_takes_only_go_booleans(imagetrail):
    result = imagetrail.fails("get is -o jsonpath='{.x}' --allow-missing-template-keys=no")
    assert result.code == 2 and result.out == ""
    assert 'strconv.ParseBool: parsing "no": invalid syntax' in result.err and result.err.count("\n") == 1


# -- bad -o values: kubectl's messages, one line, exit 1, before anything is read -----------------

BAD_OUTPUT = [
    ("-o jsonpath=", "template format specified but no template given"),
    ("-o jsonpath", "template format specified but no template given"),
    ("-o jsonpath-as-json=", "template format specified but no template given"),
    ("-o jsonpath-file=", "template format specified but no template given"),
    ("-o jsonpath-file=/nonexistent/t", "error reading --template /nonexistent/t, "
                                        "open /nonexistent/t: no such file or directory"),
    ("-o jsonpath-file=/", "error reading --template /, read /: is a directory"),
    ("-o jsonpath-as-json='{.a[}'", "error parsing jsonpath {.a[}, unterminated array"),
    ("-o custom-columns=", "custom-columns format specified but no custom columns given"),
    ("-o custom-columns", "custom-columns format specified but no custom columns given"),
    ("-o custom-columns-file=", "custom-columns format specified but no custom columns given"),
    ("-o custom-columns=NAME", "unexpected custom-columns spec: NAME, expected <header>:<json-path-expr>"),
    ("-o custom-columns=NAME:.metadata.name,IMAGE",
     "unexpected custom-columns spec: IMAGE, expected <header>:<json-path-expr>"),
    ("-o custom-columns=A:{.x}{.y}", "unexpected path string, expected a 'name1.name2' or '.name1.name2' "
                                     "or '{name1.name2}' or '{.name1.name2}'"),
    ("-o custom-columns=A:.x[", "unterminated array"),
    ("-o custom-columns-file=/nonexistent/c", "error reading template /nonexistent/c, "
                                              "open /nonexistent/c: no such file or directory"),
    ("-o custom-columns-file=/", "invalid template, missing header line. Expected format is one line of "
                                 "space separated headers, one line of space separated column specs."),
    ("-o json=x", 'unable to match a printer suitable for the output format "json=x", allowed formats are: '
                  + printers.FORMATS),
]


@pytest.mark.parametrize("option, message", BAD_OUTPUT, ids=[o for o, _ in BAD_OUTPUT])
def test_bad_output_option_is_kubectls_one_line(imagetrail, option, message):
    assert error_line(imagetrail, f"get deployment {option}") == message


@pytest.mark.parametrize("content, message", [
    ("", "invalid template, missing header line. Expected format is one line of space separated headers, "
         "one line of space separated column specs."),
    ("NAME IMAGE\n", "invalid template, missing spec line. Expected format is one line of space separated "
                     "headers, one line of space separated column specs."),
    ("NAME IMAGE\n.metadata.name\n", "number of headers (2) and field specifications (1) don't match"),
    ("A\n{.x}{.y}\n", "unexpected path string, expected a 'name1.name2' or '.name1.name2' "
                      "or '{name1.name2}' or '{.name1.name2}'"),
], ids=["empty", "no spec line", "counts differ", "two expressions"])
def test_bad_custom_columns_file_is_kubectls_one_line(imagetrail, tmp_path, content, message):
    path = tmp_path / "columns.txt"
    path.write_text(content)
    assert error_line(imagetrail, f"get deployment -o custom-columns-file={path}") == message


def test_a_bad_template_file_stays_one_line(imagetrail, tmp_path):
    path = tmp_path / "t"
    path.write_text("{.x\n")  # kubectl prints the file's newline inside its message
    assert error_line(imagetrail, f"get deployment -o jsonpath-file={path}") == \
        "error parsing jsonpath {.x\\n, unclosed action"


# -- kubectl's own custom-columns cases (pkg/cmd/get/customcolumn_test.go) -----------------------

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "fake-name", "namespace": "fake-namespace"},
       "spec": {"containers": [{"name": f"fake{i}"} for i in range(4)]}}


def columns(spec: str, *docs: dict, **flags) -> str:
    return printers.emit(printers.output_format(f"custom-columns={spec}", **flags), list(docs), len(docs) == 1,
                         plain=list, resource="pod")


@pytest.mark.parametrize("path", ["foo.bar", "{foo.bar}", ".foo.bar", "{.foo.bar}"])
def test_relaxed_jsonpath_expressions(path):  # TestMassageJSONPath
    assert columns(f"X:{path}", {"foo": {"bar": "baz"}}) == "X\nbaz\n"


@pytest.mark.parametrize("path", ["{foo.bar", "foo.bar}", "{foo.bar}}", "{{foo.bar}"])
def test_relaxed_jsonpath_expressions_refused(path):
    with pytest.raises(UsageError, match="unexpected path string"):
        columns(f"X:{path}", {})


@pytest.mark.parametrize("spec", ["invalid", "invalid=foobar", "invalid,foobar:blah"])
def test_column_specs_refused(spec):  # TestNewColumnPrinterFromSpec
    with pytest.raises(UsageError, match=r"unexpected custom-columns spec: invalid(=foobar)?, expected"):
        columns(spec, POD)


def test_column_print():  # TestColumnPrint and TestIndividualPrintObjOnExistingTabWriter
    assert columns("NAME:{.metadata.name}", POD) == "NAME\nfake-name\n"
    assert columns("NAME:{.metadata.name}", {"metadata": {"name": "foo"}}, {"metadata": {"name": "bar"}}) == \
        "NAME\nfoo\nbar\n"
    foo = {"apiVersion": "baz", "metadata": {"name": "foo"}}
    assert columns("NAME:{.metadata.name},API_VERSION:{.apiVersion}", foo) == "NAME   API_VERSION\nfoo    baz\n"
    assert columns("NAME:{.metadata.name},API_VERSION:{.apiVersion},NOT_FOUND:{.notFound}", foo) == \
        "NAME   API_VERSION   NOT_FOUND\nfoo    baz           <none>\n"
    pods = [{"metadata": {"name": n, "labels": {"label1": n, "label2": n}}} for n in ("foo", "bar")]
    assert columns("NAME:{.metadata.name},LONG COLUMN NAME:{.metadata.labels.label1},"
                   "LABEL 2:{.metadata.labels.label2}", *pods) == (
        "NAME   LONG COLUMN NAME   LABEL 2\nfoo    foo                foo\nbar    bar                bar\n")
    assert "API_VERSION" not in columns("API_VERSION:apiVersion", POD, no_headers=True)


@pytest.mark.parametrize("index, expected", [
    ("0", "fake0"), ("3", "fake3"), ("-1", "fake3"), ("-2", "fake2"), ("-4", "fake0"), ("0:0", "<none>"),
    ("0:3", "fake0,fake1,fake2"), ("1:", "fake1,fake2,fake3"), ("0:-1", "fake0,fake1,fake2"), ("-1:", "fake3"),
    ("-4:", "fake0,fake1,fake2,fake3"), ("-3:-1", "fake1,fake2"), ("4:4", "<none>"), ("-5:-5", "<none>"),
])
def test_slice_column_print(index, expected):  # TestSliceColumnPrint
    assert columns(f"CONTAINER:.spec.containers[{index}].name", POD) == f"CONTAINER\n{expected}\n"


@pytest.mark.parametrize("index", ["5", "-5", "3:1", "-2:-3"])
def test_slice_column_print_errors(index):
    with pytest.raises(UsageError):
        columns(f"CONTAINER:.spec.containers[{index}].name", POD)


def test_values_are_escaped_for_the_terminal():  # cli-runtime printers.EscapeTerminal
    assert columns("V:.v", {"v": "a\x1b[31mb\rc"}) == "V\na^[[31mb\\rc\n"


# -- the same documents through a real kubectl ---------------------------------------------------

class _StubAPIServer(BaseHTTPRequestHandler):
    """Just enough of an API server for `kubectl get deployments`: discovery, list and get."""

    items: list = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        path = self.path.split("?")[0]
        base = "/apis/apps/v1/namespaces/demo/deployments"
        by_name = {d["metadata"]["name"]: d for d in self.items}
        body = {
            "/api": {"kind": "APIVersions", "versions": ["v1"]},
            "/api/v1": {"kind": "APIResourceList", "groupVersion": "v1", "resources": []},
            "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": [{
                "name": "apps", "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
                "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"}}]},
            "/apis/apps/v1": {"kind": "APIResourceList", "groupVersion": "apps/v1", "resources": [{
                "name": "deployments", "singularName": "deployment", "namespaced": True, "kind": "Deployment",
                "verbs": ["get", "list"]}]},
            base: {"kind": "DeploymentList", "apiVersion": "apps/v1", "metadata": {}, "items": self.items},
        }.get(path) or by_name.get(path.removeprefix(base + "/"))
        data = json.dumps(body or {"kind": "Status", "code": 404}).encode()
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


KUBECTL_CASES = [
    "-o custom-columns=NAME:.metadata.name,CONTAINERS:.spec.template.spec.containers[*].name,"
    "IMAGE:{.spec.template.spec.containers[0].image},PAUSED:.spec.paused,LABELS:metadata.labels,EMPTY:",
    "-o custom-columns=R:.spec.replicas,P:.spec.template.spec.containers[*].ports --no-headers",
    "-o custom-columns=C:.spec.template.spec.containers[1].name",
    "-o custom-columns-file=COLUMNS",
    "-o jsonpath-as-json={.items[*].spec.template.spec}{.kind}{.nope}",
    "mykeycloak -o jsonpath-as-json={.metadata}",
    "-o jsonpath-file=TEMPLATE",
    f"-o jsonpath={TRIGGERS} --allow-missing-template-keys=false",
    "-o jsonpath={.items[*].spec.paused} --allow-missing-template-keys=false",
    "web -o jsonpath={.spec.strategy} --allow-missing-template-keys=f",
    "-o name",
]


@pytest.mark.sqlite_only
@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")
def test_agrees_with_kubectl(two_deployments, tmp_path):
    _StubAPIServer.items = two_deployments("get deployment -o json").json()["items"]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StubAPIServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "stub",
        "clusters": [{"name": "stub", "cluster": {"server": f"http://127.0.0.1:{server.server_port}"}}],
        "contexts": [{"name": "stub", "context": {"cluster": "stub", "namespace": "demo"}}],
        "users": [{"name": "stub", "user": {}}]}))
    (tmp_path / "columns").write_text("NAME IMAGES\n.metadata.name {.spec.template.spec.containers[*].image}\n")
    (tmp_path / "template").write_text('{range .items[*]}{.metadata.name}{"\\n"}{end}')
    try:
        for case in KUBECTL_CASES:
            args = case.replace("COLUMNS", str(tmp_path / "columns")).replace("TEMPLATE", str(tmp_path / "template"))
            args = args.split(" ")
            theirs = subprocess.run(["kubectl", "--kubeconfig", str(kubeconfig), "get", "deployment", *args],
                                    capture_output=True, text=True, timeout=60)
            ours = two_deployments(shlex.join(["get", "deployment", *args]), ok=False)
            assert ours.code == theirs.returncode, (case, ours.err, theirs.stderr)
            if theirs.returncode:
                assert theirs.stderr.startswith(ours.err), (case, ours.err, theirs.stderr)
            else:
                assert ours.out == theirs.stdout, case
    finally:
        server.shutdown()
