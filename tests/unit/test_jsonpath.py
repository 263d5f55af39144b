"""Tests for imagetrail.cli.jsonpath, the kubectl `-o jsonpath=` renderer.

Every expected output below is what kubectl 1.32 prints for the same template and
object (captured with `kubectl annotate --local -f - zz- -o jsonpath=...`);
test_agrees_with_kubectl re-checks a subset live when kubectl is on PATH.
"""

import json
import shutil
import subprocess

import pytest

from imagetrail.cli.jsonpath import JSONPathError, render

TRIGGERS = (
    r'[{"from":{"kind":"ImageStreamTag","name":"keycloak:20"},'
    r'"fieldPath":"spec.template.spec.containers[?(@.name==\"keycloak\")].image"}]'
)

DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {
        "name": "keycloak",
        "namespace": "sso",
        "labels": {"app": "keycloak", "app.kubernetes.io/name": "keycloak"},
        "annotations": {"image.openshift.io/triggers": TRIGGERS},
    },
    "spec": {
        "replicas": 2,
        "paused": False,
        "template": {
            "spec": {
                "containers": [
                    {
                        "name": "keycloak",
                        "image": "quay.io/keycloak/keycloak:20.0.3",
                        "ports": [{"containerPort": 8080}, {"containerPort": 8443}],
                    },
                    {
                        "name": "oauth-proxy",
                        "image": "quay.io/openshift/origin-oauth-proxy:4.12",
                        "ports": [{"containerPort": 4180}],
                    },
                    {"name": "log-shipper", "image": "fluent-bit:2.1"},
                ]
            }
        },
    },
    "status": {
        "readyReplicas": 2,
        "conditions": [
            {"type": "Available", "status": "True"},
            {"type": "Progressing", "status": "True"},
        ],
    },
}

IMAGESTREAM = {
    "apiVersion": "image.openshift.io/v1",
    "kind": "ImageStream",
    "metadata": {"name": "keycloak", "namespace": "sso", "annotations": {}},
    "status": {
        "tags": [
            {"tag": "20", "items": [{"image": "sha256:20b", "generation": 4},
                                    {"image": "sha256:20a", "generation": 2}]},
            {"tag": "21", "items": [{"image": "sha256:21a", "generation": 5}]},
            {"tag": "latest", "items": [{"image": "sha256:21a", "generation": 5}]},
        ]
    },
}

ITEMS = {
    "items": [
        {"name": "a", "replicas": 1, "ratio": 0.5, "paused": True},
        {"name": "b", "replicas": 3, "ratio": 1.5, "paused": False},
        {"name": "c", "replicas": 5, "ratio": 2.5},
    ],
    "nums": [1, 2, 3, 4],
}

SCALARS = {
    "ratio": 0.25,
    "big": 1000000.0,
    "tiny": 1e-05,
    "whole": 2.0,
    "floats": [1.0, 1000000.0, 1.5e-7, 1e21],
    "nil": None,
    "html": {"k": "<a&b>"},
    "name": "ab",
}

CTRS = "{.spec.template.spec.containers"  # most Deployment templates start here

RENDER_CASES = [
    # the lecture's templates
    ("triggers-annotation", r"{.metadata.annotations.image\.openshift\.io/triggers}", DEPLOYMENT, TRIGGERS),
    ("filter-image", CTRS + '[?(@.name=="keycloak")].image}', DEPLOYMENT, "quay.io/keycloak/keycloak:20.0.3"),
    ("status-tags", "{.status.tags[*].tag}", IMAGESTREAM, "20 21 latest"),
    # fields, literal text, current-object markers
    ("field", "{.metadata.name}", DEPLOYMENT, "keycloak"),
    ("text-around", "name={.metadata.name} ns={.metadata.namespace}!", DEPLOYMENT, "name=keycloak ns=sso!"),
    ("text-only", "no braces at all", DEPLOYMENT, "no braces at all"),
    ("at-root", "{@.metadata.name}", DEPLOYMENT, "keycloak"),
    ("dollar-root", "{$.metadata.name}", DEPLOYMENT, "keycloak"),
    ("spaces-inside", "{ .metadata.name }", DEPLOYMENT, "keycloak"),
    ("int", "{.spec.replicas}", DEPLOYMENT, "2"),
    ("bool", "{.spec.paused}", DEPLOYMENT, "false"),
    ("missing-key", "{.nope}", DEPLOYMENT, ""),
    ("missing-deep", "[{.spec.nope.deeper[0]}]", DEPLOYMENT, "[]"),
    # kubectl parses `{.}` as the field "" (so prints nothing); `{@}` is the object
    ("dot-is-empty-field", "{.}", {"a": 1}, ""),
    ("at-whole-object", "{@}", {"b": [1], "a": 1}, '{"a":1,"b":[1]}'),
    # keys with dots and slashes
    ("escaped-dots", r"{.metadata.labels.app\.kubernetes\.io/name}", DEPLOYMENT, "keycloak"),
    ("bracket-escaped", r"{.metadata.labels['app\.kubernetes\.io/name']}", DEPLOYMENT, "keycloak"),
    ("bracket-dots-are-a-path", "{.metadata.labels['app.kubernetes.io/name']}", DEPLOYMENT, ""),
    ("bracket-key", "{['metadata']['name']}", DEPLOYMENT, "keycloak"),
    ("union-keys", "{.metadata['name', 'namespace']}", DEPLOYMENT, "keycloak sso"),
    # indexes and slices
    ("index", CTRS + "[0].name}", DEPLOYMENT, "keycloak"),
    ("negative-index", CTRS + "[-1].name}", DEPLOYMENT, "log-shipper"),
    ("slice", CTRS + "[1:3].name}", DEPLOYMENT, "oauth-proxy log-shipper"),
    ("slice-open-end", CTRS + "[-2:].name}", DEPLOYMENT, "oauth-proxy log-shipper"),
    ("slice-step", CTRS + "[::2].name}", DEPLOYMENT, "keycloak log-shipper"),
    ("slice-empty", CTRS + "[5:5].name}", DEPLOYMENT, ""),
    ("star", CTRS + "[*].name}", DEPLOYMENT, "keycloak oauth-proxy log-shipper"),
    ("union-index", CTRS + "[0,2].name}", DEPLOYMENT, "keycloak log-shipper"),
    ("nested-star", CTRS + "[*].ports[*].containerPort}", DEPLOYMENT, "8080 8443 4180"),
    ("recursive", "{..containerPort}", DEPLOYMENT, "8080 8443 4180"),
    ("recursive-after-field", "{.status..type}", DEPLOYMENT, "Available Progressing"),
    ("range-index", "{range .status.tags[*]}{.tag}={.items[0].image}{' '}{end}", IMAGESTREAM,
     "20=sha256:20b 21=sha256:21a latest=sha256:21a "),
    # filters: strings, quotes, existence
    ("filter-single-quotes", CTRS + "[?(@.name=='keycloak')].image}", DEPLOYMENT, "quay.io/keycloak/keycloak:20.0.3"),
    ("filter-spaces", CTRS + '[?(@.name == "keycloak")].name}', DEPLOYMENT, "keycloak"),
    ("filter-ne", CTRS + '[?(@.name!="keycloak")].name}', DEPLOYMENT, "oauth-proxy log-shipper"),
    ("filter-string-order", CTRS + '[?(@.name>"m")].name}', DEPLOYMENT, "oauth-proxy"),
    ("filter-paren-in-quotes", CTRS + '[?(@.name=="(x)")].name}', DEPLOYMENT, ""),
    ("filter-exists", CTRS + "[?(@.ports)].name}", DEPLOYMENT, "keycloak oauth-proxy"),
    ("filter-then-index", '{.status.conditions[?(@.type=="Available")].status}', DEPLOYMENT, "True"),
    ("filter-tag", '{.status.tags[?(@.tag=="21")].items[0].image}', IMAGESTREAM, "sha256:21a"),
    ("filter-nested", CTRS + '[?(@.name=="keycloak")].ports[?(@.containerPort>8080)].containerPort}',
     DEPLOYMENT, "8443"),
    # client-go keeps items where an out-of-range index made the exists test fail
    ("filter-exists-index-quirk", CTRS + "[?(@.ports[3])].name}", DEPLOYMENT, "keycloak oauth-proxy"),
    # filters: numbers and bools (ints compare with ints, floats with floats)
    ("num-gt", "{.items[?(@.replicas>1)].name}", ITEMS, "b c"),
    ("num-lt", "{.items[?(@.replicas<3)].name}", ITEMS, "a"),
    ("num-le", "{.items[?(@.replicas<=3)].name}", ITEMS, "a b"),
    ("num-ge", "{.items[?(@.replicas>=3)].name}", ITEMS, "b c"),
    ("num-eq", "{.items[?(@.replicas==3)].name}", ITEMS, "b"),
    ("num-ne", "{.items[?(@.replicas!=3)].name}", ITEMS, "a c"),
    ("num-negative", "{.items[?(@.replicas>-1)].name}", ITEMS, "a b c"),
    ("float-gt", "{.items[?(@.ratio>1.0)].name}", ITEMS, "b c"),
    ("port-ge", CTRS + "[?(@.ports[0].containerPort>=4180)].name}", DEPLOYMENT, "keycloak oauth-proxy"),
    ("port-lt", CTRS + "[?(@.ports[0].containerPort<8000)].name}", DEPLOYMENT, "oauth-proxy"),
    ("bare-numbers", "{.nums[?(@>2)]}", ITEMS, "3 4"),
    ("bool-exists-even-if-false", "{.items[?(@.paused)].name}", ITEMS, "a b"),
    ("bool-eq-true", "{.items[?(@.paused==true)].name}", ITEMS, "a"),
    ("bool-eq-false", "{.items[?(@.paused==false)].name}", ITEMS, "b"),
    # range / end
    ("range-lines", "{range .spec.template.spec.containers[*]}{.name}{'\\t'}{.image}{\"\\n\"}{end}", DEPLOYMENT,
     "keycloak\tquay.io/keycloak/keycloak:20.0.3\n"
     "oauth-proxy\tquay.io/openshift/origin-oauth-proxy:4.12\n"
     "log-shipper\tfluent-bit:2.1\n"),
    ("range-nested", "{range .spec.template.spec.containers[*]}{.name}:{range .ports[*]}{.containerPort},{end};{end}",
     DEPLOYMENT, "keycloak:8080,8443,;oauth-proxy:4180,;log-shipper:;"),
    ("range-then-text", "{range .items[*]}{.name}{end}|{.nums[0]}", ITEMS, "abc|1"),
    ("range-empty", "{range .spec.none[*]}{.name}{end}done", DEPLOYMENT, "done"),
    # without {end} kubectl runs the body per item, then once more on the object
    ("range-no-end", "{range .items[*]}{.name}{'\\n'}", ITEMS, "a\nb\nc\n\n"),
    ("range-current", "{range .nums[*]}{@},{end}", ITEMS, "1,2,3,4,"),
    # literals
    ("string-escapes", r"""{"a\tb"}{'\n'}{"\x41\u00e9\101"}{'it\'s'}{"\""}""", {}, "a\tb\nAéA" + "it's\""),
    ("string-braces", '{"{"}x{"}"}', {}, "{x}"),
    ("number-literals", "{5} {-2} {1.50} {true}", {}, "5 -2 1.5 true"),
    # printing like Go
    ("json-sorted-keys", "{.status.conditions[0]}", DEPLOYMENT, '{"status":"True","type":"Available"}'),
    ("json-map", "{.metadata.labels}", DEPLOYMENT, '{"app":"keycloak","app.kubernetes.io/name":"keycloak"}'),
    ("json-html-escaped", "{.html}|{.html.k}", SCALARS, '{"k":"\\u003ca\\u0026b\\u003e"}|<a&b>'),
    ("json-string-in-map", "{.metadata.annotations}", DEPLOYMENT,
     json.dumps({"image.openshift.io/triggers": TRIGGERS}, separators=(",", ":"))),
    ("floats-text", "{.ratio} {.big} {.tiny} {.whole}", SCALARS, "0.25 1e+06 1e-05 2"),
    ("floats-json", "{.floats}", SCALARS, "[1,1000000,1.5e-7,1e+21]"),
    ("floats-each", "{.floats[*]}", SCALARS, "1 1e+06 1.5e-07 1e+21"),
    ("null", "{.nil}|{@.nil}", SCALARS, "null|null"),
    ("null-in-json", "{.x}", {"x": {"n": None}}, '{"n":null}'),
    ("string-star-gives-bytes", "{.name.*}", SCALARS, "97 98"),
]


@pytest.mark.parametrize("template,data,expected", [c[1:] for c in RENDER_CASES], ids=[c[0] for c in RENDER_CASES])
def test_render(template, data, expected):
    assert render(template, data) == expected


def test_triggers_annotation_is_the_stored_json():
    out = render(r"{.metadata.annotations.image\.openshift\.io/triggers}", DEPLOYMENT)
    assert out == TRIGGERS
    assert json.loads(out)[0]["fieldPath"] == 'spec.template.spec.containers[?(@.name=="keycloak")].image'


ERROR_CASES = [
    # parse errors
    ("{.a[}", DEPLOYMENT, "error parsing jsonpath {.a[}, unterminated array"),
    ("{.spec", DEPLOYMENT, "error parsing jsonpath {.spec, unclosed action"),
    ('{.x[?(@.a=="b")}', DEPLOYMENT, 'error parsing jsonpath {.x[?(@.a=="b")}, unclosed array expect ]'),
    ('{.x[?(@.a=="b"]}', DEPLOYMENT, 'error parsing jsonpath {.x[?(@.a=="b"]}, unterminated filter'),
    ("{*}", DEPLOYMENT, "error parsing jsonpath {*}, unrecognized character in action: U+002A '*'"),
    ("{.x[y]}", DEPLOYMENT, "error parsing jsonpath {.x[y]}, invalid array index y"),
    ('{.x["y"]}', DEPLOYMENT, 'error parsing jsonpath {.x["y"]}, invalid array index "y"'),
    ('{"abc}', DEPLOYMENT, 'error parsing jsonpath {"abc}, unterminated quoted string'),
    ('{"\\q"}', DEPLOYMENT, 'error parsing jsonpath {"\\q"}, unquote string "\\q" error invalid syntax'),
    ("{........}", DEPLOYMENT, "error parsing jsonpath {........}, invalid multiple recursive descent"),
    ("{+12.3.0}", DEPLOYMENT, "error parsing jsonpath {+12.3.0}, cannot parse number +12.3.0"),
    # execution errors (missing keys are not errors by default)
    ("{foo}", DEPLOYMENT, 'error executing jsonpath "{foo}": Error executing template: unrecognized identifier foo'),
    ("{end}", DEPLOYMENT, 'error executing jsonpath "{end}": Error executing template: not in range, nothing to end'),
    (CTRS + "[5].name}", DEPLOYMENT, "array index out of bounds: index 5, length 3"),
    (CTRS + "[2:1].name}", DEPLOYMENT, "starting index 2 is greater than ending index 1"),
    (CTRS + "[0:3:0].name}", DEPLOYMENT, "step must be > 0"),
    ("{.metadata[0]}", DEPLOYMENT, "map[string]interface {} is not array or slice"),
    ("{.metadata.name[?(@.a)]}", DEPLOYMENT, "keycloak is not array or slice and cannot be filtered"),
    (CTRS + "[?(@.name==1)].name}", DEPLOYMENT, "incompatible types for comparison"),
    ("{.items[?(@.replicas>1.5)].name}", ITEMS, "incompatible types for comparison"),  # int data, float literal
    ("{.items[?(@.paused<true)].name}", ITEMS, "invalid type for comparison"),
    ("{.items[?(@.replicas<>1)].name}", ITEMS, "unrecognized filter operator <>"),
]


@pytest.mark.parametrize("template,data,message", ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_errors(template, data, message):
    with pytest.raises(JSONPathError) as err:
        render(template, data)
    assert message in str(err.value)
    assert str(err.value).startswith(("error parsing jsonpath ", "error executing jsonpath "))
    assert "\n" not in str(err.value)
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize("template,lenient,missing", [
    ("{.nope}", "", "nope"),
    ("{.spec.nope.deeper}", "", "nope"),
    ("{range .items[*]}{.replicas}{.paused}{end}", "1true3false5", "paused"),
])
def test_missing_keys_can_be_errors(template, lenient, missing):
    data = {**ITEMS, "spec": {}}
    assert render(template, data) == lenient  # kubectl's default
    # kubectl's first line: its printer goes on to print the template and the object
    with pytest.raises(JSONPathError, match=f": {missing} is not found\\. Printing more information for "
                                            "debugging the template:$"):
        render(template, data, allow_missing=False)  # --allow-missing-template-keys=false


def test_filter_skips_items_missing_the_compared_key_even_when_strict():
    # client-go reports "not found" here: the missing key is an error when strict
    with pytest.raises(JSONPathError, match="paused is not found"):
        render("{.items[?(@.paused==true)].name}", ITEMS, allow_missing=False)
    assert render("{.items[?(@.paused)].name}", ITEMS, allow_missing=False) == "a b"


# Templates re-run through a real kubectl when one is installed.
KUBECTL_CASES = [
    (r"{.metadata.annotations.image\.openshift\.io/triggers}", DEPLOYMENT),
    (CTRS + '[?(@.name=="keycloak")].image}', DEPLOYMENT),
    (CTRS + "[?(@.ports[0].containerPort>=4180)].name}", DEPLOYMENT),
    ("{range .spec.template.spec.containers[*]}{.name}:{range .ports[*]}{.containerPort},{end};{end}", DEPLOYMENT),
    ("{range .spec.template.spec.containers[*]}{.name}{'\\n'}", DEPLOYMENT),
    ("{.metadata.labels['app.kubernetes.io/name']}|{.metadata['name', 'namespace']}|{.}|{.spec}", DEPLOYMENT),
    (CTRS + "[?(@.ports[3])].name} {..containerPort} {.metadata.name.*}", DEPLOYMENT),
    ("{.status.tags[*].tag}|{.status.tags[-1:].items[0]}", IMAGESTREAM),
    ("{.status.tags[9]}", IMAGESTREAM),
    ("{.status.tags[?(@.tag==20)]}", IMAGESTREAM),
    ('{.status.tags[?(@.tag=="20"}', IMAGESTREAM),
]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")
@pytest.mark.parametrize("template,data", KUBECTL_CASES)
def test_agrees_with_kubectl(template, data):
    # `annotate --local` renders a local object offline; removing an absent
    # annotation (`zz-`) leaves the object unchanged.
    proc = subprocess.run(
        ["kubectl", "annotate", "--local", "-f", "-", "zz-", "-o", "jsonpath=" + template],
        input=json.dumps(data), capture_output=True, text=True, timeout=60,
    )
    try:
        ours = render(template, data)
    except JSONPathError as e:
        assert proc.returncode != 0
        # kubectl: "error: <our message>. Printing more information for debugging..."
        assert proc.stderr.startswith("error: " + str(e)), proc.stderr
    else:
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == ours


def test_as_json_is_gos_marshal_indent_of_each_actions_results():
    # -o jsonpath-as-json: captured from kubectl 1.32 (`annotate --local -f - zz- -o jsonpath-as-json=...`)
    data = {"metadata": {"annotations": {"x": "<b>&"}},
            "z": {"f": 1e21, "g": 0.5, "h": 100000000, "e": {}, "l": [], "n": None, "t": True}}
    assert render("{.metadata.annotations}{.z}{.nope}text", data, as_json=True) == (
        '[\n    {\n        "x": "\\u003cb\\u003e\\u0026"\n    }\n]\n'
        '[\n    {\n        "e": {},\n        "f": 1e+21,\n        "g": 0.5,\n        "h": 100000000,\n'
        '        "l": [],\n        "n": null,\n        "t": true\n    }\n]\n'
        '[]\n'
        '[\n    "text"\n]\n')
