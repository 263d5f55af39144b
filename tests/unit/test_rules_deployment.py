"""The Deployment and StreamWatchers aggregates, rule by rule (docs/semantics.md §10.5, §12, §13, §18):
Deployments and streams built in memory; the trigger controller's reaction is `follow_triggers`, the
Deployment controller's is `roll_out`."""

from __future__ import annotations

import pytest
from rules_builders import (
    A, B, C, KEYCLOAK, NS, external, follow, image_of, keycloak_stream, new_deployment, new_stream, pinned,
    rollouts, set_alias, tag_external, trigger, history, imported,
)

from imagetrail.engine.domain.deployment import Cause, Deployment
from imagetrail.engine.domain.errors import ImagetrailError, Invalid, NotFound, TriggerGovernsContainer
from imagetrail.engine.domain.model import Container, TagReferencePolicy
from imagetrail.engine.domain.trigger_annotation import TriggerSource, format_annotation
from imagetrail.engine.domain.watchers import StreamWatchers

KEYCLOAK_20 = trigger("keycloak:20")


def two_containers(*triggers) -> Deployment:
    return new_deployment(pinned(A), *triggers, containers=[Container(name="keycloak", image=pinned(A)),
                                                            Container(name="sidecar", image="nginx:1.25")])


def image_changes(deployment: Deployment) -> list[list[tuple[str, str]]]:
    return [[(c.container, c.image) for c in e.changes] for e in deployment.pending_events
            if isinstance(e, Deployment.ImagesChanged)]


# --------------------------------------------------------------------------- §10.5


def test_s10_5_a_trigger_follows_its_tag_whatever_the_lookup_policy():
    stream = keycloak_stream()
    assert not stream.state.lookup_local
    deployment = new_deployment("keycloak:20", KEYCLOAK_20)
    assert follow(deployment, stream) and image_of(deployment) == pinned(A)


def test_s10_5_a_trigger_may_follow_a_tag_of_another_namespace():
    shared = new_stream(namespace="shared")
    tag_external(shared, "20", C, "21.0.0")
    deployment = new_deployment(pinned(A), trigger("keycloak:20", namespace="shared"))
    follow(deployment, shared, keycloak_stream())
    assert image_of(deployment) == pinned(C)


# --------------------------------------------------------------------------- §12 image trigger controller


def test_s12_2_the_watchers_of_a_stream_are_each_deployment_once_sorted():
    watchers = StreamWatchers.create(NS, "keycloak")
    for name in ("demo/web", "demo/mykeycloak", "demo/web"):
        watchers.watch(name)
    assert watchers.state.deployments == ["demo/mykeycloak", "demo/web"]
    assert len(watchers.pending_events) == 3  # created, two watched: the repeat writes nothing
    watchers.unwatch("demo/web")
    watchers.unwatch("demo/web")
    assert watchers.state.deployments == ["demo/mykeycloak"]


def test_s12_2_the_index_of_a_stream_has_one_id_per_namespace_and_name():
    assert StreamWatchers.id_for(NS, "keycloak") == StreamWatchers.create(NS, "keycloak").id
    assert StreamWatchers.id_for(NS, "keycloak") != StreamWatchers.id_for("other", "keycloak")


def test_s12_3_a_manual_image_edit_of_an_automatic_container_is_set_back():
    stream = keycloak_stream()
    deployment = new_deployment(pinned(A), KEYCLOAK_20)
    deployment.set_images({"keycloak": "nginx:1.25"}, Cause(kind="manual"))
    assert follow(deployment, stream)
    assert image_of(deployment) == pinned(A)


def test_s12_3_a_manual_image_edit_stays_when_the_trigger_is_paused():
    deployment = new_deployment(pinned(A), trigger("keycloak:20", paused=True))
    deployment.set_images({"keycloak": "nginx:1.25"}, Cause(kind="manual"))
    assert not follow(deployment, keycloak_stream())
    assert image_of(deployment) == "nginx:1.25"


def test_s12_4_1_an_annotation_that_does_not_parse_is_ignored_as_a_whole():
    deployment = new_deployment(pinned(A))
    deployment.set_triggers_annotation('[{"from":{"kind":"ImageStreamTag","name":"keycloak:20"},'
                                       '"fieldPath":"spec.template.spec.containers[0].image","paused":"false"}]')
    assert deployment.state.triggers() == []
    tag_stream = keycloak_stream()
    tag_external(tag_stream, "20", C, "21.0.0")
    assert not follow(deployment, tag_stream) and image_of(deployment) == pinned(A)


def test_s12_4_2_a_paused_trigger_is_skipped():
    stream = keycloak_stream()
    tag_external(stream, "20", C, "21.0.0")
    deployment = new_deployment(pinned(A), trigger("keycloak:20", paused=True))
    assert not follow(deployment, stream) and image_of(deployment) == pinned(A)


def test_s12_4_3_a_field_path_outside_the_pod_spec_is_skipped_silently():
    deployment = new_deployment(pinned(A), trigger(
        "keycloak:20", field_path='spec.jobTemplate.spec.template.spec.containers[?(@.name=="keycloak")].image'))
    stream = keycloak_stream()
    tag_external(stream, "20", C, "21.0.0")
    assert not follow(deployment, stream) and image_of(deployment) == pinned(A)


def test_s12_4_4_a_tag_without_an_image_is_skipped_without_error():
    deployment = new_deployment("nginx:1.25", trigger("nothere:1"))
    assert not follow(deployment, keycloak_stream())
    stream = new_stream(name="nothere")
    tag_external(stream, "1", C, "21.0.0")
    assert follow(deployment, stream) and image_of(deployment) == pinned(C)


def test_s12_4_4_only_image_stream_tag_triggers_naming_a_tag_are_followed():
    stream = keycloak_stream()
    without_tag = trigger("keycloak")
    docker_image = trigger("keycloak:20").model_copy(
        update={"source": TriggerSource(kind="DockerImage", name="keycloak:20")})
    for odd in (without_tag, docker_image):
        deployment = new_deployment("nginx:1.25", odd)
        assert not follow(deployment, stream) and image_of(deployment) == "nginx:1.25"


def test_s12_4_5_a_bad_field_path_stops_the_whole_update():
    deployment = two_containers(trigger("keycloak:20", "sidecar"),
                                trigger("keycloak:20", field_path="spec.template.spec.containers[0].name"))
    with pytest.raises(Invalid, match="field path is not valid"):
        follow(deployment, keycloak_stream())
    assert image_changes(deployment) == [] and image_of(deployment, "sidecar") == "nginx:1.25"


def test_s12_4_5_a_missing_container_stops_the_whole_update():
    deployment = two_containers(trigger("keycloak:20", "sidecar"), trigger("keycloak:20", "ghost"))
    with pytest.raises(Invalid, match="no such container: ghost"):
        follow(deployment, keycloak_stream())
    assert image_changes(deployment) == []


def test_s12_4_6_triggers_that_resolve_fire_even_when_others_do_not():
    deployment = two_containers(trigger("keycloak:20", "keycloak"), trigger("nothere:1", "sidecar"))
    stream = keycloak_stream()
    tag_external(stream, "20", C, "21.0.0")
    assert follow(deployment, stream)
    assert image_changes(deployment) == [[("keycloak", pinned(C))]]


def test_s12_4_7_a_container_already_on_the_image_is_not_changed():
    deployment = new_deployment(pinned(A), KEYCLOAK_20)
    assert not follow(deployment, keycloak_stream())
    assert image_changes(deployment) == []


def test_s12_4_8_an_index_selector_and_an_init_container_name_work_too():
    init = Container(name="setup", image="busybox")
    deployment = Deployment.create(NS, "web", containers=[Container(name="keycloak", image="nginx:1.25")],
                                   init_containers=[init], annotations={"image.openshift.io/triggers": format_annotation([
                                       trigger("keycloak:20", field_path="spec.template.spec.containers[0].image"),
                                       trigger("keycloak:20.0.3", "setup")])})
    follow(deployment, keycloak_stream())
    assert image_of(deployment) == pinned(A) and image_of(deployment, "setup") == pinned(B)


def test_s12_5_resolution_is_the_head_through_the_tags_reference_policy():
    stream = keycloak_stream()
    local = stream.state.spec_tags["20"].model_copy(update={"reference_policy": TagReferencePolicy(type="Local")})
    stream.set_spec_tag(local)
    deployment = new_deployment(pinned(A), KEYCLOAK_20)
    follow(deployment, stream)
    assert image_of(deployment) == f"{stream.state.repository}@{A}"


def test_s12_5_a_failed_or_pending_import_leaves_the_last_good_head():
    stream = keycloak_stream()
    stream.set_spec_tag(external("20.0.2", "99.0.0"))  # 20.0.2 asks for a new import…
    stream.import_failed("20.0.2", "NotFound", "manifest unknown")  # …which fails
    deployment = new_deployment(pinned(B), KEYCLOAK_20)
    follow(deployment, stream)
    assert image_of(deployment) == pinned(A)


def test_s12_6_a_paused_deployment_still_gets_the_new_template_image():
    stream = keycloak_stream()
    tag_external(stream, "20", C, "21.0.0")
    deployment = new_deployment(pinned(A), KEYCLOAK_20, paused=True)
    assert follow(deployment, stream) and image_of(deployment) == pinned(C)
    assert not deployment.roll_out("imagetrail tag") and rollouts(deployment) == []


def test_s12_7_re_enabling_a_paused_trigger_jumps_to_the_current_head():
    stream = keycloak_stream()
    deployment = new_deployment(pinned(A), trigger("keycloak:20", paused=True))
    set_alias(stream, "20", "20.0.3")
    tag_external(stream, "20", C, "21.0.0")
    follow(deployment, stream)
    deployment.set_triggers_annotation(format_annotation([KEYCLOAK_20]))
    follow(deployment, stream)
    assert image_changes(deployment) == [[("keycloak", pinned(C))]]  # B is never applied


def test_s12_8_several_containers_change_in_one_update_and_one_rollout():
    stream = keycloak_stream()
    deployment = two_containers(trigger("keycloak:20", "keycloak"), trigger("keycloak:20.0.3", "sidecar"))
    tag_external(stream, "20", C, "21.0.0")
    follow(deployment, stream)
    assert image_changes(deployment) == [[("keycloak", pinned(C)), ("sidecar", pinned(B))]]
    assert deployment.roll_out("imagetrail tag") and rollouts(deployment) == [2]


def test_s12_9_a_new_trigger_aligns_its_container_at_once():
    deployment = new_deployment("keycloak:20")
    deployment.set_triggers_annotation(format_annotation([KEYCLOAK_20]))
    assert follow(deployment, keycloak_stream()) and image_of(deployment) == pinned(A)
    assert deployment.roll_out("imagetrail set triggers") and deployment.state.revision == 2


# --------------------------------------------------------------------------- §13 pause and rollouts


def test_s13_1_pausing_twice_or_resuming_a_running_deployment_is_an_error():
    deployment = new_deployment()
    with pytest.raises(ImagetrailError, match='deployments.apps "mykeycloak" is not paused'):
        deployment.resume()
    deployment.pause()
    with pytest.raises(ImagetrailError, match='deployments.apps "mykeycloak" is already paused'):
        deployment.pause()
    deployment.resume()
    assert not deployment.state.paused


def test_s13_2_a_paused_deployment_rolls_out_once_on_resume_to_the_latest_template():
    stream = keycloak_stream()
    deployment = new_deployment(pinned(A), KEYCLOAK_20)
    deployment.pause()
    for digest, version in ((B, "20.0.3"), (C, "21.0.0")):
        tag_external(stream, "20", digest, version)
        follow(deployment, stream)
        assert not deployment.roll_out("imagetrail tag")
    deployment.resume()
    assert deployment.roll_out("imagetrail rollout resume")
    assert [(r.number, r.images) for r in deployment.state.revisions] == \
        [(1, {"keycloak": pinned(A)}), (2, {"keycloak": pinned(C)})]


def test_s13_2_a_deployment_created_paused_has_no_revision_until_resumed():
    deployment = new_deployment(paused=True)
    assert deployment.state.revisions == []
    deployment.resume()
    assert deployment.roll_out("imagetrail rollout resume") and deployment.state.revision == 1


def test_s13_5_rolling_back_to_an_earlier_template_reuses_its_revision():
    stream = keycloak_stream()
    deployment = new_deployment(pinned(A), KEYCLOAK_20)
    set_alias(stream, "20", "20.0.3")
    assert follow(deployment, stream) and deployment.roll_out("move")
    set_alias(stream, "20", "20.0.2")
    assert follow(deployment, stream) and deployment.roll_out("roll back")
    assert [(r.number, r.images["keycloak"]) for r in deployment.state.revisions] == [(2, pinned(B)), (3, pinned(A))]


def test_s13_5_a_template_seen_before_is_found_after_loading_from_a_snapshot():
    stream = keycloak_stream()
    deployment = new_deployment(pinned(A), KEYCLOAK_20)
    for target in ("20.0.3", "20.0.2"):
        set_alias(stream, "20", target)
        assert follow(deployment, stream) and deployment.roll_out("move")
    deployment = Deployment.Snapshot.take(deployment).mutate(None)  # a later process loads it
    set_alias(stream, "20", "20.0.3")
    assert follow(deployment, stream) and deployment.roll_out("move again")
    assert [(r.number, r.images["keycloak"]) for r in deployment.state.revisions] == [(3, pinned(A)), (4, pinned(B))]


def test_s13_5_the_change_cause_names_the_trigger_that_moved_the_template():
    stream = keycloak_stream()
    deployment = new_deployment(pinned(A), KEYCLOAK_20)
    tag_external(stream, "20", B, "20.0.3")
    follow(deployment, stream)
    deployment.roll_out("imagetrail tag quay.io/keycloak/keycloak:20.0.3 keycloak:20")
    assert deployment.state.revisions[-1].change_cause == \
        f"image trigger keycloak:20 (imagetrail tag {KEYCLOAK}:20.0.3 keycloak:20)"


# --------------------------------------------------------------------------- §18 rollout undo


def test_s18_5_undo_is_refused_for_a_container_an_automatic_trigger_governs():
    deployment = new_deployment(pinned(A), KEYCLOAK_20)
    deployment.set_images({"keycloak": pinned(B)}, Cause(kind="trigger"))
    deployment.roll_out("move")
    with pytest.raises(TriggerGovernsContainer, match=r"follows image stream tag keycloak:20 through an automatic "
                                                      r"trigger.*roll the tag back instead") as refused:
        deployment.undo()
    assert (refused.value.container, refused.value.istag) == ("keycloak", "keycloak:20")


def test_s18_6_undo_sets_an_untriggered_template_back_to_the_previous_revision():
    deployment = new_deployment(pinned(A))
    deployment.set_images({"keycloak": pinned(B)}, Cause(kind="manual"))
    deployment.roll_out("set image")
    assert deployment.undo() == {"keycloak": pinned(A)}
    assert deployment.roll_out("undo") and [r.number for r in deployment.state.revisions] == [2, 3]
    with pytest.raises(NotFound, match="unable to find specified revision 9 in history"):
        deployment.undo(9)


def test_s18_6_undo_without_an_earlier_revision_is_not_found():
    with pytest.raises(NotFound, match='no rollout history found for deployment "mykeycloak"'):
        new_deployment().undo()


def test_s18_6_undo_of_a_container_whose_trigger_is_manual_is_allowed():
    deployment = new_deployment(pinned(A), trigger("keycloak:20", paused=True))
    deployment.set_images({"keycloak": pinned(B)}, Cause(kind="manual"))
    deployment.roll_out("set image")
    assert deployment.undo() == {"keycloak": pinned(A)}


# --------------------------------------------------------------------------- §15 the lecture, on the aggregates


def test_s15_the_worked_example_step_by_step():
    stream = new_stream(external("20.0.2"))                               # 1. create istag
    assert (stream.state.generation, stream.state.spec_tags["20.0.2"].generation) == (1, 1)
    imported(stream, "20.0.2", A)                                         #    … and its import
    assert (stream.state.generation, stream.state.head("20.0.2").generation) == (2, 2)
    stream.set_lookup_policy(True)                                        # 2. set image-lookup
    assert stream.state.generation == 3
    set_alias(stream, "20", "20.0.2")                                     # 3. tag --alias
    assert stream.state.head("20").generation == stream.state.spec_tags["20"].generation == 4
    assert stream.state.head("20").created == stream.state.head("20.0.2").created
    deployment = new_deployment(pinned(A))                                # 4. create deployment (admitted)
    deployment.set_triggers_annotation(format_annotation([KEYCLOAK_20]))  # 5. set triggers
    assert not follow(deployment, stream)
    tag_external(stream, "20.0.3", B)                                     # 6. import-image 20.0.3
    assert history(stream, "20") == [A]
    set_alias(stream, "20", "20.0.3")                                     # 7. move the alias
    assert history(stream, "20") == [B, A]
    assert follow(deployment, stream) and deployment.roll_out("7") and image_of(deployment) == pinned(B)
    set_alias(stream, "20", "20.0.2")                                     # 8. roll back by the tag
    assert history(stream, "20") == [A, B, A]
    assert follow(deployment, stream) and deployment.roll_out("8")
    assert [r.number for r in deployment.state.revisions] == [2, 3]
    deployment.pause()                                                    # 9. pause, move, resume
    set_alias(stream, "20", "20.0.3")
    assert follow(deployment, stream) and not deployment.roll_out("9")
    deployment.resume()
    assert deployment.roll_out("9") and deployment.state.revision == 4
    deployment.set_triggers_annotation(format_annotation([trigger("keycloak:20", paused=True)]))  # 10. --manual
    set_alias(stream, "20", "20.0.2")
    assert not follow(deployment, stream) and image_of(deployment) == pinned(B)
    deployment.set_triggers_annotation(format_annotation([KEYCLOAK_20]))  #     --auto
    assert follow(deployment, stream) and image_of(deployment) == pinned(A)
