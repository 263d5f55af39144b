"""cli/main.py lists the verbs from a table, so `--help` need not import them: the table must
say what the loaded commands say, or `--help` would drift from each verb's own help."""

from __future__ import annotations

import click
import pytest

from imagetrail.cli.main import LazyGroup, cli

GROUPS = [(name, group) for name, group in [("", cli), *cli.commands.items()] if isinstance(group, LazyGroup)]


def lazy_entries():
    return [(path, name, entry) for path, group in GROUPS for name, entry in group.lazy.items()]


@pytest.mark.parametrize("path, name, entry", lazy_entries(), ids=lambda v: v if isinstance(v, str) else None)
def test_the_table_has_each_verbs_short_help(path, name, entry):
    group = cli if not path else cli.commands[path]
    command = group.get_command(click.Context(group), name)
    assert command is not None
    for width in (20, 45, 80, 200):  # the same words at every terminal width
        assert click.Command(name, help=entry[1]).get_short_help_str(width) == command.get_short_help_str(width)


def test_every_group_is_lazy_and_a_verb_loads_only_when_asked():
    assert {name for name, _ in GROUPS} == {"", "create", "set", "rollout"}
    group = LazyGroup(lazy={"x": ("imagetrail.cli.reads:get", "Show.")})
    assert group.list_commands(click.Context(group)) == ["x"] and group.commands == {}
    assert group.get_command(click.Context(group), "x").name == "get"
    assert group.get_command(click.Context(group), "nope") is None


def test_a_mistyped_verb_is_matched_against_the_unloaded_verbs_too():
    group = LazyGroup(lazy={"get": ("imagetrail.cli.reads:get", "Show.")})  # fresh: nothing loaded
    with pytest.raises(click.exceptions.NoSuchCommand) as raised:
        group.resolve_command(click.Context(group), ["gett", "is", "x"])
    assert raised.value.format_message() == "No such command 'gett'. Did you mean 'get'?"
