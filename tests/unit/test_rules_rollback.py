"""imagetrail's own rules on top of OpenShift's (docs/semantics.md §18): rolling a tag back, the
rollback plan, and recording a cluster dump; aggregates built in memory, the plan computed from
their pending events as the service computes it before a save."""

from __future__ import annotations

import copy
from datetime import datetime, timezone

from rules_builders import (
    A, B, C, KEYCLOAK, NS, external, follow, history, image_of, keycloak_stream, moved, new_deployment,
    pinned, set_alias, tag_external, trigger,
)

from imagetrail.engine.domain import rollback_plan
from imagetrail.engine.domain.deployment import Deployment
from imagetrail.engine.domain.imagestream import ImageStream
from imagetrail.engine.domain.model import Container, TagEvent, TagReferencePolicy
from imagetrail.engine.domain.trigger_annotation import format_annotation

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


def moved_on() -> ImageStream:
    """The lecture's stream after 20.0.2 moved from A to B (alias 20 followed), all saved."""
    stream = keycloak_stream()
    set_alias(stream, "stable", "20")
    tag_external(stream, "20.0.2", B, "20.0.3")
    stream.collect_events()
    return stream


def saved(*aggregates):
    for aggregate in aggregates:
        aggregate.collect_events()
    return aggregates


def roll_back_and_plan(stream: ImageStream, tag: str, digest: str, *deployments: Deployment):
    """`imagetrail rollback keycloak:<tag>`: the tag moves, the controllers react, the plan is made."""
    streams_before = {(NS, stream.name): copy.deepcopy(stream.state)}
    deployments_before = {(NS, d.name): copy.deepcopy(d.state) for d in deployments}
    stream.roll_back(tag, pinned(digest), digest, position=7)
    for deployment in deployments:
        follow(deployment, stream)
        deployment.roll_out("imagetrail rollback")
    return rollback_plan.plan([(NS, stream.name, tag)], [stream], streams_before, deployments, deployments_before)


def fates(plan) -> dict[str, tuple[str, str]]:
    return {f"{f.deployment}/{f.container}": (f.fate, f.reason) for f in plan.deployments}


# --------------------------------------------------------------------------- §18.1–§18.2 rollback


def test_s18_1_a_rollback_pins_the_tag_to_the_digest_and_moves_what_follows_it():
    stream = moved_on()
    assert stream.roll_back("20.0.2", pinned(A), A, position=7)
    spec = stream.state.spec_tags["20.0.2"]
    assert (spec.kind, spec.source.name) == ("DockerImage", pinned(A))
    assert history(stream, "20.0.2") == [A, B, A] and history(stream, "stable") == [A, B, A]
    assert moved(stream) == [("20.0.2", "rollback"), ("20", "followed"), ("stable", "followed")]


def test_s18_1_a_rollback_switches_scheduled_import_off_and_keeps_the_policies():
    stream = moved_on()
    scheduled = stream.state.spec_tags["20.0.2"].model_copy(deep=True)
    scheduled.import_policy.scheduled, scheduled.import_policy.import_mode = True, "PreserveOriginal"
    scheduled.reference_policy = TagReferencePolicy(type="Local")
    stream.set_spec_tag(scheduled)
    stream.roll_back("20.0.2", pinned(A), A, position=7)
    spec = stream.state.spec_tags["20.0.2"]
    assert not spec.import_policy.scheduled and spec.import_policy.import_mode == "PreserveOriginal"
    assert spec.reference_policy.type == "Local" and stream.state.scheduled_tags() == []


def test_s18_1_a_rolled_back_alias_stops_following():
    stream = moved_on()
    stream.roll_back("20", pinned(C), C, position=7)
    tag_external(stream, "20.0.2", A, "20.0.2")
    assert history(stream, "20") == [C, B, A]


def test_s18_2_rolling_back_to_the_image_the_tag_has_is_nothing():
    stream = moved_on()
    assert not stream.roll_back("20.0.2", pinned(B), B, position=7)
    assert stream.pending_events == []


# --------------------------------------------------------------------------- §18.3–§18.4 the plan


def test_s18_3_the_plan_lists_each_tag_move_from_the_events_it_saves():
    stream = moved_on()
    plan = roll_back_and_plan(stream, "20.0.2", A)
    assert [(t.tag, t.change, t.from_image, t.to_image) for t in plan.tags] == [
        ("20.0.2", "rollback", B, A), ("20", "followed", B, A), ("stable", "followed", B, A)]


def test_s18_3_the_plan_names_the_scheduled_import_it_switches_off():
    stream = moved_on()
    scheduled = stream.state.spec_tags["20.0.2"].model_copy(deep=True)
    scheduled.import_policy.scheduled = True
    stream.set_spec_tag(scheduled)
    stream.collect_events()
    plan = roll_back_and_plan(stream, "20.0.2", A)
    assert [(s.tag, s.source) for s in plan.scheduled_imports_off] == [("20.0.2", f"{KEYCLOAK}:20.0.3")]


def test_s18_4_each_container_gets_its_fate_and_why():
    stream = moved_on()
    follows = new_deployment(pinned(B), trigger("keycloak:stable"), name="follows")
    paused = new_deployment(pinned(B), trigger("keycloak:20"), name="paused", paused=True)
    manual = new_deployment(pinned(B), trigger("keycloak:20", paused=True), name="manual")
    bystander = new_deployment(pinned(B), name="bystander")
    other = new_deployment(pinned(B), trigger("keycloak:20.0.3"), name="other")
    saved(follows, paused, manual, bystander, other)
    plan = roll_back_and_plan(stream, "20.0.2", A, follows, paused, manual, bystander, other)
    assert fates(plan) == {
        "follows/keycloak": ("rolls-out", "TriggerFollows"),
        "paused/keycloak": ("template-only", "DeploymentPaused"),
        "manual/keycloak": ("not-followed", "TriggerManual"),
        "bystander/keycloak": ("no-trigger", "NoTrigger"),
        "other/keycloak": ("not-followed", "TriggerFollowsOtherTag"),
    }
    via = next(f.trigger.via for f in plan.deployments if f.deployment == "follows")
    assert via == ("keycloak:stable", "keycloak:20", "keycloak:20.0.2")
    assert image_of(follows) == pinned(A) and image_of(paused) == pinned(A) and image_of(manual) == pinned(B)


def test_s18_4_a_trigger_the_controller_cannot_apply_is_named_with_its_error():
    stream = moved_on()
    broken = Deployment.create(NS, "broken", containers=[Container(name="keycloak", image=pinned(B))],
                               annotations={"image.openshift.io/triggers": format_annotation(
                                   [trigger("keycloak:20"), trigger("keycloak:20", "ghost")])})
    saved(broken)
    streams_before = {(NS, "keycloak"): copy.deepcopy(stream.state)}
    before = {(NS, "broken"): copy.deepcopy(broken.state)}
    stream.roll_back("20.0.2", pinned(A), A, position=7)
    plan = rollback_plan.plan([(NS, "keycloak", "20.0.2")], [stream], streams_before, [broken], before)
    assert {(f.container, f.fate, f.reason, f.message) for f in plan.deployments} == {
        ("keycloak", "not-followed", "TriggerInvalid", "no such container: ghost"),
        ("", "not-followed", "TriggerInvalid", "no such container: ghost")}


def test_s18_4_a_follower_already_on_the_image_is_unchanged():
    stream = moved_on()
    ahead = new_deployment(pinned(A), trigger("keycloak:20"), name="ahead", paused=True)
    saved(ahead)
    plan = roll_back_and_plan(stream, "20.0.2", A, ahead)
    assert fates(plan) == {"ahead/keycloak": ("unchanged", "AlreadyRunsImage")}


# --------------------------------------------------------------------------- §18.7–§18.8 cluster dumps


def dump_item(digest: str, minutes: int, generation: int) -> TagEvent:
    return TagEvent(created=T0.replace(minute=minutes), docker_image_reference=pinned(digest), image=digest,
                    generation=generation)


def test_s18_7_a_dumped_stream_keeps_its_generations_and_created_times():
    tag = external("20").model_copy(update={"generation": 3})
    stream = ImageStream.from_cluster(NS, "keycloak", repository="r/demo/keycloak", tags=[tag], lookup_local=True,
                                      labels={}, annotations={}, created=T0, generation=5)
    assert (stream.state.generation, stream.state.spec_tags["20"].generation, stream.state.created) == (5, 3, T0)
    assert stream.adopt_history("20", [dump_item(B, 2, 4), dump_item(A, 1, 3)]) == 2
    assert history(stream, "20") == [B, A] and stream.state.head("20").created == T0.replace(minute=2)
    assert moved(stream) == [("20", "bootstrap"), ("20", "bootstrap")]


def test_s18_7_the_same_dump_again_writes_nothing_and_a_newer_one_only_the_change():
    stream = ImageStream.from_cluster(NS, "keycloak", repository="r/demo/keycloak", tags=[external("20")],
                                      lookup_local=False, labels={}, annotations={}, created=T0, generation=2)
    stream.adopt_history("20", [dump_item(A, 1, 2)])
    stream.collect_events()
    assert stream.adopt_history("20", [dump_item(A, 1, 2)]) == 0
    assert not stream.adopt_spec_tag(external("20").model_copy(update={"generation": None}), 2)
    assert not stream.adopt_lookup_policy(False)
    assert stream.pending_events == []
    assert stream.adopt_history("20", [dump_item(C, 3, 3), dump_item(A, 1, 2)]) == 1


def test_s18_7_a_dump_leaves_alone_what_a_later_command_changed():
    stream = ImageStream.from_cluster(NS, "keycloak", repository="r/demo/keycloak", tags=[], lookup_local=False,
                                      labels={}, annotations={}, created=T0, generation=1)
    stream.set_lookup_policy(True)  # a command after the first import
    assert not stream.adopt_lookup_policy(False)  # the same dump says False again: the command stands
    assert stream.state.lookup_local


def test_s18_8_a_dumped_deployment_keeps_a_pause_and_triggers_changed_since():
    deployment = Deployment.create(NS, "web", containers=[Container(name="web", image="nginx:1.25")],
                                   annotations={"image.openshift.io/triggers": "null"}, imported=True)
    deployment.set_paused(True)                                   # `rollout pause` after the import
    deployment.set_triggers_annotation(format_annotation([trigger("app:1", "web")]))
    deployment.collect_events()
    deployment.set_paused(False, imported=True)                   # the same dump again
    assert not deployment.set_triggers_annotation("null", imported=True)
    assert deployment.pending_events == [] and deployment.state.paused
