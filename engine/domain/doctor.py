"""The trigger doctor: why a Deployment does (not) follow its image stream tags.

Checks the four preconditions the lecture lists for image triggers, then each trigger
itself. Every check says pass or fail, and for a failure the exact command that fixes it.
Pure domain code: it reads states, it changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field
from pydantic.dataclasses import dataclass

from imagetrail.engine.domain.deployment import DeploymentState, trigger_target
from imagetrail.engine.domain.errors import Invalid
from imagetrail.engine.domain.imagestream import ImageStreamState
from imagetrail.engine.domain.references import ReferenceError, parse_docker_image_reference

StreamLookup = Callable[[str, str], "ImageStreamState | None"]


@dataclass(frozen=True, config=ConfigDict(title="DoctorCheck", extra="forbid"))
class Check:
    """One precondition: `name` is the check, `container` the one it is about ("" for the Deployment)."""

    name: str
    container: str
    ok: bool
    detail: str
    fix: str = ""  # the command that fixes a failure, as it is to be typed


class DoctorReport(BaseModel):
    """What `imagetrail doctor deployment/NAME -o json` prints: every check, in order."""

    # defer_build: validators are built at a model's first use, not at import (start-up)
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    deployment: str
    ok: bool = Field(description="True when every check passes (the exit status is then 0)")
    checks: list[Check]

    @classmethod
    def of(cls, deployment: str, checks: list[Check]) -> DoctorReport:
        return cls(deployment=deployment, ok=all(c.ok for c in checks), checks=checks)


def examine(deployment: DeploymentState, stream: StreamLookup) -> list[Check]:
    d = deployment
    resource = f"deployment/{d.name}"
    checks: list[Check] = []
    triggers = d.triggers()
    followed: dict[str, object] = {}
    for trigger in triggers:
        try:
            target = trigger_target(d, trigger)
        except Invalid as e:
            checks.append(Check("trigger container exists", "", False, f"{trigger.source.name}: {e}",
                                f"imagetrail set triggers {resource} --from-image {trigger.source.name} "
                                "--containers <container>"))
            continue
        if target is not None:
            followed[target.name] = trigger

    for container in d.init_containers + d.containers:
        trigger = followed.get(container.name)
        short = _short_istag(container.image)
        if short is not None and stream(d.namespace, short[0]) is None:
            short = None  # a short name with no such stream here: Docker Hub, not an image stream tag
        # 1. the container uses an image stream tag
        uses = trigger is not None or short is not None
        checks.append(Check(
            "uses an image stream tag", container.name, uses,
            f"follows {trigger.source.name}" if trigger else
            (f"names {short[0]}:{short[1]}" if short else f"runs {container.image}, not an image stream tag"),
            "" if uses else f"imagetrail set triggers {resource} --from-image <stream>:<tag> --containers {container.name}"))
        if trigger is None:
            continue
        name = trigger.source.name
        namespace = trigger.source.namespace or d.namespace
        stream_name, tag = name.split(":", 1) if ":" in name else (name, "latest")
        # 2. the stream is in the Deployment's namespace
        same = namespace == d.namespace
        checks.append(Check("image stream in the Deployment's namespace", container.name, same,
                            f"{namespace}/{stream_name}",
                            "" if same else f"imagetrail -n {d.namespace} tag {namespace}/{name} {name}"))
        state = stream(namespace, stream_name)
        # 3. local lookup when the Deployment names the stream by short name
        if short is not None:
            local = state is not None and state.lookup_local
            checks.append(Check("local lookup for a short name", container.name, local,
                                f"image {container.image}; lookup on {stream_name} is {'on' if local else 'off'}",
                                "" if local else f"imagetrail -n {namespace} set image-lookup {stream_name}"))
        # 4. the istag name, not the registry's
        registry_name = _registry_tag_of(container.image, state, tag)
        checks.append(Check(
            "refers to the image stream tag, not the registry", container.name, not registry_name,
            f"image {container.image}" + (f" is the registry's name for {name}" if registry_name else ""),
            f"imagetrail set image {resource} {container.name}={stream_name}:{tag}" if registry_name else ""))
        # the trigger itself
        resolved = state.resolve(tag) if state else None
        checks.append(Check("tag resolves", container.name, resolved is not None,
                            f"{name} → {resolved}" if resolved else f"{name} has no image yet",
                            "" if resolved else f"imagetrail -n {namespace} import-image {name} --from <pull spec> "
                                                "--confirm"))
        checks.append(Check("trigger is automatic", container.name, not trigger.paused,
                            "paused (manual)" if trigger.paused else "automatic",
                            f"imagetrail set triggers {resource} --auto" if trigger.paused else ""))
        aligned = resolved is None or trigger.paused or container.image == resolved
        checks.append(Check("no image edit pending revert", container.name, aligned,
                            f"runs {container.image}" + ("" if aligned else f", the tag says {resolved}"),
                            "" if aligned else f"imagetrail set triggers {resource} --auto"))
    checks.append(Check("Deployment not paused", "", not d.paused, "paused" if d.paused else "rolling out",
                        f"imagetrail rollout resume {resource}" if d.paused else ""))
    return checks


def _short_istag(image: str) -> tuple[str, str] | None:
    """`keycloak:20` (no registry, no namespace): a name lookup would resolve in this namespace."""
    try:
        ref = parse_docker_image_reference(image)
    except ReferenceError:
        return None
    if ref.registry or ref.namespace or ref.id:
        return None
    return ref.name, ref.tag or "latest"


def _registry_tag_of(image: str, state: ImageStreamState | None, tag: str) -> bool:
    """True when the container names the registry's mutable tag the stream imports from."""
    if state is None or tag not in state.spec_tags or state.spec_tags[tag].source is None:
        return False
    source = state.spec_tags[tag].source
    return source.kind == "DockerImage" and "@" not in source.name and image == source.name
