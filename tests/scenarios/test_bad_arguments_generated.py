"""Generated bad command lines for every command of the CLI (hypothesis).

The click command tree is walked, so a command or flag added later is covered without a
new test. Against a store holding the lecture's state, every run must end in one of two
ways: success without a traceback, or exit 1/2 with exactly one `error: ...` line on
stderr (never main()'s catch-all `error: unexpected ...`), nothing on stdout and no event written.
"""

from __future__ import annotations

import contextlib
import io
import os
import sqlite3

import click
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import KEYCLOAK, SNAPSHOT
from imagetrail.cli.main import cli, main

# long-running or following commands, and the demo's own store
EXCLUDED = {("controller",), ("demo",), ("events", "notify")}
EXCLUDED_OPTIONS = {"--follow", "--store", "--help", "--version", "--keep"}

GOOD = [
    "keycloak", "keycloak:20", "keycloak:20.0.2", "keycloak:latest", "demo/keycloak:20", "deployment/mykeycloak",
    "mykeycloak", "keycloak=keycloak:20.0.3", f"{KEYCLOAK}:20.0.3", f"{KEYCLOAK}:20.0.2", "1", "2", "3", "5",
    "2h", "30m", "2026-11-28T14:00:00Z", "json", "yaml", "name", "wide", "jsonpath={.metadata.name}", "is",
    "istag", "deployment", "TagMoved", "beginning", "end", "true", "false", "source", "local", "demo",
]
BAD = [
    "", " ", "-", "--", "a\nb", "a\rb", "\t", "\x1b[31m", "\u2028", "\x7f", "keycloak:", ":", "keycloak:a:b",
    "keycloak:a@b", "keycloak:a/b", "keycloak:a%b", "keycloak:.bad", "Keycloak:1", "a/b/c:d", "deployment/",
    "deployment/Bad_Name", "pod/x", "²", "³", "٣", "１", "1_000", " 5", "-1", "0", "nan", "inf", "1e3",
    "10000000000000000000000", "99999999999999999999s", "800000d", "9999999999w", "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00", "2099-01-01T00:00:00Z", "2026-13-45T99:00:00Z", "Bad", "a b", "a" * 70,
    "x" * 300, "k" * 251 + ":1", "keycloak:" + "t" * 129, "jsonpath=", "jsonpath={", "jsonpath={.a[}", "xml",
    "Nope", "=", "a=", "=b", "quay.io/Keycloak/k:1", "keycloak@sha256:abc", "@", "%", "..", ".", "é",
    "\udcff", "sqlite:///nope", "/nonexistent/file.yaml",
]
# good values often, so that runs get past the first check into the commands' own logic
VALUES = st.one_of(st.sampled_from(GOOD), st.sampled_from(GOOD), st.sampled_from(BAD),
                   st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                           max_size=12))


def leaf_commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    found, ctx = [], click.Context(group)
    for name in group.list_commands(ctx):  # the verbs load lazily: ask the group, not group.commands
        command = group.get_command(ctx, name)
        here = path + (name,)
        if here in EXCLUDED:
            continue
        if isinstance(command, click.Group):
            found += leaf_commands(command, here)
        else:
            found.append((here, command))
    return found


COMMANDS = leaf_commands(cli)
GLOBAL_OPTIONS = [p for p in cli.params if isinstance(p, click.Option) and p.opts[-1] not in EXCLUDED_OPTIONS]


@st.composite
def option_words(draw, option: click.Option) -> list[str]:
    flag = draw(st.sampled_from(option.opts))
    if option.is_flag:
        return [flag]
    if isinstance(option.type, click.Choice):
        value = draw(st.one_of(st.sampled_from(list(option.type.choices)), VALUES))
    else:
        value = draw(VALUES)
    return [flag, value]


@st.composite
def command_lines(draw) -> list[str]:
    path, command = draw(st.sampled_from(COMMANDS))
    words = list(path)
    options = [p for p in command.params if isinstance(p, click.Option) and p.opts[-1] not in EXCLUDED_OPTIONS]
    for option in draw(st.lists(st.sampled_from(options), max_size=4)) if options else []:
        words += draw(option_words(option))
    for argument in (p for p in command.params if isinstance(p, click.Argument)):
        count = draw(st.integers(1, 3)) if argument.nargs == -1 else argument.nargs
        if not argument.required and draw(st.booleans()):
            continue
        words += [draw(VALUES) for _ in range(count)]
    if GLOBAL_OPTIONS and draw(st.booleans()):
        words += draw(option_words(draw(st.sampled_from(GLOBAL_OPTIONS))))
    return words


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(argv)
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def lecture_store(tmp_path_factory):
    """The lecture's state (as the `keycloak` fixture builds it) in an SQLite store, shared by
    every generated example; successful examples may move it on, which only widens the search."""
    import json

    tmp = tmp_path_factory.mktemp("generated")
    mirror = tmp / "mirror.json"
    mirror.write_text(json.dumps(SNAPSHOT))
    db = tmp / "store.db"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp)  # anything a command writes by a relative path lands here
        mp.setenv("IMAGETRAIL_STORE", f"sqlite:///{db}")
        mp.setenv("IMAGETRAIL_MIRROR", str(mirror))
        mp.setenv("IMAGETRAIL_OFFLINE", "1")
        mp.setenv("IMAGETRAIL_NAMESPACE", "demo")
        mp.setenv("IMAGETRAIL_ACTOR", "alice")
        mp.delenv("IMAGETRAIL_DEBUG", raising=False)
        for line in (f"create istag keycloak:20.0.2 --from-image {KEYCLOAK}:20.0.2",
                     f"import-image keycloak:20.0.3 --from {KEYCLOAK}:20.0.3 --confirm",
                     "set image-lookup keycloak", "tag --alias keycloak:20.0.2 keycloak:20",
                     "create deployment mykeycloak --image keycloak:20",
                     "set triggers deployment/mykeycloak --from-image keycloak:20 --containers keycloak"):
            assert run(line.split())[0] == 0, line
        yield db


def event_count(db) -> int:
    with contextlib.closing(sqlite3.connect(db)) as c:
        return c.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0]


@settings(max_examples=int(os.environ.get("IMAGETRAIL_GENERATED_EXAMPLES", "200")), deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(argv=command_lines())
def test_malformed_arguments_never_crash_and_never_write(lecture_store, argv):
    before = event_count(lecture_store)
    code, out, err = run(argv)
    # the catch-all in main() says "error: unexpected TypeName: ..."; click's own "Got unexpected
    # extra argument" is a usage error like any other
    assert "Traceback" not in err and "error: unexpected " not in err, (argv, err)
    if code == 0:
        return
    if argv[0] == "doctor" and code == 1 and not err:
        return  # a failed check is an answer, not an error
    if " failed: " in err and err.startswith(("Warning", "error: tag ")):
        return  # an import the mirror cannot resolve is recorded as the tag's condition, as oc does
    assert code in (1, 2), (argv, code, err)
    assert err.startswith("error: ") and err.count("\n") == 1 and err.endswith("\n"), (argv, err)
    assert len(err.splitlines()) == 1, (argv, err)  # no \r, \u2028 or other line break inside
    assert out == "", (argv, out)
    assert event_count(lecture_store) == before, argv


def test_every_command_is_generated():
    """The walk finds the commands users type (a renamed group would silently shrink the search)."""
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"get", "describe", "tag", "create istag", "create deployment", "set triggers", "set image",
            "rollback", "history", "log", "events tail", "rollout undo", "verify", "schema"} <= names
    assert os.environ.get("IMAGETRAIL_DEBUG") is None
