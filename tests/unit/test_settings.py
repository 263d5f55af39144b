"""engine/settings.py: the one place configuration is read; flags override it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from imagetrail.cli.main import main
from imagetrail.engine.adapters.store_urls import parse_store
from imagetrail.engine.domain.errors import UsageError
from imagetrail.engine.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
XDG = ("XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME")


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No imagetrail or XDG variable set, and a home of our own."""
    for name in list(Settings.model_fields):
        monkeypatch.delenv(Settings.model_fields[name].validation_alias, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return monkeypatch


def run(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    out, err = capsys.readouterr()
    return code, out, err


def test_the_environment_is_read_under_its_variable_names(clean_env):
    clean_env.setenv("IMAGETRAIL_STORE", "memory://")
    clean_env.setenv("IMAGETRAIL_NAMESPACE", "team-a")
    clean_env.setenv("IMAGETRAIL_ACTOR", "ci-bot")
    clean_env.setenv("IMAGETRAIL_MIRROR", "/srv/snapshot.json")
    clean_env.setenv("IMAGETRAIL_OFFLINE", "yes")
    clean_env.setenv("IMAGETRAIL_INTERNAL_REGISTRY", "registry.local:5000")
    clean_env.setenv("IMAGETRAIL_KAFKA_SASL_PASSWORD", "s3cret")
    clean_env.setenv("IMAGETRAIL_KAFKA_TIMEOUT", "3")
    clean_env.setenv("imagetrail_actor", "lower-case is another variable")
    s = Settings.load()
    assert (s.store, s.namespace, s.actor, s.mirror, s.offline, s.internal_registry) == (
        "memory://", "team-a", "ci-bot", "/srv/snapshot.json", True, "registry.local:5000")
    assert s.kafka_overrides() == {"KAFKA_SASL_PASSWORD": "s3cret", "KAFKA_TIMEOUT": "3"}
    assert "s3cret" not in repr(s)


def test_an_empty_variable_counts_as_unset(clean_env):
    clean_env.setenv("IMAGETRAIL_OFFLINE", "")
    clean_env.setenv("IMAGETRAIL_STORE", "")
    s = Settings.load()
    assert s.offline is False and s.store is None


def test_flags_override_the_environment_and_unset_flags_do_not(clean_env):
    clean_env.setenv("IMAGETRAIL_STORE", "memory://")
    clean_env.setenv("IMAGETRAIL_NAMESPACE", "team-a")
    s = Settings.load().with_flags(store="sqlite:///tmp/x.db", namespace=None, offline=True)
    assert (s.store, s.namespace, s.offline) == ("sqlite:///tmp/x.db", "team-a", True)


def test_the_command_line_flag_wins_over_the_variable(clean_env, capsys):
    clean_env.setenv("IMAGETRAIL_STORE", "bogus://")
    code, _, err = run(capsys, "get", "is")
    assert code == 1 and err.startswith('error: unknown store "bogus://"')
    code, out, err = run(capsys, "--store", "memory://", "get", "is")
    assert (code, err) == (0, "No resources found in default namespace.\n")


def test_settings_are_read_at_each_command_not_at_import(clean_env, capsys):
    clean_env.setenv("IMAGETRAIL_STORE", "memory://")
    clean_env.setenv("IMAGETRAIL_NAMESPACE", "Not_A_Namespace")
    assert run(capsys, "get", "is")[0] == 1
    clean_env.setenv("IMAGETRAIL_NAMESPACE", "fine")
    assert run(capsys, "get", "is")[0] == 0


def test_xdg_defaults(clean_env, tmp_path):
    home = tmp_path / "home"
    s = Settings.load()
    assert s.data_home == home / ".local" / "share"
    assert s.state_home == home / ".local" / "state"
    assert s.cache_home == home / ".cache"
    assert s.default_store_url == f"sqlite:///{home}/.local/share/imagetrail/imagetrail.db"
    assert parse_store(s).file == home / ".local" / "share" / "imagetrail" / "imagetrail.db"
    assert parse_store(s.with_flags(store="kafka://k:9092/t")).env["KAFKA_CACHE_DIR"] == \
        str(home / ".cache" / "imagetrail" / "kafka")
    for name in XDG:
        clean_env.setenv(name, str(tmp_path / name))
    s = Settings.load()
    assert (s.data_home, s.state_home, s.cache_home) == tuple(tmp_path / name for name in XDG)
    assert parse_store(s).file == tmp_path / "XDG_DATA_HOME" / "imagetrail" / "imagetrail.db"


def test_a_kafka_cache_dir_setting_beats_the_xdg_default(clean_env, tmp_path):
    clean_env.setenv("IMAGETRAIL_KAFKA_CACHE_DIR", str(tmp_path / "mine"))
    store = parse_store(Settings.load().with_flags(store="kafka://k:9092/t"))
    assert store.env["KAFKA_CACHE_DIR"] == str(tmp_path / "mine")


def test_the_views_path_is_one_path_beside_the_store(clean_env, tmp_path):
    assert parse_store(Settings(store=f"sqlite:///{tmp_path}/a/events.db")).views_path == \
        tmp_path / "a" / "events.views.db"
    assert str(parse_store(Settings(store="memory://")).views_path) == ":memory:"


def test_a_bad_value_is_one_error_line(clean_env, capsys):
    clean_env.setenv("IMAGETRAIL_OFFLINE", "maybe")
    with pytest.raises(UsageError, match=r"^IMAGETRAIL_OFFLINE=maybe is not a boolean"):
        Settings.load()
    code, out, err = run(capsys, "get", "is")
    assert code == 1 and out == ""
    assert err == ("error: IMAGETRAIL_OFFLINE=maybe is not a boolean (1, true, yes, on or 0, false, no, off); "
                   "fix or unset it\n")


# -- nothing else reads the environment ---------------------------------------------------------

def environment_reads(path: Path, root: Path = ROOT) -> list[str]:
    """Where a module reads the process environment: os.environ, os.getenv, `from os import environ`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os" \
                and node.attr in ("environ", "environb", "getenv", "getenvb"):
            found.append(f"{path.relative_to(root)}:{node.lineno}: os.{node.attr}")
        if isinstance(node, ast.ImportFrom) and node.module == "os" and \
                any(a.name in ("environ", "environb", "getenv", "getenvb") for a in node.names):
            found.append(f"{path.relative_to(root)}:{node.lineno}: from os import …")
    return found


def test_only_engine_settings_reads_the_environment():
    modules = sorted((ROOT / "engine").rglob("*.py")) + sorted((ROOT / "projections").rglob("*.py"))
    assert len(modules) > 30 and ROOT / "engine" / "settings.py" in modules
    reads = [r for m in modules if m != ROOT / "engine" / "settings.py" for r in environment_reads(m)]
    assert reads == []


def test_the_scan_finds_environment_reads(tmp_path):
    probe = ROOT / "tests" / "unit" / "test_settings.py"  # this file reads nothing, the sample does
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nfrom os import getenv\nx = os.environ.get('A')\ny = os.getenv('B')\n")
    assert environment_reads(probe) == []
    assert len(environment_reads(sample, tmp_path)) == 3


def test_the_service_reaches_the_registry_only_through_its_port():
    imported = set()
    for module in (ROOT / "engine" / "service").rglob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported.update(a.name for a in node.names)
    assert "imagetrail.engine.service.ports" in imported
    assert not [m for m in imported if m.startswith("imagetrail.engine.adapters.registry")]
