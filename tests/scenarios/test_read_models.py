"""history, log and doctor print documented models (`imagetrail schema NAME`), with every -o that get takes."""

import json

import jsonschema
import pytest
import yaml

from conftest import A, B, KEYCLOAK


def schema(it, name: str) -> dict:
    return it(f"schema {name}").json()[name]["schema"]


def valid(it, name: str, document: dict) -> dict:
    jsonschema.validate(document, schema(it, name))
    return document


def test_history_log_and_doctor_json_validate_against_the_printed_schemas(keycloak):
    keycloak(f"--as bob tag {KEYCLOAK}:20.0.3 keycloak:20")
    keycloak("tag -d keycloak:20.0.2")
    keycloak("--as dave set image deployment/mykeycloak keycloak=nginx:1.25")
    for command, model in (("history keycloak:20", "TagChange"), ("history keycloak:20.0.2", "TagChange"),
                           ("history deployment/mykeycloak", "ImageChange"), ("log --limit 1000", "LogEntry")):
        listed = keycloak(f"{command} -o json").json()
        assert (listed["kind"], len(listed["items"]) > 1) == ("List", True), command
        for item in listed["items"]:
            valid(keycloak, model, item)
    keycloak("create deployment plain --image nginx:1.25")
    report = valid(keycloak, "DoctorReport", keycloak("doctor deployment/plain -o json", ok=False).json())
    assert report["deployment"] == "plain" and report["ok"] is False and report["checks"][0]["fix"]
    assert {"name", "container", "ok", "detail", "fix"} == set(report["checks"][0])


def test_the_schemas_are_strict_and_name_the_wire_fields(keycloak):
    tag_change = schema(keycloak, "TagChange")
    assert {"from", "to", "correlationId", "imageStream", "revision", "position"} <= set(tag_change["required"])
    assert tag_change["additionalProperties"] is False
    entry = keycloak("log --limit 1 -o json").json()["items"][0]
    try:
        jsonschema.validate({**entry, "correlation_id": "x"}, schema(keycloak, "LogEntry"))
        raise AssertionError("an unknown field passed")
    except jsonschema.ValidationError:
        pass
    assert keycloak.fails("schema Nope").err.rstrip().endswith("read models: TagChange, ImageChange, LogEntry, "
                                                               "DoctorReport")
    everything = keycloak("schema").json()
    assert {"TagChange", "ImageChange", "LogEntry", "DoctorReport", "dev.imagetrail.ImageStream.TagMoved"} \
        <= set(everything)


def test_history_takes_every_output_format_of_get(keycloak, tmp_path):
    keycloak(f"--as bob tag {KEYCLOAK}:20.0.3 keycloak:20")
    as_json = keycloak("history keycloak:20 -o json").json()
    assert yaml.safe_load(keycloak("history keycloak:20 -o yaml").out) == as_json
    positions = [str(i["position"]) for i in as_json["items"]]
    assert keycloak("history keycloak:20 -o name").out.splitlines() == [f"event/{p}" for p in positions]
    assert keycloak("history keycloak:20 -o jsonpath={.items[*].position}").out == " ".join(positions)
    assert json.loads(keycloak("history keycloak:20 -o jsonpath-as-json={.items[0].to.image}").out) == [B]
    template = tmp_path / "t.jsonpath"
    template.write_text("{range .items[*]}{.actor}{'\\n'}{end}")
    assert keycloak(f"history keycloak:20 -o jsonpath-file={template}").out == "bob\nalice\n"
    columns = keycloak("history keycloak:20 -o custom-columns=ACTOR:.actor,TO:.to.image,FROM:.from.image").out
    assert columns.splitlines() == [f"ACTOR   {'TO':<{len(B) + 3}}FROM", f"bob     {B}   {A}", f"alice   {A}   <none>"]
    spec = tmp_path / "columns"
    spec.write_text("CHANGE POSITION\n.change .position\n")
    assert keycloak(f"history keycloak:20 -o custom-columns-file={spec}").out.split()[:4] == \
        ["CHANGE", "POSITION", "import", positions[0]]
    table = keycloak("history keycloak:20").out.splitlines()
    # as kubectl: without the header, the columns are as wide as the values
    assert [r.split() for r in keycloak("history keycloak:20 --no-headers").out.splitlines()] == \
        [r.split() for r in table[1:]]
    assert keycloak("history keycloak:20 -o wide").out.splitlines() == table
    assert keycloak("history deployment/mykeycloak -o jsonpath={.items[0].cause.tagChange.actor}").out == "bob"
    assert keycloak.fails("history keycloak:20 -o jsonpath={.items[0].nope} --allow-missing-template-keys=false") \
        .err.startswith("error: ")
    assert keycloak.fails("history keycloak:20 -o bogus").err.startswith(
        'error: unable to match a printer suitable for the output format "bogus"')


def test_log_takes_every_output_format_of_get(keycloak):
    keycloak(f"--as bob tag {KEYCLOAK}:20.0.3 keycloak:20")
    newest = keycloak("log --limit 1 -o json").json()["items"][0]
    assert keycloak("log --limit 1 -o name").out == f"event/{newest['position']}\n"
    assert keycloak("log --actor bob -o jsonpath={.items[*].kind}").out.split() == \
        [e["kind"] for e in keycloak("log --actor bob -o json").json()["items"]]
    assert yaml.safe_load(keycloak("log --limit 2 -o yaml").out)["items"][0] == newest
    assert keycloak("log --limit 1 -o custom-columns=KIND:.kind,OBJECT:.object --no-headers").out.split() == \
        [newest["kind"], newest["object"]]
    table = keycloak("log").out.splitlines()
    assert table[0].split() == ["POSITION", "TIME", "ACTOR", "NAMESPACE", "KIND", "OBJECT", "SUMMARY"]
    assert [r.split() for r in keycloak("log --no-headers").out.splitlines()] == [r.split() for r in table[1:]]


def test_doctor_takes_every_output_format_of_get(keycloak):
    as_json = keycloak("doctor deployment/mykeycloak -o json").json()
    assert yaml.safe_load(keycloak("doctor deployment/mykeycloak -o yaml").out) == as_json
    assert keycloak("doctor deployment/mykeycloak -o name").out == "deployment.apps/mykeycloak\n"
    assert keycloak("doctor deployment/mykeycloak -o jsonpath={.checks[*].ok}").out == " ".join(["true"] * 7)
    assert keycloak("doctor deployment/mykeycloak -o custom-columns=NAME:.deployment,OK:.ok").out == \
        "NAME         OK\nmykeycloak   true\n"
    keycloak("create deployment plain --image nginx:1.25")
    failing = keycloak("doctor deployment/plain -o jsonpath={.ok}", ok=False)
    assert (failing.out, failing.code) == ("false", 1)  # the exit status says it, whatever the format


@pytest.mark.sqlite_only
def test_the_readme_documents_every_field_of_the_read_models(keycloak):
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("- **Output.**"):readme.index("- **`--at`**")]
    for name in ("TagChange", "ImageChange", "LogEntry", "DoctorReport"):
        contract = schema(keycloak, name)
        fields = set(contract["properties"])
        for nested in contract.get("$defs", {}).values():
            fields |= set(nested["properties"])
        assert f"**`{name}`**" in section
        missing = {f for f in fields if f"`{f}`" not in section and f"{f}," not in section and f"{f}}}" not in section}
        assert not missing, (name, missing)


def test_get_all_namespaces_lists_every_namespace_with_its_column(keycloak):
    keycloak(f"-n other tag {KEYCLOAK}:20.0.3 app:1")
    table = keycloak("get is -A").out.splitlines()
    assert table[0].split()[:2] == ["NAMESPACE", "NAME"]
    assert [line.split()[:2] for line in table[1:]] == [["demo", "keycloak"], ["other", "app"]]
    assert [line.split()[:2] for line in keycloak("get istag -A").out.splitlines()[1:]][-1] == ["other", "app:1"]
    items = keycloak("get is -A -o json").json()["items"]
    assert [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in items] == [("demo", "keycloak"), ("other", "app")]
    # as it was before `other` existed
    before = keycloak("log -n other -o json").json()["items"][-1]["position"] - 1
    assert [line.split()[0] for line in keycloak(f"get is -A --at {before}").out.splitlines()[1:]] == ["demo"]
    assert keycloak.fails("get is keycloak -A").err == \
        "error: a resource cannot be retrieved by name across all namespaces\n"
    assert [line.split()[:2] for line in keycloak("get deploy -A").out.splitlines()] == \
        [["NAMESPACE", "NAME"], ["demo", "mykeycloak"]]
