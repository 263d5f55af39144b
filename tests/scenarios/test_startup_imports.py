"""Start-up: a command imports what it uses, not every module of imagetrail.

Almost all of a short command's time is start-up, so `get` on SQLite must not load the
Kafka client, rich, YAML or the registry client (http, ssl); `--help` not even the engine.
Each command runs in a fresh interpreter, since this test process has imported everything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

RUN_AND_LIST_MODULES = """
import json, sys
from imagetrail.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""
HEAVY = ("kafka", "rich", "yaml", "jsonschema", "imagetrail.engine.adapters.kafka",
         "imagetrail.engine.adapters.registry.client", "imagetrail.engine.adapters.registry.credentials")


def modules_after(args: list[str], store) -> set[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMAGETRAIL_")}
    env.update(IMAGETRAIL_STORE=store, IMAGETRAIL_NAMESPACE="startup")
    done = subprocess.run([sys.executable, "-c", RUN_AND_LIST_MODULES, *args], env=env,
                          capture_output=True, text=True, check=True)
    return set(json.loads(done.stderr.splitlines()[-1]))


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


@pytest.fixture
def sqlite_store(tmp_path):
    store = f"sqlite:///{tmp_path}/startup.db"
    modules_after(["create", "istag", "app:1", "--from-image", "quay.io/keycloak/keycloak@sha256:" + "a" * 64], store)
    return store


def test_get_on_sqlite_imports_neither_kafka_rich_yaml_nor_the_registry_client(sqlite_store):
    modules = modules_after(["get", "is", "app"], sqlite_store)
    assert "imagetrail.cli.reads" in modules  # the command did run
    assert heavy(modules) == []
    assert not {"imagetrail.cli.tags", "imagetrail.cli.deployments", "imagetrail.cli.events"} & modules


def test_help_imports_no_verb_nor_the_engine(sqlite_store):
    modules = modules_after(["--help"], sqlite_store)
    assert heavy(modules) == []
    assert not [m for m in modules if m.startswith(("imagetrail.cli.", "imagetrail.engine.service",
                                                    "imagetrail.projections", "pydantic", "eventsourcing"))
                and m != "imagetrail.cli.main"]


def test_yaml_is_loaded_to_print_yaml(sqlite_store):
    """The check above is not vacuous: the same harness sees a module the command does import."""
    assert "yaml" in modules_after(["get", "is", "app", "-o", "yaml"], sqlite_store)
