"""Objects from files: `apply -f` (create or update, as the API server does) and `import -f` (what a
cluster dump shows, recorded as bootstrap events). Both answer with what happened to each object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from imagetrail.engine.domain import manifests
from imagetrail.engine.domain.deployment import Cause, Deployment
from imagetrail.engine.domain.errors import UsageError
from imagetrail.engine.domain.imagestream import ImageStream
from imagetrail.engine.domain.model import DOCKER_IMAGE, IMAGE_STREAM_IMAGE, IMAGE_STREAM_TAG, Container
from imagetrail.engine.domain.trigger_annotation import TRIGGERS_ANNOTATION
from imagetrail.engine.service.tag_processing import process_tag_source, reindex_triggers, resolve_image_name
from imagetrail.engine.service.unit_of_work import Reactions, UnitOfWork, command, retry_on_conflict

if TYPE_CHECKING:
    from imagetrail.engine.service.application import ImageTrail

Action = Literal["created", "configured", "unchanged", "imported"]


@dataclass(frozen=True)
class ObjectChange:
    kind: Literal["imagestream", "deployment"]
    name: str
    action: Action
    spec_tags: int | None = None  # import -f of a stream: how many spec tags the dump has…
    history_added: int | None = None  # … and how many history entries were new


@dataclass
class ApplyResult(Reactions):
    objects: list[ObjectChange] = field(default_factory=list)


@dataclass
class ImportResult(ApplyResult):
    skipped: dict[str, int] = field(default_factory=dict)  # kind → objects imagetrail does not record


@retry_on_conflict
def import_cluster(app: ImageTrail, namespace: str, documents: list[Any], *, source: str,
                   actor: str | None = None, enforce_namespace: bool = False) -> ImportResult:
    """Record what a cluster dump shows as bootstrap events: each stream's spec and its whole
    status history in order (original `created` kept); Deployments as apply records them.
    Objects of other kinds are counted and skipped. Importing the same dump again writes nothing;
    a newer dump appends only what changed."""
    reason = f"imported from {source}"
    dump = manifests.for_import(documents, namespace, enforce_namespace=enforce_namespace)
    result = ImportResult(skipped=dict(dump.skipped))
    with command(app, f"imagetrail import -f {source}", actor, reason, result=result) as (uow, _):
        for m in dump.streams:
            result.objects.append(adopt_stream(app, uow, m))
        for m in dump.deployments:
            result.objects.append(_apply_deployment(app, uow, m, imported=True))
    return result


def adopt_stream(app: ImageTrail, uow: UnitOfWork, m: manifests.ClusterImageStream) -> ObjectChange:
    """A stream as the cluster has it: created with its history, or its new spec and history entries."""
    stream = uow.get(ImageStream, m.namespace, m.name)
    if stream is None:
        stream = uow.add(ImageStream.from_cluster(
            m.namespace, m.name, repository=m.repository or app.repository_for(m.namespace, m.name),
            tags=m.tags,
            lookup_local=m.lookup_local, labels=m.labels, annotations=m.annotations,
            created=m.created, generation=m.generation))
    else:
        stream.adopt_lookup_policy(m.lookup_local)
        for tag in m.tags:
            stream.adopt_spec_tag(tag, m.generation)
    added = sum(stream.adopt_history(tag, history) for tag, history in sorted(m.history.items()))
    return ObjectChange("imagestream", m.name, "imported" if stream.pending_events else "unchanged",
                        spec_tags=len(m.tags), history_added=added)


def adopt_deployment(app: ImageTrail, uow: UnitOfWork, m: manifests.DeploymentManifest,
                     command_line: str) -> ObjectChange:
    """A Deployment as a cluster shows it now (a watch): its triggers and pause as it has them, and
    its images as they run there, whoever set them. A new template on an unpaused Deployment is the
    rollout the cluster's Deployment controller made; an image an automatic trigger resolves to is
    the cluster's trigger controller's doing."""
    deployment = uow.get(Deployment, m.namespace, m.name)
    if deployment is None:
        return _apply_deployment(app, uow, m, imported=True)
    version = deployment.version
    before = deployment.state.triggers()
    deployment.set_triggers_annotation(m.annotations.get(TRIGGERS_ANNOTATION))
    deployment.set_paused(m.paused)
    current = deployment.state.template_images
    changed = {c.name: c.image for c in m.init_containers + m.containers
               if c.name in current and c.image != current[c.name]}
    for container, image in changed.items():
        deployment.set_images({container: image},
                              _trigger_cause(uow, deployment, container, image) or Cause(kind="bootstrap"))
    deployment.roll_out(command_line)
    reindex_triggers(uow, deployment, before)
    return ObjectChange("deployment", m.name, "configured" if deployment.version != version else "unchanged")


def _trigger_cause(uow: UnitOfWork, deployment: Deployment, container: str, image: str) -> Cause | None:
    """The automatic trigger that explains `image`: its tag resolves to it (the cluster's controller)."""
    trigger = deployment.state.auto_trigger_for(container)
    if trigger is None or trigger.source.kind != IMAGE_STREAM_TAG or ":" not in trigger.source.name:
        return None
    stream_name, tag = trigger.source.name.split(":", 1)
    namespace = trigger.source.namespace or deployment.namespace
    stream = uow.get(ImageStream, namespace, stream_name)
    if not stream or stream.state.resolve(tag) != image:
        return None
    return Cause(kind="trigger", stream=f"{namespace}/{stream_name}", tag=tag)


@retry_on_conflict
def apply(app: ImageTrail, namespace: str, documents: list[Any], *, actor: str | None = None,
          reason: str = "", enforce_namespace: bool = False) -> ApplyResult:
    """`oc apply -f`: create or update ImageStreams and Deployments, all in one atomic save.

    Spec tags given are set (tags not listed are kept); status in the input is ignored,
    as the API server ignores it.
    """
    parsed = manifests.for_apply(documents, namespace, enforce_namespace=enforce_namespace)
    result = ApplyResult()
    with command(app, "imagetrail apply", actor, reason, result=result) as (uow, _):
        for item in parsed:
            if isinstance(item, manifests.ImageStreamManifest):
                result.objects.append(_apply_stream(app, uow, item, result))
            else:
                result.objects.append(_apply_deployment(app, uow, item))
    return result


def _apply_stream(app: ImageTrail, uow: UnitOfWork, m: manifests.ImageStreamManifest,
                  result: Reactions) -> ObjectChange:
    """One create or update of the stream, as the API server does it: the spec change takes ONE
    new generation (1 on create), then the import controller imports every pending tag in ONE
    ImageStreamImport, whose events share the next generation (docs/semantics.md §2.1, §2.5)."""
    stream = uow.get(ImageStream, m.namespace, m.name)
    if stream is None:
        stream = uow.add(ImageStream.create(m.namespace, m.name, tags=m.tags, lookup_local=m.lookup_local,
                                            labels=m.labels, annotations=m.annotations,
                                            repository=app.repository_for(m.namespace, m.name)))
        _process_tags(app, uow, stream, [t.name for t in m.tags], result)
        return ObjectChange("imagestream", m.name, "created")
    version = stream.version
    generation = stream.state.generation + 1
    stream.set_lookup_policy(m.lookup_local, generation=generation)
    changed = [tag.name for tag in m.tags if stream.set_spec_tag(tag, generation=generation)]
    _process_tags(app, uow, stream, changed, result)
    return ObjectChange("imagestream", m.name, "configured" if stream.version != version else "unchanged")


def _process_tags(app: ImageTrail, uow: UnitOfWork, stream: ImageStream, tags: list[str], result: Reactions) -> None:
    """Aliases first, as the API server sets them synchronously (a head that is not there yet is
    copied verbatim when the import brings it, §4); then the import controller's ONE
    ImageStreamImport of the pending DockerImage tags; then copies by digest, which need the
    images those imports bring."""
    import_generation = stream.state.generation + 1
    order = {IMAGE_STREAM_TAG: 0, DOCKER_IMAGE: 1, IMAGE_STREAM_IMAGE: 2}
    for tag in sorted(tags, key=lambda t: order.get(stream.state.spec_tags[t].kind, 0)):
        process_tag_source(app, uow, stream, tag, result, import_generation=import_generation)


def _apply_deployment(app: ImageTrail, uow: UnitOfWork, m: manifests.DeploymentManifest, *,
                      imported: bool = False) -> ObjectChange:
    """Create or update a Deployment from a manifest (`imported`: from a cluster dump).

    A dump is a past picture: a container whose automatic trigger resolves, or whose dumped image
    is the one the last import of a dump recorded, keeps its current image, so re-importing the
    same dump writes nothing even after the trigger (or a user) moved the image since.
    """
    def admitted(containers: list[Container]) -> list[Container]:
        return [c.model_copy(update={"image": resolve_image_name(uow, m.namespace, c.image)})
                for c in containers]

    triggers = m.annotations.get(TRIGGERS_ANNOTATION)
    deployment = uow.get(Deployment, m.namespace, m.name)
    if deployment is None:
        deployment = uow.add(Deployment.create(
            m.namespace, m.name, containers=admitted(m.containers), init_containers=admitted(m.init_containers),
            replicas=m.replicas, labels=m.labels, annotations=m.annotations, paused=m.paused,
            change_cause="imagetrail import" if imported else "imagetrail apply", imported=imported))
        reindex_triggers(uow, deployment, [])
        return ObjectChange("deployment", m.name, "created")
    version = deployment.version
    before = deployment.state.triggers()
    current = deployment.state.template_images
    wanted = {c.name: c.image for c in m.init_containers + m.containers}
    unknown = sorted(set(wanted) - set(current))
    if unknown:
        raise UsageError(f"deployment.apps/{m.name}: adding containers ({', '.join(unknown)}) is not supported; "
                         "delete and re-create the Deployment")
    deployment.set_triggers_annotation(triggers, imported=imported)
    if imported:
        wanted = {c: img for c, img in wanted.items()
                  if img != deployment.state.imported_images.get(c) and not trigger_owns(uow, deployment, c)}
    changed = {c: resolve_image_name(uow, m.namespace, img) for c, img in wanted.items()
               if img != current[c]}
    deployment.set_images(changed, Cause(kind="bootstrap" if imported else "apply"))
    deployment.set_paused(m.paused, imported=imported)
    reindex_triggers(uow, deployment, before)
    return ObjectChange("deployment", m.name, "configured" if deployment.version != version else "unchanged")


def trigger_owns(uow: UnitOfWork, deployment: Deployment, container: str) -> bool:
    """An automatic trigger whose tag resolves sets this container's image whatever a dump says."""
    trigger = deployment.state.auto_trigger_for(container)
    if trigger is None or trigger.source.kind != IMAGE_STREAM_TAG or ":" not in trigger.source.name:
        return False
    stream_name, tag = trigger.source.name.split(":", 1)
    stream = uow.get(ImageStream, trigger.source.namespace or deployment.namespace, stream_name)
    return bool(stream and stream.state.resolve(tag))
