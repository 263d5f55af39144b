"""oc's messages, from what the use cases return: the lines a command prints on stdout, then the
controllers' reactions and failed imports on stderr (a failed import exits 1)."""

from __future__ import annotations

from collections.abc import Iterable

import click

from imagetrail.engine.domain.references import one_line
from imagetrail.engine.service.bootstrap import ApplyResult, ImportResult, ObjectChange
from imagetrail.engine.service.tags import (
    CreateIstagResult,
    DeleteTagsResult,
    ImageLookupResult,
    ImportImageResult,
    TagResult,
)
from imagetrail.engine.service.unit_of_work import Reactions, TriggerNotApplied


def emit(lines: Iterable[str], result: Reactions, *, notices: Iterable[str] = (),
         warnings: Iterable[str] = ()) -> None:
    for line in lines:
        click.echo(line)
    for rollout in result.rollouts:
        click.echo(f"info: deployment.apps/{rollout.deployment} rolled out revision {rollout.revision}", err=True)
    for line in notices:
        click.echo(f"info: {line}", err=True)
    for skipped in result.not_applied:
        click.echo(not_applied_warning(skipped), err=True)
    for line in warnings:
        click.echo(f"Warning: {line}", err=True)
    for failure in result.failures:
        click.echo(f"error: tag {failure.tag} failed: {one_line(failure.message)}", err=True)
    if result.failures:
        raise SystemExit(1)


def not_applied_warning(skipped: TriggerNotApplied) -> str:
    return f"Warning: deployment.apps/{skipped.deployment}: image trigger not applied: {skipped.error}"


def tag_lines(result: TagResult) -> list[str]:
    lines = []
    for change in result.changes:
        where = f"{change.stream}:{change.tag}"
        if change.namespace != result.namespace:
            where = f"{change.namespace}/{where}"
        if change.mode == "alias":
            lines.append(f"Tag {where} set up to track {change.source}.")
        elif change.mode == "scheduled":
            verb = "import " if change.namespace == result.namespace else ""
            lines.append(f"Tag {where} set to {verb}{change.source} periodically.")
        else:
            lines.append(f"Tag {where} set to {change.source}.")
    return lines


def delete_lines(result: DeleteTagsResult) -> list[str]:
    return [f"Deleted tag {t.namespace}/{t.stream}:{t.tag}." for t in result.deleted]


def create_istag_lines(result: CreateIstagResult) -> list[str]:
    return [f"imagestreamtag.image.openshift.io/{result.stream}:{result.tag} created"]


def import_image_lines(result: ImportImageResult) -> list[str]:
    return [f"imagestream.image.openshift.io/{result.stream} imported" + (" with errors" if result.failures else "")]


def image_lookup_lines(result: ImageLookupResult) -> list[str]:
    return [f"imagestream.image.openshift.io/{name} image lookup updated" for name in result.updated]


def object_lines(result: ApplyResult) -> list[str]:
    return [_object_line(change) for change in result.objects]


def _object_line(change: ObjectChange) -> str:
    if change.kind == "deployment":
        return f"deployment.apps/{change.name} {change.action}"
    line = f"imagestream.image.openshift.io/{change.name} {change.action}"
    if change.spec_tags is not None:  # import -f says what it took from the dump
        line += f" ({change.spec_tags} spec tags, {change.history_added} history entries added)"
    return line


def skipped_notices(result: ImportResult) -> list[str]:
    """What import -f left out: every kind it does not record, the most common first."""
    if not result.skipped:
        return []
    total = sum(result.skipped.values())
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(result.skipped.items(), key=lambda kv: (-kv[1], kv[0])))
    return [f"skipped {total} object{'s' if total != 1 else ''} imagetrail does not record: {kinds}"]
