"""Image stream commands: `create istag`, `import-image`, `tag`, `set image-lookup`."""

from __future__ import annotations


import click

from imagetrail.cli import printers, render, tag_flags
from imagetrail.cli.describe import describe_imagestream
from imagetrail.cli.session import (Session, utc_now, pass_session)
from imagetrail.engine.domain.errors import NoStreamToImport, NotFound
from imagetrail.projections import documents


@click.command("istag")
@click.argument("name")
@click.option("--from-image", help="Pull spec of a container image to import (e.g. quay.io/org/repo:tag).")
@click.option("--from", "from_", help="Image stream tag ([ns/]is:tag, an alias) or image ([ns/]is@id) to use.")
@click.option("--scheduled", is_flag=True, help="Re-import the image periodically.")
@click.option("--insecure", is_flag=True, help="Allow HTTP or unverified HTTPS for the import.")
@click.option("--reference", is_flag=True, help="Point at the image without importing it.")
@click.option("--reference-policy", default="source", show_default=True, help="source or local.")
@click.option("-A", "--annotation", "annotations", multiple=True, help="Tag annotation KEY=VALUE.")
@pass_session
def create_istag(s: Session, name, from_image, from_, scheduled, insecure, reference, reference_policy, annotations):
    """Create an image stream tag NAME (stream:tag); never overwrites an existing one."""
    source, policy, parsed = tag_flags.check_create_istag(
        s.namespace, name, from_image=from_image, from_=from_, scheduled=scheduled, insecure=insecure,
        reference_policy_value=reference_policy, annotations=annotations)
    result = s.writer.create_istag(s.namespace, name, source=source, scheduled=scheduled, insecure=insecure,
                                   reference=reference, policy=policy, annotations=parsed or None, actor=s.actor)
    render.emit(render.create_istag_lines(result), result)


@click.command("import-image")
@click.argument("target")
@click.option("--from", "from_", help="Pull spec to import from (default: TARGET itself).")
@click.option("--confirm", is_flag=True, help="Create the image stream if it does not exist.")
@click.option("--scheduled", is_flag=True, help="Re-import the tag periodically.")
@click.option("--insecure", is_flag=True)
@click.option("--reference-policy", default="source", show_default=True)
@click.option("--import-mode", default="Legacy", show_default=True, help="Legacy or PreserveOriginal.")
@pass_session
def import_image(s: Session, target, from_, confirm, scheduled, insecure, reference_policy, import_mode):
    """Import the image of TARGET (stream[:tag], tag defaults to latest) from its registry."""
    policy, mode = tag_flags.check_import_image(s.namespace, target, reference_policy_value=reference_policy,
                                                import_mode_value=import_mode)
    try:
        result = s.writer.import_image(s.namespace, target, from_=from_, confirm=confirm, scheduled=scheduled,
                                       insecure=insecure, policy=policy, import_mode=mode, actor=s.actor)
    except NoStreamToImport as e:
        raise NotFound(f"{e}, pass --confirm to create and import") from None
    lines = render.import_image_lines(result)
    stream = s.view.get("imagestream", s.namespace, result.stream)
    if stream is not None:
        lines += ["", describe_imagestream(documents.imagestream(stream), utc_now()).rstrip("\n")]
    render.emit(lines, result)


@click.command()
@click.argument("args", nargs=-1, required=True)
@click.option("--alias", is_flag=True, help="DEST tracks SOURCE (same image stream only).")
@click.option("--reference", is_flag=True, help="Point at SOURCE without importing it.")
@click.option("--scheduled", is_flag=True, help="Re-import a container image periodically.")
@click.option("--insecure", is_flag=True)
@click.option("--reference-policy", default="source", show_default=True, help="source or local.")
@click.option("--import-mode", default="Legacy", show_default=True)
@click.option("--source", "source_kind", help="istag, isimage or docker (default: guessed from SOURCE).")
@click.option("-d", "--delete", is_flag=True, help="Delete the given tags.")
@pass_session
def tag(s: Session, args, alias, reference, scheduled, insecure, reference_policy, import_mode, source_kind, delete):
    """Point DEST tags at SOURCE:  imagetrail tag SOURCE DEST [DEST…]  |  imagetrail tag -d DEST…

    SOURCE is a pull spec with a registry (imported), `is:tag` (copied by digest, or
    tracked with --alias) or `is@sha256:…`. A bare `name:tag` is an image stream tag
    in the current namespace, never Docker Hub.
    """
    if delete:
        tag_flags.check_delete(alias=alias, source_kind=source_kind, scheduled=scheduled, insecure=insecure)
        deleted = s.writer.delete_tags(s.namespace, list(args), actor=s.actor)
        render.emit(render.delete_lines(deleted), deleted)
        return
    policy, mode, kind = tag_flags.check_tag(
        s.namespace, list(args), alias=alias, scheduled=scheduled, insecure=insecure,
        reference_policy_value=reference_policy, import_mode_value=import_mode, source_kind_value=source_kind)
    result = s.writer.tag(s.namespace, args[0], list(args[1:]), alias=alias, reference=reference, scheduled=scheduled,
                          insecure=insecure, policy=policy, import_mode=mode, source_kind=kind, actor=s.actor)
    render.emit(render.tag_lines(result), result)


@click.command("image-lookup")
@click.argument("names", nargs=-1)
@click.option("--enabled", type=click.BOOL, default=True, show_default=True)
@pass_session
def set_image_lookup(s: Session, names, enabled):
    """Let Deployments in this namespace use image stream NAMES by short name."""
    if not names:
        rows = [["NAME", "LOCAL"]] + [[st.name, str(st.lookup_local).lower()]
                                      for st in s.view.list("imagestream", s.namespace)]
        click.echo(printers.table(rows), nl=False)
        return
    result = s.writer.set_image_lookup(s.namespace, list(names), enabled=enabled, actor=s.actor)
    render.emit(render.image_lookup_lines(result), result)
