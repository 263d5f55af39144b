"""The ImageStream aggregate, rule by rule (docs/semantics.md §1–§5, §8.2, §9, §10): each test builds a
stream in memory, runs the commands of a scenario on it, and checks what the rule says."""

from __future__ import annotations

import pytest
from rules_builders import (
    A, B, C, KEYCLOAK, NS, alias_ref, external, history, imported, keycloak_stream, moved, new_stream, pin, pinned,
    set_alias, tag_external,
)

from imagetrail.engine.domain.errors import Conflict, NotFound
from imagetrail.engine.domain.imagestream import REPOSITORY_CHECK_ANNOTATION, ImageStream
from imagetrail.engine.domain.model import TagHistory, TagReference, TagReferencePolicy
from imagetrail.engine.domain.tag_sources import docker_image_tag
from imagetrail.projections.documents import imagestream as imagestream_document


def tag_generation(stream: ImageStream, tag: str) -> int | None:
    return stream.state.spec_tags[tag].generation


# --------------------------------------------------------------------------- §1 data model


def test_s1_3_the_head_is_the_newest_entry_and_the_current_image():
    stream = new_stream()
    tag_external(stream, "20", A, "20.0.2")
    tag_external(stream, "20", B, "20.0.3")
    assert history(stream, "20") == [B, A]
    assert stream.state.head("20").image == B
    assert stream.state.resolve("20") == pinned(B)


def test_s1_4_a_spec_tag_defaults_to_source_policy_and_legacy_import_mode():
    ref = TagReference(name="20")
    assert ref.reference_policy.type == "Source"
    assert ref.import_policy.import_mode == "Legacy"
    assert not ref.import_policy.scheduled and not ref.import_policy.insecure and not ref.reference


def test_s1_5_the_wire_form_lists_spec_and_status_tags_by_name():
    stream = new_stream()
    for tag, digest in (("b", B), ("a", A), ("c", C)):
        tag_external(stream, tag, digest, "20.0.2")
    document = imagestream_document(stream.state)
    assert [t["name"] for t in document["spec"]["tags"]] == ["a", "b", "c"]
    assert [t["tag"] for t in document["status"]["tags"]] == ["a", "b", "c"]


def test_s1_6_a_status_tag_without_items_or_conditions_is_not_listed():
    stream = new_stream()
    tag_external(stream, "20", A, "20.0.2")
    stream.state.status_tags["empty"] = TagHistory()
    assert [t["tag"] for t in imagestream_document(stream.state)["status"]["tags"]] == ["20"]


def test_s1_7_deleting_a_tag_removes_its_spec_and_its_whole_history():
    stream = keycloak_stream()
    generation = stream.state.generation
    stream.delete_tag("20.0.2")
    assert "20.0.2" not in stream.state.spec_tags and "20.0.2" not in stream.state.status_tags
    assert stream.state.generation == generation + 1


def test_s1_7_deleting_a_tag_that_is_neither_in_spec_nor_in_status_is_not_found():
    stream = keycloak_stream()
    with pytest.raises(NotFound, match='imagestreamtags.image.openshift.io "keycloak:nope" not found'):
        stream.delete_tag("nope")


# --------------------------------------------------------------------------- §2 generations


def test_s2_1_a_new_stream_and_each_of_its_spec_tags_start_at_generation_1():
    stream = new_stream(external("20.0.2").model_copy(update={"generation": 7}), external("20.0.3"))
    assert stream.state.generation == 1
    assert tag_generation(stream, "20.0.2") == tag_generation(stream, "20.0.3") == 1
    assert stream.state.status_tags == {}


def test_s2_2_the_stream_generation_moves_only_when_the_spec_changes():
    stream = keycloak_stream()
    generation = stream.state.generation
    assert not stream.set_spec_tag(alias_ref("20", "keycloak:20.0.2"))  # the same spec again
    assert not stream.set_lookup_policy(False)
    assert stream.state.generation == generation
    stream.set_lookup_policy(True)
    assert stream.state.generation == generation + 1


def test_s2_3_1_a_client_cannot_choose_a_tag_generation():
    stream = keycloak_stream()
    kept = tag_generation(stream, "20")
    stream.set_spec_tag(alias_ref("20", "keycloak:20.0.2").model_copy(
        update={"generation": 99, "reference_policy": TagReferencePolicy(type="Local")}))
    assert tag_generation(stream, "20") == kept


def test_s2_3_2_a_new_or_re_pointed_tag_takes_the_new_stream_generation():
    stream = keycloak_stream()
    assert stream.set_spec_tag(alias_ref("latest", "keycloak:20.0.3"))  # new: process its source
    assert tag_generation(stream, "latest") == stream.state.generation
    assert stream.set_spec_tag(alias_ref("20", "keycloak:20.0.3"))      # re-pointed
    assert tag_generation(stream, "20") == stream.state.generation


def test_s2_3_2_generation_0_asks_for_a_re_import():
    stream = keycloak_stream()
    assert stream.set_spec_tag(external("20.0.2"))  # generation 0, as `oc tag` sends it
    assert tag_generation(stream, "20.0.2") == stream.state.generation


def test_s2_3_3_policy_changes_bump_the_stream_but_keep_the_tag_generation_and_are_not_processed():
    stream = keycloak_stream()
    kept, generation = tag_generation(stream, "20.0.3"), stream.state.generation
    scheduled = stream.state.spec_tags["20.0.3"].model_copy(deep=True)
    scheduled.import_policy.scheduled = True
    assert not stream.set_spec_tag(scheduled)  # nothing to import
    assert stream.state.generation == generation + 1
    assert tag_generation(stream, "20.0.3") == kept


def test_s2_4_an_entry_written_by_a_spec_change_carries_that_tags_new_generation():
    stream = keycloak_stream()
    set_alias(stream, "latest", "20.0.3")
    assert stream.state.head("latest").generation == tag_generation(stream, "latest") == stream.state.generation


def test_s2_5_an_import_leaves_stream_spec_tag_and_entry_at_the_next_generation():
    stream = new_stream(external("20.0.2"))
    imported(stream, "20.0.2", A)
    assert stream.state.generation == tag_generation(stream, "20.0.2") == stream.state.head("20.0.2").generation == 2
    assert REPOSITORY_CHECK_ANNOTATION in stream.state.annotations


def pending(stream, tag: str) -> bool:
    """§2.6 as describe applies it to the API object: a non-reference tag waits for an import while
    its spec generation is larger than what its history and conditions observed."""
    spec = stream.state.spec_tags.get(tag)
    return bool(spec and spec.source and not spec.reference and spec.generation is not None
                and spec.generation > stream.state.observed_generation(tag))


def test_s2_6_an_import_is_pending_until_a_head_or_condition_observes_the_spec_generation():
    stream = new_stream(external("20.0.2"))
    assert pending(stream, "20.0.2") and stream.state.observed_generation("20.0.2") == 0
    stream.import_failed("20.0.2", "NotFound", "manifest unknown")
    assert not pending(stream, "20.0.2")  # the failure observed it
    stream.set_spec_tag(external("20.0.2"))
    assert pending(stream, "20.0.2")
    imported(stream, "20.0.2", A)
    assert not pending(stream, "20.0.2")
    assert stream.state.observed_generation("20.0.2") == stream.state.head("20.0.2").generation


def test_s2_6_reference_and_alias_tags_are_never_pending():
    stream = keycloak_stream()
    stream.set_spec_tag(external("nightly", reference=True))
    stream.record_reference("nightly")
    assert not pending(stream, "nightly") and not pending(stream, "20")


# --------------------------------------------------------------------------- §3 reference kinds


def test_s3_1_a_tag_without_source_has_no_history():
    stream = new_stream(TagReference(name="placeholder"))
    assert stream.state.head("placeholder") is None and stream.state.resolve("placeholder") is None
    assert not pending(stream, "placeholder")


def test_s3_2_an_import_records_the_pull_spec_by_digest_and_the_image():
    stream = new_stream(external("20.0.2"))
    assert imported(stream, "20.0.2", A)
    head = stream.state.head("20.0.2")
    assert (head.docker_image_reference, head.image) == (f"{KEYCLOAK}@{A}", A)
    assert moved(stream) == [("20.0.2", "import")]


def test_s3_2_a_docker_image_tag_has_no_history_before_its_import():
    stream = new_stream(external("20.0.2"))
    assert stream.state.head("20.0.2") is None and stream.state.resolve("20.0.2") is None


def test_s3_3_a_reference_tag_records_its_pull_spec_verbatim_without_an_image():
    stream = new_stream()
    stream.set_spec_tag(external("nightly", reference=True))
    stream.record_reference("nightly")
    head = stream.state.head("nightly")
    assert (head.docker_image_reference, head.image) == (f"{KEYCLOAK}:nightly", "")
    assert head.generation == tag_generation(stream, "nightly")
    assert moved(stream) == [("nightly", "reference")]


def test_s3_4_1_an_alias_copies_the_source_head_with_its_created_time():
    stream = keycloak_stream()
    source, copy = stream.state.head("20.0.2"), stream.state.head("20")
    assert (copy.created, copy.docker_image_reference, copy.image) == \
        (source.created, source.docker_image_reference, source.image)
    assert copy.generation == tag_generation(stream, "20")


def test_s3_4_2_an_alias_to_a_tag_without_history_writes_nothing_and_raises_nothing():
    stream = keycloak_stream()
    stream.set_spec_tag(alias_ref("next", "keycloak:future"))
    assert stream.copy_tag("next", stream.state, "future") is False
    assert history(stream, "next") == []


def test_s3_4_3_an_alias_to_another_stream_copies_that_streams_head():
    other = new_stream(name="base")
    tag_external(other, "1", C, "21.0.0")
    stream = keycloak_stream()
    set_alias(stream, "base", "1", source=other)
    assert history(stream, "base") == [C]


def test_s3_5_1_a_pin_copies_the_image_found_anywhere_in_the_history_dated_now():
    stream = keycloak_stream()
    tag_external(stream, "20.0.2", C, "21.0.0")  # A is now an older entry of 20.0.2
    pin(stream, "pinned", A)
    head = stream.state.head("pinned")
    assert (head.docker_image_reference, head.image) == (pinned(A), A)
    assert head.created > stream.state.head("20.0.3").created
    assert moved(stream)[-1] == ("pinned", "copy")


def test_s3_5_2_a_pin_accepts_a_unique_prefix_of_the_digest_or_of_its_hex():
    stream = keycloak_stream()
    assert stream.state.find_image("sha256:aaaa").image == A
    assert stream.state.find_image("bbbb").image == B


def test_s3_5_3_a_pin_to_no_image_is_not_found_and_to_several_is_a_conflict():
    stream = keycloak_stream()
    with pytest.raises(NotFound, match=f'imagestreamimage.image.openshift.io "{C}" not found'):
        stream.state.find_image(C)
    with pytest.raises(Conflict, match=f'multiple images match the prefix "sha256:": {A}, {B}'):
        stream.state.find_image("sha256:")


# --------------------------------------------------------------------------- §4 aliases


def test_s4_1_a_new_source_head_is_copied_verbatim_into_its_aliases():
    stream = keycloak_stream()
    tag_external(stream, "20.0.2", C, "21.0.0")
    assert stream.state.head("20") == stream.state.head("20.0.2")
    assert ("20", "followed") in moved(stream)


def test_s4_1_a_generation_only_change_of_the_source_reaches_the_alias_too():
    stream = keycloak_stream()
    stream.set_spec_tag(external("20.0.2"))
    imported(stream, "20.0.2", A)  # same digest, newer generation: collapse (§5.3)
    assert history(stream, "20") == [A]
    assert stream.state.head("20").generation == stream.state.head("20.0.2").generation


def test_s4_1_an_alias_by_bare_tag_name_tracks_too():
    stream = keycloak_stream()
    stream.set_spec_tag(alias_ref("bare", "20.0.3"))
    stream.copy_tag("bare", stream.state, "20.0.3")
    tag_external(stream, "20.0.3", C, "21.0.0")
    assert history(stream, "bare") == [C, B]


def test_s4_2_moving_the_source_moves_the_alias_in_the_same_write():
    stream = keycloak_stream()
    before = len(stream.pending_events)
    tag_external(stream, "20.0.2", C, "21.0.0")
    tags = [e.tag for e in stream.pending_events[before:] if isinstance(e, ImageStream.TagMoved)]
    assert tags == ["20.0.2", "20"]
    assert history(stream, "20") == [C, A]


def test_s4_3_an_alias_to_another_stream_is_copied_once_and_never_follows():
    other = new_stream(name="base")
    tag_external(other, "1", A, "20.0.2")
    stream = keycloak_stream()
    set_alias(stream, "base", "1", source=other)
    tag_external(other, "1", C, "21.0.0")
    assert history(stream, "base") == [A]
    assert not stream.state.spec_tags["base"].tracks(NS, "keycloak", "1")


def test_s4_3_an_alias_naming_another_namespace_does_not_track():
    stream = keycloak_stream()
    stream.set_spec_tag(alias_ref("far", "keycloak:20.0.3", namespace="elsewhere"))
    tag_external(stream, "20.0.3", C, "21.0.0")
    assert history(stream, "far") == []


def test_s4_4_alias_chains_are_followed_to_a_fixed_point_in_one_write():
    stream = keycloak_stream()
    set_alias(stream, "latest", "20")
    set_alias(stream, "stable", "latest")
    tag_external(stream, "20.0.2", C, "21.0.0")
    assert [history(stream, t) for t in ("20", "latest", "stable")] == [[C, A]] * 3


def test_s4_5_alias_cycles_are_accepted_and_freeze():
    stream = keycloak_stream()
    set_alias(stream, "a", "b")
    set_alias(stream, "b", "a")
    assert history(stream, "a") == history(stream, "b") == []
    with pytest.raises(Conflict, match='tag "a" on the image stream is a reference to same tag'):
        stream.state.follow_tag_reference("a")


def test_s4_5_a_self_alias_copies_what_the_tag_had_and_stays():
    stream = keycloak_stream()
    set_alias(stream, "20.0.3", "20.0.3")
    assert history(stream, "20.0.3") == [B]


def test_s4_6_an_alias_to_a_missing_tag_fills_when_the_tag_gets_an_image():
    stream = keycloak_stream()
    set_alias(stream, "next", "future")
    tag_external(stream, "future", C, "21.0.0")
    assert history(stream, "next") == [C]


def test_s4_7_deleting_the_source_keeps_the_alias_history_and_a_new_source_propagates_again():
    stream = keycloak_stream()
    stream.delete_tag("20.0.2")
    assert history(stream, "20") == [A]
    tag_external(stream, "20.0.2", C, "21.0.0")
    assert history(stream, "20") == [C, A]


# --------------------------------------------------------------------------- §5 history, on the aggregate


def test_s5_5_a_tag_moved_back_lists_the_old_image_again():
    stream = keycloak_stream()
    set_alias(stream, "20", "20.0.3")
    set_alias(stream, "20", "20.0.2")
    assert history(stream, "20") == [A, B, A]


def test_s5_7_history_is_never_trimmed():
    stream = new_stream()
    digests = [f"sha256:{str(i) * 64}" for i in range(10)]
    for digest in digests:
        tag_external(stream, "20", digest, "20.0.2")
    assert history(stream, "20") == digests[::-1]


def test_s5_8_an_import_of_the_digest_the_tag_has_writes_nothing():
    stream = keycloak_stream()
    before = len(stream.pending_events)
    assert not imported(stream, "20.0.2", A)
    assert not imported(stream, "20.0.2", A, scheduled=True)
    assert len(stream.pending_events) == before


def test_s5_8_an_import_asked_for_again_bumps_the_generation_only():
    stream = keycloak_stream()
    stream.set_spec_tag(external("20.0.2"))  # generation 0: re-import
    assert imported(stream, "20.0.2", A)
    assert history(stream, "20.0.2") == [A]
    assert stream.state.head("20.0.2").generation == stream.state.generation


def test_s5_9_a_failed_import_keeps_the_head_and_records_one_condition():
    stream = keycloak_stream()
    stream.set_spec_tag(external("20.0.2", "99.0.0"))
    stream.import_failed("20.0.2", "NotFound", "")
    conditions = stream.state.status_tags["20.0.2"].conditions
    assert history(stream, "20.0.2") == [A] and stream.state.resolve("20.0.2") == pinned(A)
    assert [(c.type, c.status, c.reason, c.message) for c in conditions] == \
        [("ImportSuccess", "False", "NotFound", "unknown error prevented import")]
    assert conditions[0].generation == stream.state.generation == tag_generation(stream, "20.0.2")
    stream.import_failed("20.0.2", "NotFound", "")
    assert len(stream.state.status_tags["20.0.2"].conditions) == 1
    assert stream.state.has_failure("20.0.2", "NotFound", "unknown error prevented import")


def test_s5_6_a_later_good_import_clears_the_condition():
    stream = keycloak_stream()
    stream.set_spec_tag(external("20.0.2", "21.0.0"))
    stream.import_failed("20.0.2", "InternalError", "registry down")
    imported(stream, "20.0.2", C)
    assert stream.state.status_tags["20.0.2"].conditions == [] and history(stream, "20.0.2") == [C, A]


# --------------------------------------------------------------------------- §9 scheduled imports


def test_s9_2_only_scheduled_non_reference_docker_tags_are_re_imported():
    stream = keycloak_stream()
    stream.set_spec_tag(external("nightly", scheduled=True))
    stream.set_spec_tag(external("ref", scheduled=True, reference=True))
    stream.set_spec_tag(external("20.0.3", scheduled=False))
    assert stream.state.scheduled_tags() == ["nightly"]


def test_s9_2_a_digest_pinned_scheduled_tag_is_re_imported_only_until_its_first_import():
    stream = new_stream()
    stream.set_spec_tag(docker_image_tag("pinned", f"{KEYCLOAK}@{A}", scheduled=True))
    assert stream.state.scheduled_tags() == ["pinned"]
    imported(stream, "pinned", A)
    assert stream.state.scheduled_tags() == []


def test_s9_3_a_scheduled_import_of_a_new_digest_moves_the_tag_and_its_aliases():
    stream = keycloak_stream()
    assert not imported(stream, "20.0.2", A, scheduled=True)  # unchanged upstream: nothing
    assert imported(stream, "20.0.2", C, scheduled=True)
    assert moved(stream)[-2:] == [("20.0.2", "scheduled-import"), ("20", "followed")]


def test_s9_3_a_scheduled_import_that_works_again_clears_the_outage_condition():
    stream = keycloak_stream()
    stream.import_failed("20.0.2", "InternalError", "registry down")
    assert imported(stream, "20.0.2", A, scheduled=True)
    assert stream.state.status_tags["20.0.2"].conditions == [] and history(stream, "20.0.2") == [A]


# --------------------------------------------------------------------------- §10 lookup and reference policy


def test_s10_1_local_lookup_is_a_spec_change_and_setting_it_twice_is_nothing():
    stream = keycloak_stream()
    generation = stream.state.generation
    assert stream.set_lookup_policy(True) and stream.state.lookup_local
    assert not stream.set_lookup_policy(True)
    assert stream.state.generation == generation + 1


def test_s10_4_1_source_policy_resolves_to_the_recorded_pull_spec():
    assert keycloak_stream().state.resolve("20") == pinned(A)


def test_s10_4_2_local_policy_resolves_through_the_integrated_registry_at_read_time():
    stream = keycloak_stream()
    local = stream.state.spec_tags["20.0.3"].model_copy(update={"reference_policy": TagReferencePolicy(type="Local")})
    stream.set_spec_tag(local)
    assert stream.state.resolve("20.0.3") == f"{stream.state.repository}@{B}"
    assert stream.state.head("20.0.3").docker_image_reference == pinned(B)  # never stored resolved


def test_s10_4_3_local_policy_falls_back_to_the_source_without_an_image():
    stream = new_stream()
    stream.set_spec_tag(external("nightly", reference=True, policy=TagReferencePolicy(type="Local")))
    stream.record_reference("nightly")
    assert stream.state.resolve("nightly") == f"{KEYCLOAK}:nightly"


def test_s10_4_4_the_policy_of_the_tag_being_read_applies():
    stream = keycloak_stream()
    local = stream.state.spec_tags["20.0.2"].model_copy(update={"reference_policy": TagReferencePolicy(type="Local")})
    stream.set_spec_tag(local)
    assert stream.state.resolve("20.0.2").startswith(stream.state.repository)
    assert stream.state.resolve("20") == pinned(A)  # the alias has Source policy


# --------------------------------------------------------------------------- §8.2 import-image follows aliases


def test_s8_2_3_a_re_import_follows_same_stream_aliases_to_the_final_tag():
    stream = keycloak_stream()
    set_alias(stream, "latest", "20")
    assert stream.state.follow_tag_reference("latest") == ("20.0.2", ["latest", "20", "20.0.2"])


def test_s8_2_3_a_chain_through_another_stream_cannot_be_re_imported():
    stream = keycloak_stream()
    stream.set_spec_tag(alias_ref("base", "base:1"))
    with pytest.raises(Conflict, match='^tag "base" points to an imagestreamtag from another ImageStream$'):
        stream.state.follow_tag_reference("base")
