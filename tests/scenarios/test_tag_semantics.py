"""Image stream tag semantics: the edge-case checklist (docs/semantics.md §16) and §3–§8."""

from conftest import A, B, C, KEYCLOAK


def spec_tag(stream: dict, name: str) -> dict:
    return next(t for t in stream["spec"]["tags"] if t["name"] == name)


def test_rule_16_1_tag_is_tag_copies_by_digest_and_does_not_follow(keycloak):
    out = keycloak("tag keycloak:20.0.2 keycloak:pinned").out
    assert out == f"Tag keycloak:pinned set to keycloak@{A}.\n"
    assert spec_tag(keycloak.stream(), "pinned")["from"] == {"kind": "ImageStreamImage", "name": f"keycloak@{A}"}
    keycloak(f"tag {KEYCLOAK}:21.0.0 keycloak:20.0.2")
    assert keycloak.history("pinned") == [A]      # pinned, never follows
    assert keycloak.history("20.0.2") == [C, A]


def test_rule_16_1_alias_tracks_its_source(keycloak):
    keycloak(f"tag {KEYCLOAK}:21.0.0 keycloak:20.0.2")
    assert keycloak.history("20") == [C, A]
    assert keycloak.image() == f"{KEYCLOAK}@{C}"


def test_rule_16_2_bare_name_tag_source_is_an_istag_in_this_namespace(imagetrail):
    result = imagetrail.fails("tag nginx:latest web:1")
    assert '"nginx:latest" is not currently pointing to an image' in result.err
    assert imagetrail.event_count() == 0


def test_rule_16_3_cross_stream_alias_is_rejected_by_tag(keycloak):
    result = keycloak.fails("tag --alias keycloak:20.0.2 other:20")
    assert result.err == "error: cannot set alias across different Image Streams\n"


def test_rule_16_3_cross_stream_istag_reference_copies_once(keycloak):
    keycloak("create istag other:20 --from keycloak:20.0.2")
    assert keycloak.history("20", stream="other") == [A]
    keycloak(f"tag {KEYCLOAK}:21.0.0 keycloak:20.0.2")
    assert keycloak.history("20", stream="other") == [A]  # not tracked across streams


def test_rule_16_3_alias_cycles_are_accepted_and_freeze(keycloak):
    keycloak("tag --alias keycloak:b keycloak:a")
    keycloak("tag --alias keycloak:a keycloak:b")
    assert keycloak.history("a") == [] and keycloak.history("b") == []
    described = keycloak("describe is keycloak").out
    assert "\na\n  tagged from keycloak:b\n" in described and "\nb\n  tagged from keycloak:a\n" in described


def test_rule_4_4_alias_chains_propagate_to_a_fixed_point(keycloak):
    keycloak("tag --alias keycloak:20 keycloak:latest")
    keycloak("tag --alias keycloak:latest keycloak:stable")
    assert keycloak.history("stable") == [A]
    keycloak(f"tag {KEYCLOAK}:21.0.0 keycloak:20.0.2")
    assert [keycloak.history(t) for t in ("20", "latest", "stable")] == [[C, A]] * 3


def test_rule_4_6_alias_to_missing_tag_is_accepted_and_fills_later(keycloak):
    keycloak("tag --alias keycloak:future keycloak:next")
    assert keycloak.history("next") == []
    keycloak(f"tag {KEYCLOAK}:21.0.0 keycloak:future")
    assert keycloak.history("next") == [C]


def test_rule_4_7_deleting_the_source_leaves_the_alias_history(keycloak):
    assert keycloak("tag -d keycloak:20.0.2").out == "Deleted tag demo/keycloak:20.0.2.\n"
    assert keycloak.history("20") == [A]
    assert keycloak.fails("get istag keycloak:20.0.2").err == \
        'error: imagestreamtags.image.openshift.io "keycloak:20.0.2" not found\n'


def test_rule_16_4_history_prepends_on_change_and_allows_duplicates(keycloak):
    keycloak("tag --alias keycloak:20.0.3 keycloak:20")
    keycloak("tag --alias keycloak:20.0.2 keycloak:20")
    assert keycloak.history("20") == [A, B, A]


def test_rule_16_4_alias_events_copy_the_source_created(keycloak):
    stream = keycloak.stream()
    created = {t["tag"]: t["items"][0]["created"] for t in stream["status"]["tags"]}
    assert created["20"] == created["20.0.2"]


def test_rule_5_3_retagging_the_same_image_only_bumps_the_generation(keycloak):
    before = next(t for t in keycloak.stream()["status"]["tags"] if t["tag"] == "20.0.2")["items"]
    keycloak(f"tag {KEYCLOAK}:20.0.2 keycloak:20.0.2")
    after = next(t for t in keycloak.stream()["status"]["tags"] if t["tag"] == "20.0.2")["items"]
    assert len(after) == 1 and after[0]["created"] == before[0]["created"]
    assert after[0]["generation"] > before[0]["generation"]


def test_rule_2_generations_follow_the_worked_example(imagetrail):
    imagetrail(f"create istag keycloak:20.0.2 --from-image {KEYCLOAK}:20.0.2")
    stream = imagetrail.stream()
    assert stream["metadata"]["generation"] == 2  # created at 1, imported at 2 (§15 step 1)
    assert spec_tag(stream, "20.0.2")["generation"] == 2
    assert stream["status"]["tags"][0]["items"][0]["generation"] == 2
    imagetrail("set image-lookup keycloak")
    assert imagetrail.stream()["metadata"]["generation"] == 3
    imagetrail("tag --alias keycloak:20.0.2 keycloak:20")
    stream = imagetrail.stream()
    assert stream["metadata"]["generation"] == 4
    assert spec_tag(stream, "20")["generation"] == 4
    assert next(t for t in stream["status"]["tags"] if t["tag"] == "20")["items"][0]["generation"] == 4


def test_rule_16_5_retagging_replaces_the_whole_spec_tag(keycloak):
    assert keycloak(f"tag --scheduled {KEYCLOAK}:20.0.3 keycloak:20.0.3").out == \
        f"Tag keycloak:20.0.3 set to import {KEYCLOAK}:20.0.3 periodically.\n"
    assert spec_tag(keycloak.stream(), "20.0.3")["importPolicy"]["scheduled"] is True
    assert "updates automatically from registry" in keycloak("describe is keycloak").out
    keycloak(f"tag {KEYCLOAK}:20.0.3 keycloak:20.0.3")
    assert "scheduled" not in spec_tag(keycloak.stream(), "20.0.3")["importPolicy"]


def test_rule_16_6_reference_tags_have_history_without_image_and_no_istag(imagetrail):
    imagetrail(f"tag --reference {KEYCLOAK}:nightly keycloak:nightly")
    stream = imagetrail.stream()
    assert stream["status"]["tags"][0]["items"][0]["image"] == ""
    assert stream["status"]["tags"][0]["items"][0]["dockerImageReference"] == f"{KEYCLOAK}:nightly"
    imagetrail.fails("get istag keycloak:nightly")


def test_rule_16_7_failed_import_keeps_the_old_head_and_records_a_condition(keycloak):
    result = keycloak.fails(f"tag {KEYCLOAK}:99.0.0 keycloak:20")
    assert result.out == f"Tag keycloak:20 set to {KEYCLOAK}:99.0.0.\n"
    assert "error: tag 20 failed:" in result.err and f"{KEYCLOAK}:99.0.0" in result.err
    status = next(t for t in keycloak.stream()["status"]["tags"] if t["tag"] == "20")
    assert [i["image"] for i in status["items"]] == [A]
    assert status["conditions"][0]["type"] == "ImportSuccess" and status["conditions"][0]["status"] == "False"
    assert keycloak.image() == f"{KEYCLOAK}@{A}"  # triggers keep the old image
    assert "! error: Import failed (NotFound)" in keycloak("describe is keycloak").out


def test_rule_16_9_reference_policy_local_applies_at_read_time(keycloak):
    keycloak("tag --alias --reference-policy=local keycloak:20.0.2 keycloak:20")
    istag = keycloak("get istag keycloak:20 -o json").json()
    assert istag["image"]["dockerImageReference"] == \
        f"image-registry.openshift-image-registry.svc:5000/demo/keycloak@{A}"
    history = next(t for t in keycloak.stream()["status"]["tags"] if t["tag"] == "20")["items"]
    assert history[0]["dockerImageReference"] == f"{KEYCLOAK}@{A}"  # never stored resolved


def test_reference_policy_is_lowercase_only_for_tag(keycloak):
    assert keycloak.fails("tag --alias --reference-policy=Local keycloak:20.0.2 keycloak:x").err == \
        "error: valid values for --reference-policy are: source, local\n"


def test_rule_16_15_lookup_resolves_short_names_only_when_enabled(imagetrail):
    imagetrail(f"create istag keycloak:20 --from-image {KEYCLOAK}:20.0.2")
    imagetrail("create deployment literal --image keycloak:20")
    assert imagetrail.image("literal") == "keycloak:20"
    imagetrail("set image-lookup keycloak")
    imagetrail("create deployment resolved --image keycloak:20")
    assert imagetrail.image("resolved") == f"{KEYCLOAK}@{A}"


def test_rule_16_16_describe_hides_alias_blocks_and_orders_by_version(keycloak):
    text = keycloak("describe is keycloak").out
    blocks = [line for line in text.split("\n\n") if line and not line.startswith(("Name:", " "))]
    assert [b.splitlines()[0] for b in blocks] == ["20.0.3", "20.0.2 (20)"]


def test_rule_16_17_spec_and_status_tags_are_sorted_by_name(keycloak):
    keycloak("tag --alias keycloak:20.0.2 keycloak:a-latest")
    stream = keycloak.stream()
    names = [t["name"] for t in stream["spec"]["tags"]]
    assert names == sorted(names)
    assert [t["tag"] for t in stream["status"]["tags"]] == sorted(names)


def test_create_istag_never_overwrites(keycloak):
    before = keycloak.event_count()
    assert keycloak.fails(f"create istag keycloak:20.0.2 --from-image {KEYCLOAK}:21.0.0").err == \
        'error: imagestreamtags.image.openshift.io "keycloak:20.0.2" already exists\n'
    assert keycloak.event_count() == before


def test_tag_by_digest_source_pins_that_image(keycloak):
    keycloak(f"tag keycloak@{B} keycloak:pinned")
    assert spec_tag(keycloak.stream(), "pinned")["from"]["kind"] == "ImageStreamImage"
    assert keycloak.history("pinned") == [B]


def test_tag_by_unknown_digest_fails_and_writes_nothing(keycloak):
    before = keycloak.event_count()
    result = keycloak.fails(f"tag keycloak@{C} keycloak:pinned")
    assert f'imagestreamimage.image.openshift.io "{C}" not found' in result.err
    assert keycloak.event_count() == before


def test_digest_pinned_pull_spec_needs_no_snapshot(imagetrail, monkeypatch):
    monkeypatch.delenv("IMAGETRAIL_MIRROR")
    imagetrail(f"tag {KEYCLOAK}@{C} keycloak:21")
    assert imagetrail.history("21") == [C]


def test_import_image_follows_alias_chains_to_the_final_tag(keycloak):
    keycloak("tag --alias keycloak:20 keycloak:x")
    generation = spec_tag(keycloak.stream(), "20.0.2")["generation"]
    out = keycloak("import-image keycloak:x").out
    assert out.startswith("imagestream.image.openshift.io/keycloak imported\n")
    assert spec_tag(keycloak.stream(), "20.0.2")["generation"] > generation  # the final tag was re-imported
    assert keycloak.history("20.0.2") == [A]  # same digest: collapsed, no new entry


def test_import_image_refuses_a_pinned_tag(keycloak):
    keycloak("tag keycloak:20.0.2 keycloak:pinned")
    assert keycloak.fails("import-image keycloak:pinned").err == \
        f'error: tag "pinned" points to existing ImageStreamImage "keycloak@{A}", it cannot be re-imported\n'


def test_import_image_refuses_a_different_source(keycloak):
    result = keycloak.fails(f"import-image keycloak:20 --from {KEYCLOAK}:21.0.0")
    assert result.err == (f'error: the tag "20" points to the tag "20.0.2" which points to "{KEYCLOAK}:20.0.2" - '
                          f"use the 'tag' command if you want to change the source to \"{KEYCLOAK}:21.0.0\"\n")


def test_import_image_refuses_a_cycle(keycloak):
    keycloak("tag --alias keycloak:b keycloak:a")
    keycloak("tag --alias keycloak:a keycloak:b")
    assert keycloak.fails("import-image keycloak:a").err == \
        'error: tag "a" on the image stream is a reference to same tag\n'


def test_import_image_needs_confirm_for_a_new_stream(imagetrail):
    assert imagetrail.fails(f"import-image fresh:1 --from {KEYCLOAK}:20.0.2").err == \
        'error: no image stream named "fresh" exists, pass --confirm to create and import\n'
    assert imagetrail.event_count() == 0


def test_import_image_by_id_is_rejected(imagetrail):
    assert imagetrail.fails(f"import-image keycloak@{A}").err == \
        "error: to import images by ID, use the 'tag' command\n"


def test_rule_6_2_8_each_destination_is_tagged_on_its_own(keycloak):
    out = keycloak(f"tag {KEYCLOAK}:21.0.0 keycloak:a keycloak:b").out
    assert out == f"Tag keycloak:a set to {KEYCLOAK}:21.0.0.\nTag keycloak:b set to {KEYCLOAK}:21.0.0.\n"
    assert keycloak.history("a") == keycloak.history("b") == [C]


def test_rule_8_2_2_a_new_tag_of_an_existing_stream_needs_from_but_not_confirm(keycloak):
    before = keycloak.event_count()
    assert keycloak.fails("import-image keycloak:21").err == (
        "error: the tag \"21\" does not exist on the image stream - choose an existing tag to import or use the "
        "'tag' command to create a new tag\n")
    assert keycloak.event_count() == before
    keycloak(f"import-image keycloak:21 --from {KEYCLOAK}:21.0.0")
    assert keycloak.history("21") == [C]


def test_rule_6_2_4_an_alias_of_a_digest_is_refused_rather_than_written_as_a_pin(keycloak):
    before = keycloak.event_count()
    assert keycloak.fails(f"tag --alias keycloak@{A} keycloak:x").err == \
        "error: --alias needs an image stream tag (name:tag) as SOURCE\n"
    assert keycloak.event_count() == before
