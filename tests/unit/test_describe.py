"""`oc describe is` rendering (imagetrail.cli.describe) against published oc output and oc's rules."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from imagetrail.cli.describe import (
    ERR_CIRCULAR_REFERENCE,
    ERR_CROSS_IMAGE_STREAM_REFERENCE,
    ERR_NOT_FOUND_REFERENCE,
    describe_imagestream,
    follow_tag_reference,
    human_duration,
    prioritize_tags,
)

FIXTURES = Path(__file__).parents[1] / "fixtures"  # copies of shared/reference/fixtures
UTC = timezone.utc


def fixture_output(name: str) -> str:
    """The published command output: everything below the '# ----' marker line."""
    text = (FIXTURES / name).read_text(encoding="utf-8")
    marker = "# ----\n"
    assert marker in text
    return text.split(marker, 1)[1]


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def sha(ch: str) -> str:
    return "sha256:" + ch * 64


def item(ref: str, image: str, created: datetime, generation: int = 2) -> dict:
    return {"created": iso(created), "dockerImageReference": ref, "image": image, "generation": generation}


def docker_tag(name: str, pull: str, **extra) -> dict:
    tag = {
        "name": name,
        "annotations": None,
        "from": {"kind": "DockerImage", "name": pull},
        "generation": 2,
        "importPolicy": {"importMode": "Legacy"},
        "referencePolicy": {"type": "Source"},
    }
    tag.update(extra)
    return tag


def alias_tag(name: str, target: str, **extra) -> dict:
    tag = {
        "name": name,
        "annotations": None,
        "from": {"kind": "ImageStreamTag", "name": target},
        "generation": 4,
        "importPolicy": {"importMode": "Legacy"},
        "referencePolicy": {"type": "Source"},
    }
    tag.update(extra)
    return tag


def stream(name: str, namespace: str, created: datetime, spec_tags: list, status_tags: list, **kw) -> dict:
    return {
        "kind": "ImageStream",
        "apiVersion": "image.openshift.io/v1",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "creationTimestamp": iso(created),
            "labels": kw.get("labels"),
            "annotations": kw.get("annotations"),
        },
        "spec": {"lookupPolicy": {"local": kw.get("local", False)}, "tags": spec_tags},
        "status": {
            "dockerImageRepository": kw.get(
                "repo", f"image-registry.openshift-image-registry.svc:5000/{namespace}/{name}"
            ),
            "publicDockerImageRepository": kw.get("public_repo", ""),
            "tags": status_tags,
        },
    }


# ---------------------------------------------------------------------------------------------
# published fixtures, byte for byte
# ---------------------------------------------------------------------------------------------


def test_fixture_scheduled_history_tinmancoding():
    now = datetime(2023, 12, 3, 12, 45, 30, tzinfo=UTC)
    created = datetime(2023, 12, 3, 12, 27, 3, tzinfo=UTC)  # 18m27s before now
    new_digest = "sha256:081524b099bb4e0f2aa7e18a27055a33aaf84bc48702017f5763eff7c09bb66b"
    old_digest = "sha256:41b0f1c024df515fde49117ad4c4a530f30a122296aa9604164e5b64170543bb"
    obj = stream(
        "myapp",
        "hello-image-streams",
        created,
        [
            docker_tag(
                "latest",
                "docker.io/tinmancoding/myapp:latest",
                generation=3,
                importPolicy={"scheduled": True, "importMode": "Legacy"},
            )
        ],
        [
            {
                "tag": "latest",
                "items": [
                    item(f"docker.io/tinmancoding/myapp@{new_digest}", new_digest, now - timedelta(seconds=90), 3),
                    item(f"docker.io/tinmancoding/myapp@{old_digest}", old_digest, created, 2),
                ],
            }
        ],
        annotations={"openshift.io/image.dockerRepositoryCheck": "2023-12-03T12:27:03Z"},
        repo="image-registry.openshift-image-registry.svc:5000/hello-image-streams/myapp",
        public_repo="default-route-openshift-image-registry.apps-crc.testing/hello-image-streams/myapp",
    )
    expected = fixture_output("describe_is__scheduled_history__tinmancoding.txt")
    assert describe_imagestream(obj, now) == expected


PHP_DIGESTS = {
    "7.2": "sha256:e55de5852d6003ed94ea46e430a2d96ee7af936999c446f8d5abdb83005f766c",
    "7.1": "sha256:289ef5852151a1a3ea4fdf2581a86a60ada0719e54a5ddd78f5252742e6d2b8d",
    "7.0": "sha256:5fe71824f8cd33e087a8345dae0d50d246d3032b179ccfbc21a2d2aaea24e2dc",
}


def php_stream() -> tuple[dict, datetime]:
    now = datetime(2020, 4, 23, 21, 43, 23, tzinfo=UTC)
    created = now - timedelta(hours=37)  # 2020-04-22T08:43:23Z
    imported = created + timedelta(seconds=7)

    def php_tag(ver: str) -> dict:
        nodot = ver.replace(".", "")
        return docker_tag(
            ver,
            f"registry.redhat.io/rhscl/php-{nodot}-rhel7:latest",
            annotations={
                "description": (
                    f"Build and run PHP {ver} applications on RHEL 7. For more information about using this "
                    "builder image, including OpenShift considerations, see "
                    f"https://github.com/sclorg/s2i-php-container/blob/master/{ver}/README.md."
                ),
                "iconClass": "icon-php",
                "openshift.io/display-name": f"PHP {ver}",
                "openshift.io/provider-display-name": "Red Hat, Inc.",
                "sampleRepo": "https://github.com/sclorg/cakephp-ex.git",
                "supports": f"php:{ver},php",
                "tags": "builder,php",
                "version": ver,
            },
            referencePolicy={"type": "Local"},
        )

    def php_item(ver: str) -> dict:
        nodot = ver.replace(".", "")
        digest = PHP_DIGESTS[ver]
        return item(f"registry.redhat.io/rhscl/php-{nodot}-rhel7@{digest}", digest, imported)

    spec = [
        php_tag("7.0"),
        php_tag("7.1"),
        php_tag("7.2"),
        alias_tag(
            "latest",
            "7.2",  # bare tag name, as the samples operator writes it
            annotations={"description": "Build and run PHP applications on RHEL 7 ... latest", "tags": "builder,php"},
            referencePolicy={"type": "Local"},
        ),
    ]
    status = [
        {"tag": "7.0", "items": [php_item("7.0")]},
        {"tag": "7.1", "items": [php_item("7.1")]},
        {"tag": "7.2", "items": [php_item("7.2")]},
        {"tag": "latest", "items": [php_item("7.2")]},  # the alias's own copy of 7.2's head
    ]
    obj = stream(
        "php",
        "openshift",
        created,
        spec,
        status,
        labels={"samples.operator.openshift.io/managed": "true"},
        annotations={
            "samples.operator.openshift.io/version": "4.3.13",
            "openshift.io/image.dockerRepositoryCheck": "2020-04-22T08:43:23Z",
            "openshift.io/display-name": "PHP",
        },
    )
    return obj, now


def test_fixture_alias_in_parentheses_extraordy_php():
    obj, now = php_stream()
    expected = fixture_output("describe_is__alias_in_parentheses__extraordy-do080.txt")
    assert describe_imagestream(obj, now) == expected


def test_fixture_legacy_docs_content_with_current_label():
    """openshift-docs sample (older oc printed 'Docker Pull Spec:'; same width as 'Image Repository:')."""
    text = fixture_output("describe_is__legacy_label__openshift-docs.txt")
    block = text.split("$ oc describe is/python\n\n", 1)[1].split("\n$ oc describe istag", 1)[0]
    expected = block.replace("Docker Pull Spec:\t", "Image Repository:\t")
    assert "Image Repository:\tdocker-registry.default.svc:5000/default/python\n" in expected

    now = datetime(2017, 10, 2, 17, 6, 20, tzinfo=UTC)
    created = datetime(2017, 10, 2, 17, 5, 11, tzinfo=UTC)
    # the doc truncated the digest (40 hex chars): the ref does not parse, so no "\t<image>" suffix
    # even though the recorded image differs from it
    short = "sha256:49c18358df82f4577386404991c51a9559f243e0b1bdc366df25"
    obj = stream(
        "python",
        "default",
        created,
        [docker_tag("3.5", "centos/python-35-centos7")],
        [{"tag": "3.5", "items": [item(f"centos/python-35-centos7@{short}", short + "0" * 24, created)]}],
        annotations={"openshift.io/image.dockerRepositoryCheck": "2017-10-02T17:05:11Z"},
        repo="docker-registry.default.svc:5000/default/python",
    )
    assert describe_imagestream(obj, now) == expected


def test_library_ruby_alias_bare_name_no_status():
    """openshift/library ruby-rhel (trimmed): bare-name alias, null creationTimestamp, no status."""
    raw = (FIXTURES / "imagestream_alias_spec_tag__openshift-library.yaml").read_text(encoding="utf-8")
    obj = json.loads("\n".join(line for line in raw.splitlines() if not line.startswith("#")))
    now = datetime(2024, 1, 1, tzinfo=UTC)
    expected = (
        "Name:\t\t\truby\n"
        "Labels:\t\t\t<none>\n"
        "Annotations:\t\topenshift.io/display-name=Ruby\n"
        "Image Repository:\t<none>\n"
        "Image Lookup:\t\tlocal=false\n"
        "Unique Images:\t\t0\n"
        "Tags:\t\t\t2\n"
        "\n"
        "3.3-ubi9 (latest)\n"
        "  tagged from registry.redhat.io/ubi9/ruby-33:latest\n"
        "    prefer registry pullthrough when referencing this tag\n"
        "\n"
        "  Build and run Ruby 3.3 applications on UBI 9. ...\n"
        "  Tags: builder, ruby\n"
        "  Example Repo: https://github.com/sclorg/ruby-ex.git\n"
        "\n"
    )
    assert describe_imagestream(obj, now) == expected


# ---------------------------------------------------------------------------------------------
# lecture flow (keycloak)
# ---------------------------------------------------------------------------------------------

NOW = datetime(2024, 1, 1, 10, 10, 0, tzinfo=UTC)
T_A = datetime(2024, 1, 1, 10, 0, 0, tzinfo=UTC)  # 10 minutes before NOW
T_B = datetime(2024, 1, 1, 10, 5, 0, tzinfo=UTC)  # 5 minutes before NOW
REF_A = f"quay.io/keycloak/keycloak@{sha('a')}"
REF_B = f"quay.io/keycloak/keycloak@{sha('b')}"

HEADER = (
    "Name:\t\t\tkeycloak\n"
    "Namespace:\t\tdemo\n"
    "Created:\t\t10 minutes ago\n"
    "Labels:\t\t\t<none>\n"
    "Annotations:\t\topenshift.io/image.dockerRepositoryCheck=2024-01-01T10:00:00Z\n"
    "Image Repository:\timage-registry.openshift-image-registry.svc:5000/demo/keycloak\n"
    "Image Lookup:\t\tlocal=true\n"
)


def keycloak(alias_target: str, alias_items: list, extra_aliases: tuple[str, ...] = ()) -> dict:
    spec = [
        docker_tag("20.0.2", "quay.io/keycloak/keycloak:20.0.2"),
        alias_tag("20", f"keycloak:{alias_target}"),
        docker_tag("20.0.3", "quay.io/keycloak/keycloak:20.0.3", generation=5),
    ]
    status = [
        {"tag": "20", "items": alias_items},
        {"tag": "20.0.2", "items": [item(REF_A, sha("a"), T_A, 4)]},
        {"tag": "20.0.3", "items": [item(REF_B, sha("b"), T_B, 5)]},
    ]
    for name in extra_aliases:
        spec.append(alias_tag(name, f"keycloak:{alias_target}"))
        status.append({"tag": name, "items": copy.deepcopy(alias_items)})
    return stream(
        "keycloak",
        "demo",
        T_A,
        spec,
        status,
        local=True,
        annotations={"openshift.io/image.dockerRepositoryCheck": "2024-01-01T10:00:00Z"},
    )


def test_lecture_keycloak_alias_listed_after_its_target():
    obj = keycloak("20.0.2", [item(REF_A, sha("a"), T_A, 4)])
    expected = HEADER + (
        "Unique Images:\t\t2\n"
        "Tags:\t\t\t3\n"
        "\n"
        "20.0.3\n"
        "  tagged from quay.io/keycloak/keycloak:20.0.3\n"
        "\n"
        f"  * {REF_B}\n"
        "      5 minutes ago\n"
        "\n"
        "20.0.2 (20)\n"
        "  tagged from quay.io/keycloak/keycloak:20.0.2\n"
        "\n"
        f"  * {REF_A}\n"
        "      10 minutes ago\n"
    )
    assert describe_imagestream(obj, NOW) == expected


def test_lecture_keycloak_alias_moved_to_new_version_hides_alias_history():
    # after `oc tag --alias keycloak:20.0.3 keycloak:20`: status 20 = [B, A] but it is not shown
    obj = keycloak("20.0.3", [item(REF_B, sha("b"), T_B, 6), item(REF_A, sha("a"), T_A, 4)], ("latest", "stable"))
    out = describe_imagestream(obj, NOW)
    assert "Unique Images:\t\t2\nTags:\t\t\t5\n\n20.0.3 (latest, 20, stable)\n" in out
    assert "\n\n20.0.2\n  tagged from quay.io/keycloak/keycloak:20.0.2\n" in out
    assert out.count(f"  * {REF_B}\n") == 1 and f"    {REF_A}\n" not in out
    blocks = [line for line in out.splitlines() if line and not line.startswith((" ", "\t")) and ":" not in line]
    assert blocks == ["20.0.3 (latest, 20, stable)", "20.0.2"]


def test_alias_chain_lists_every_alias_after_the_final_target():
    obj = keycloak("20.0.2", [item(REF_A, sha("a"), T_A, 4)])
    obj["spec"]["tags"].append(alias_tag("twenty", "20"))  # twenty -> 20 -> 20.0.2
    out = describe_imagestream(obj, NOW)
    assert "\n20.0.2 (20, twenty)\n" in out
    assert "Tags:\t\t\t4\n" in out  # spec-only alias still counted


# ---------------------------------------------------------------------------------------------
# cycles, dangling and cross-stream aliases are ordinary blocks
# ---------------------------------------------------------------------------------------------


def test_cyclic_dangling_and_cross_stream_aliases_are_ordinary_blocks():
    created = NOW - timedelta(minutes=3)
    spec = [
        alias_tag("a", "s:b"),
        alias_tag("b", "a"),
        alias_tag("self", "self"),
        alias_tag("dangling", "s:missing"),
        alias_tag("other", "otheris:1"),
        alias_tag("otherns", "s:a", **{"from": {"kind": "ImageStreamTag", "name": "s:1", "namespace": "prod"}}),
    ]
    obj = stream("s", "demo", created, spec, [], repo="")
    expected = (
        "Name:\t\t\ts\n"
        "Namespace:\t\tdemo\n"
        "Created:\t\t3 minutes ago\n"
        "Labels:\t\t\t<none>\n"
        "Annotations:\t\t<none>\n"
        "Image Repository:\t<none>\n"
        "Image Lookup:\t\tlocal=false\n"
        "Unique Images:\t\t0\n"
        "Tags:\t\t\t6\n"
        "\n"
        # no history yet and spec generation 4 > observed 0: oc prints the "importing" line for any
        # kind (it does not check from.kind); without history each block ends with a blank line,
        # and the separator adds another
        "a\n  tagged from s:b\n\n  ~ importing latest image ...\n"
        "\n"
        "b\n  tagged from a\n\n  ~ importing latest image ...\n"
        "\n"
        "dangling\n  tagged from s:missing\n\n  ~ importing latest image ...\n"
        "\n"
        "other\n  tagged from otheris:1\n\n  ~ importing latest image ...\n"
        "\n"
        "otherns\n  tagged from prod/s:1\n\n  ~ importing latest image ...\n"
        "\n"
        "self\n  tagged from self\n\n  ~ importing latest image ...\n"
    )
    assert describe_imagestream(obj, NOW) == expected


def test_cyclic_alias_with_history_and_same_namespace_prefix():
    t = NOW - timedelta(hours=2)
    spec = [
        alias_tag("x", "y", referencePolicy={"type": "Local"}),
        alias_tag("y", "x", **{"from": {"kind": "ImageStreamTag", "name": "s:x", "namespace": "demo"}}),
    ]
    status = [
        {"tag": "x", "items": [item(REF_A, sha("a"), t, 4)]},
        {"tag": "y", "items": [item(REF_A, sha("a"), t, 4)]},  # alias copy: same generation as spec
    ]
    obj = stream("s", "demo", t, spec, status)
    out = describe_imagestream(obj, NOW)
    assert out.endswith(
        "Unique Images:\t\t1\n"
        "Tags:\t\t\t2\n"
        "\n"
        "x\n"
        "  tagged from y\n"
        "    prefer registry pullthrough when referencing this tag\n"
        "\n"
        f"  * {REF_A}\n"
        "      2 hours ago\n"
        "\n"
        "y\n"
        "  tagged from s:x\n"  # namespace equal to the stream's is not printed
        "\n"
        f"  * {REF_A}\n"
        "      2 hours ago\n"
    )


# ---------------------------------------------------------------------------------------------
# imports: failure condition, pending import, reference tags, second-line variants
# ---------------------------------------------------------------------------------------------


def test_failed_import_condition_is_shown_before_history():
    t_old = NOW - timedelta(hours=3)
    msg = 'dockerimage.image.openshift.io "quay.io/acme/app:1.1" not found'
    spec = [docker_tag("1.1", "quay.io/acme/app:1.1", generation=3)]
    status = [
        {
            "tag": "1.1",
            "items": [item(f"quay.io/acme/app@{sha('c')}", sha("c"), t_old, 2)],
            "conditions": [
                {
                    "type": "ImportSuccess",
                    "status": "False",
                    "lastTransitionTime": iso(NOW - timedelta(minutes=2)),
                    "reason": "NotFound",
                    "message": msg,
                    "generation": 3,
                }
            ],
        }
    ]
    obj = stream("app", "demo", t_old, spec, status)
    out = describe_imagestream(obj, NOW)
    assert out.endswith(
        "Unique Images:\t\t1\n"
        "Tags:\t\t\t1\n"
        "\n"
        "1.1\n"
        "  tagged from quay.io/acme/app:1.1\n"
        "\n"
        f"  ! error: Import failed (NotFound): {msg}\n"
        "      2 minutes ago\n"
        f"  * quay.io/acme/app@{sha('c')}\n"
        "      3 hours ago\n"
    )
    # the condition's generation counts as observed: no "importing" line
    assert "~ importing" not in out


def test_pending_import_lines():
    t = NOW - timedelta(days=3)
    spec = [
        docker_tag("1.0", "quay.io/acme/app:1.0", generation=7),  # newer than observed 2
        docker_tag(
            "2.0",
            "registry.local:5000/acme/app:2.0",
            generation=1,
            importPolicy={"insecure": True, "scheduled": True},
            referencePolicy={"type": "Local"},
        ),  # no status yet
        docker_tag("ref", "quay.io/acme/app:ref", generation=9, reference=True),  # references never import
    ]
    status = [
        {"tag": "1.0", "items": [item(f"quay.io/acme/app@{sha('d')}", sha("d"), t, 2)]},
        {"tag": "ref", "items": [item("quay.io/acme/app:ref", "", t, 1)]},
    ]
    obj = stream("app", "demo", t, spec, status)
    out = describe_imagestream(obj, NOW)
    assert out.endswith(
        "Unique Images:\t\t2\n"
        "Tags:\t\t\t3\n"
        "\n"
        "2.0\n"
        "  updates automatically from registry registry.local:5000/acme/app:2.0\n"
        "    will use insecure HTTPS or HTTP connections\n"
        "    prefer registry pullthrough when referencing this tag\n"
        "\n"
        "  ~ importing latest image ...\n"
        "\n"
        "1.0\n"
        "  tagged from quay.io/acme/app:1.0\n"
        "\n"
        "  ~ importing latest image ...\n"
        f"  * quay.io/acme/app@{sha('d')}\n"
        "      3 days ago\n"
        "\n"
        "ref\n"
        "  reference to registry quay.io/acme/app:ref\n"
        "\n"
        "  * quay.io/acme/app:ref\n"
        "      3 days ago\n"
    )


def test_reference_tags_unique_images_quirk_and_image_suffix():
    t = NOW - timedelta(seconds=1)
    spec = [
        docker_tag("r1", "quay.io/acme/app:r1", reference=True),
        docker_tag("r2", "quay.io/acme/app:r2", reference=True),
        {"name": "bare", "annotations": None, "from": None, "generation": 1, "importPolicy": {}, "referencePolicy": {}},
        {
            "name": "pinned",
            "from": {"kind": "ImageStreamImage", "name": f"app@{sha('e')}"},
            "reference": False,
            "generation": 2,
        },
        {"name": "pinref", "from": {"kind": "ImageStreamImage", "name": f"app@{sha('e')}", "namespace": "prod"},
         "reference": True, "generation": 2},
        {"name": "odd", "from": {"kind": "Custom", "name": "thing"}, "generation": 2},
        {"name": "oddref", "from": {"kind": "Custom", "name": "thing"}, "reference": True, "generation": 2},
        alias_tag("istref", "other:1", reference=True),
        alias_tag("istsched", "other:1", importPolicy={"scheduled": True}),
    ]
    status = [
        {"tag": "pinned", "items": [item(f"quay.io/acme/app@{sha('e')}", sha("e"), t)]},
        {"tag": "pushed", "items": [item("image-registry.svc:5000/demo/app:pushed", sha("f"), t)]},
        {"tag": "r1", "items": [item("quay.io/acme/app:r1", "", t, 1)]},
        {"tag": "r2", "items": [item("quay.io/acme/app:r2", "", t, 1)]},
    ]
    obj = stream("app", "demo", t, spec, status)
    out = describe_imagestream(obj, NOW)
    # e, f and one shared "" key for both reference items; 4 status tags + 6 spec-only tags
    assert "Unique Images:\t\t3\nTags:\t\t\t10\n" in out
    assert "\nbare\n  tag without source image\n\n" in out
    assert (
        "\npinned\n  tagged from app@" + sha("e") + "\n\n  * quay.io/acme/app@" + sha("e") + "\n      1 second ago\n"
    ) in out
    assert "\npinref\n  reference to image prod/app@" + sha("e") + "\n" in out
    assert "\nodd\n  updates from Custom thing\n" in out
    assert "\noddref\n  reference to Custom thing\n" in out
    assert "\nistref\n  reference to other:1\n" in out
    assert "\nistsched\n  updates automatically from other:1\n" in out
    # a spec-only tag without history is followed by two blank lines (Fprintln + block separator)
    assert "\npinref\n  reference to image prod/app@" + sha("e") + "\n\n\npushed\n" in out
    # status-only tag; tag-based ref with an image → the image is appended after a TAB
    assert (
        "\npushed\n  no spec tag\n\n  * image-registry.svc:5000/demo/app:pushed\n      1 second ago\t" + sha("f") + "\n"
    ) in out
    # reference items have no image: no suffix
    assert "\nr1\n  reference to registry quay.io/acme/app:r1\n\n  * quay.io/acme/app:r1\n      1 second ago\n" in out


def test_header_description_multiline_labels_and_empty_stream():
    created = NOW - timedelta(seconds=30)
    obj = {
        "metadata": {
            "name": "empty",
            "namespace": "demo",
            "creationTimestamp": iso(created),
            "labels": {"b": "2", "app": "x"},
            "annotations": {"description": "first\nsecond", "z": "last", "a": "first"},
        },
        "spec": {"lookupPolicy": {"local": False}},
        "status": {"dockerImageRepository": "image-registry.openshift-image-registry.svc:5000/demo/empty"},
    }
    expected = (
        "Name:\t\t\tempty\n"
        "Namespace:\t\tdemo\n"
        "Created:\t\t30 seconds ago\n"
        "Labels:\t\t\tapp=x\n"
        "\t\t\tb=2\n"
        "Description:\t\tfirst\n"
        "\t\t\tsecond\n"
        "Annotations:\t\ta=first\n"
        "\t\t\tz=last\n"
        "Image Repository:\timage-registry.openshift-image-registry.svc:5000/demo/empty\n"
        "Image Lookup:\t\tlocal=false\n"
        "Tags:\t\t\t<none>\n"
    )
    assert describe_imagestream(obj, NOW) == expected


def test_naive_now_and_datetime_timestamps_are_utc():
    obj, now = php_stream()
    obj["metadata"]["creationTimestamp"] = now - timedelta(hours=37)  # a datetime, as model_dump gives
    naive = now.replace(tzinfo=None)
    assert describe_imagestream(obj, naive) == fixture_output("describe_is__alias_in_parentheses__extraordy-do080.txt")


# ---------------------------------------------------------------------------------------------
# follow_tag_reference
# ---------------------------------------------------------------------------------------------


def _refs_stream() -> dict:
    spec = [
        docker_tag("20.0.2", "quay.io/keycloak/keycloak:20.0.2"),
        alias_tag("20", "keycloak:20.0.2"),
        alias_tag("twenty", "20"),
        alias_tag("a", "b"),
        alias_tag("b", "keycloak:a"),
        alias_tag("self", "keycloak:self"),
        alias_tag("cross", "other:1"),
        alias_tag("crossns", "x", **{"from": {"kind": "ImageStreamTag", "name": "keycloak:20", "namespace": "prod"}}),
        alias_tag("samens", "x", **{"from": {"kind": "ImageStreamTag", "name": "keycloak:20", "namespace": "demo"}}),
        alias_tag("dangling", "missing"),
        alias_tag("dflt", "keycloak:"),
        {"name": "latest", "from": None},
        {"name": "pinned", "from": {"kind": "ImageStreamImage", "name": f"keycloak@{sha('a')}"}},
    ]
    return stream("keycloak", "demo", T_A, spec, [])


@pytest.mark.parametrize(
    "tag, expected",
    [
        ("20.0.2", ("20.0.2", ["20.0.2"], None)),
        ("latest", ("latest", ["latest"], None)),
        ("pinned", ("pinned", ["pinned"], None)),
        ("20", ("20.0.2", ["20", "20.0.2"], None)),
        ("twenty", ("20.0.2", ["twenty", "20", "20.0.2"], None)),
        ("samens", ("20.0.2", ["samens", "20", "20.0.2"], None)),
        ("dflt", ("latest", ["dflt", "latest"], None)),
        ("a", (None, ["a", "b", "a"], ERR_CIRCULAR_REFERENCE)),
        ("self", (None, ["self", "self"], ERR_CIRCULAR_REFERENCE)),
        ("cross", (None, ["cross"], ERR_CROSS_IMAGE_STREAM_REFERENCE)),
        ("crossns", (None, ["crossns"], ERR_CROSS_IMAGE_STREAM_REFERENCE)),
        ("dangling", (None, ["dangling", "missing"], ERR_NOT_FOUND_REFERENCE)),
        ("nope", (None, ["nope"], ERR_NOT_FOUND_REFERENCE)),
    ],
)
def test_follow_tag_reference(tag, expected):
    assert follow_tag_reference(_refs_stream(), tag) == expected


def test_follow_tag_reference_error_texts():
    assert "reference to same tag" in ERR_CIRCULAR_REFERENCE
    assert "another image stream" in ERR_CROSS_IMAGE_STREAM_REFERENCE


# ---------------------------------------------------------------------------------------------
# prioritize_tags
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tags, expected",
    [
        (["20", "20.0.2", "latest", "20.0.3"], ["latest", "20.0.3", "20.0.2", "20"]),
        (["7.0", "7.2", "latest", "7.1"], ["latest", "7.2", "7.1", "7.0"]),
        # minor versions come before full versions, whatever their value
        (["1.2.3", "1.1", "2.0", "0.9.9"], ["2.0", "1.1", "1.2.3", "0.9.9"]),
        # numeric, not lexicographic
        (["9.0", "10.0", "9.10.0", "9.9.0"], ["10.0", "9.0", "9.10.0", "9.9.0"]),
        # "v" prefix: same version → un-prefixed first
        (["v1.2", "1.2", "v1.3"], ["v1.3", "1.2", "v1.2"]),
        (["v2.0.0", "2.0.0", "v1.0.0"], ["2.0.0", "v2.0.0", "v1.0.0"]),
        # minor with a suffix is a prerelease of x.y.0
        (["5.1-rc1", "5.1", "5.2-beta", "3.3-ubi9"], ["5.2-beta", "5.1", "5.1-rc1", "3.3-ubi9"]),
        # semver prerelease precedence
        (
            ["1.0.0-alpha", "1.0.0", "1.0.0-beta", "1.0.0-alpha.1", "1.0.0-1"],
            ["1.0.0", "1.0.0-beta", "1.0.0-alpha.1", "1.0.0-alpha", "1.0.0-1"],
        ),
        # everything else lexicographic (byte order); leading zeros / bare majors / "Latest" are "other"
        (
            ["stable", "20", "Latest", "dev", "01.2", "1.02.3", "5.1-rc_1"],
            ["01.2", "1.02.3", "20", "5.1-rc_1", "Latest", "dev", "stable"],
        ),
        ([], []),
    ],
)
def test_prioritize_tags(tags, expected):
    original = list(tags)
    assert prioritize_tags(tags) == expected
    assert tags == original  # input untouched


# ---------------------------------------------------------------------------------------------
# human_duration (docker/go-units v0.5.0)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "delta, expected",
    [
        (timedelta(seconds=-5), "Less than a second"),
        (timedelta(0), "Less than a second"),
        (timedelta(milliseconds=999), "Less than a second"),
        (timedelta(seconds=1), "1 second"),
        (timedelta(milliseconds=1999), "1 second"),
        (timedelta(seconds=2), "2 seconds"),
        (timedelta(seconds=59), "59 seconds"),
        (timedelta(seconds=60), "About a minute"),
        (timedelta(seconds=119), "About a minute"),
        (timedelta(minutes=2), "2 minutes"),
        (timedelta(minutes=18), "18 minutes"),
        (timedelta(minutes=46), "46 minutes"),
        (timedelta(minutes=59, seconds=59), "59 minutes"),
        (timedelta(minutes=60), "About an hour"),
        (timedelta(minutes=89), "About an hour"),
        (timedelta(minutes=90), "2 hours"),
        (timedelta(hours=37), "37 hours"),
        (timedelta(hours=47, minutes=29), "47 hours"),
        (timedelta(hours=47, minutes=30), "2 days"),
        (timedelta(days=2), "2 days"),
        (timedelta(days=13, hours=23), "13 days"),
        (timedelta(days=14), "2 weeks"),
        (timedelta(days=20, hours=23), "2 weeks"),
        (timedelta(days=21), "3 weeks"),
        (timedelta(days=59), "8 weeks"),
        (timedelta(days=60), "2 months"),
        (timedelta(days=120), "4 months"),
        (timedelta(days=729), "24 months"),
        (timedelta(days=730), "2 years"),
        (timedelta(days=365 * 3 - 1), "2 years"),
        (timedelta(days=365 * 3), "3 years"),
    ],
)
def test_human_duration(delta, expected):
    assert human_duration(delta) == expected


def test_missing_created_is_go_zero_time():
    obj = stream("s", "demo", NOW, [docker_tag("1.0", "quay.io/x/y:1.0")], [])
    obj["status"]["tags"] = [{"tag": "1.0", "items": [{"dockerImageReference": "quay.io/x/y:1.0", "image": ""}]}]
    out = describe_imagestream(obj, NOW)
    # time.Time.Sub saturates at the maximum Duration (~292 years)
    assert "  * quay.io/x/y:1.0\n      292 years ago\n" in out
