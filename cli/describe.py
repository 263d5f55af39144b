"""`oc describe is NAME`, rendered the way openshift/oc renders it.

Pure functions over an API-shaped ImageStream dict (``image.openshift.io/v1``, the JSON that
``oc get is -o json`` prints); the standard library and the domain's pure rules (model.py) only.

Ported from (openshift/oc):

* ``pkg/helpers/describe/describer.go``  ``DescribeImageStream``
* ``pkg/helpers/describe/helpers.go``    ``formatMeta``, ``formatString``, ``formatMapStringString``,
  ``formatImageStreamTags``, ``latestObservedTagGeneration``, ``tabbedString``
* ``pkg/helpers/image/helpers.go``       ``FollowTagReference``
* library-go ``pkg/image/imageutil``     ``PrioritizeTags`` (with blang/semver v3 ``Parse``/``Compare``),
  ``SpecHasTag``, ``StatusHasTag``, ``SplitImageStreamTag``
* library-go ``pkg/image/reference``     ``Parse`` (only as far as "does it parse, and what is its digest")
* docker/go-units v0.5.0 ``HumanDuration``
* Go ``text/tabwriter`` as oc configures it: minwidth 0, tabwidth 8, padding 1, pad char TAB, no flags.

The output is built exactly as oc builds it (same ``Fprintf`` strings, in the same order) and then
run through a port of Go's tabwriter, so column padding (``Name:\\t\\t\\t``) comes out byte for byte.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from imagetrail.cli.gofmt import human_duration, prioritize_tags, tabwrite_tabs
from imagetrail.engine.domain import model

__all__ = [
    "describe_imagestream",
    "human_duration",
    "prioritize_tags",
    "follow_tag_reference",
    "ERR_CIRCULAR_REFERENCE",
    "ERR_NOT_FOUND_REFERENCE",
    "ERR_CROSS_IMAGE_STREAM_REFERENCE",
]

# the domain's words for oc's FollowTagReference errors
ERR_CIRCULAR_REFERENCE = model.CIRCULAR_REFERENCE
ERR_NOT_FOUND_REFERENCE = model.NOT_FOUND_REFERENCE
ERR_CROSS_IMAGE_STREAM_REFERENCE = model.CROSS_IMAGE_STREAM_REFERENCE

# --------------------------------------------------------------------------------------------
# Stream accessors (imageutil.SpecHasTag / StatusHasTag) and FollowTagReference
# --------------------------------------------------------------------------------------------

def _d(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list:
    return value if isinstance(value, list) else []


def _s(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _spec_tags(obj: dict) -> list[dict]:
    return [t for t in _l(_d(obj.get("spec")).get("tags")) if isinstance(t, dict)]


def _status_tags(obj: dict) -> list[dict]:
    return [t for t in _l(_d(obj.get("status")).get("tags")) if isinstance(t, dict)]


def _spec_has_tag(obj: dict, name: str) -> dict | None:
    for tag in _spec_tags(obj):
        if _s(tag.get("name")) == name:
            return tag
    return None


def _status_has_tag(obj: dict, name: str) -> dict | None:
    for tag in _status_tags(obj):
        if _s(tag.get("tag")) == name:
            return tag
    return None


def follow_tag_reference(obj: dict, tag: str) -> tuple[str | None, list[str], str | None]:
    """oc ``FollowTagReference`` over ``obj``'s ``spec.tags`` (the domain's rule,
    ``model.follow_tag_reference``): ``(final_tag, chain, None)``, or ``(None, chain, error)``.

    ``len(chain) > 1`` is Go's ``multiple`` (the tag is an alias). Of two spec tags with one
    name the first counts, as ``SpecHasTag`` finds it.
    """
    meta = _d(obj.get("metadata"))
    sources: dict[str, tuple[str, str, str] | None] = {}
    for spec in _spec_tags(obj):
        frm = spec.get("from")
        sources.setdefault(_s(spec.get("name")), (_s(frm.get("kind")), _s(frm.get("namespace")), _s(frm.get("name")))
                           if isinstance(frm, dict) else None)
    return model.follow_tag_reference(sources, _s(meta.get("namespace")), _s(meta.get("name")), tag)


# --------------------------------------------------------------------------------------------
# library-go reference.Parse (docker distribution grammar) — only "parses?" and the digest
# --------------------------------------------------------------------------------------------

_ALPHA_NUMERIC = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]*)"
_NAME_COMPONENT = _ALPHA_NUMERIC + r"(?:" + _SEPARATOR + _ALPHA_NUMERIC + r")*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = _DOMAIN_COMPONENT + r"(?:\." + _DOMAIN_COMPONENT + r")*(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}"
_NAME = r"(?:" + _DOMAIN + r"/)?" + _NAME_COMPONENT + r"(?:/" + _NAME_COMPONENT + r")*"
_REFERENCE_RE = re.compile(r"^(" + _NAME + r")(?::(" + _TAG + r"))?(?:@(" + _DIGEST + r"))?$", re.ASCII)
_NAME_TOTAL_LENGTH_MAX = 255
_DIGEST_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}


def _reference_digest(spec: str) -> tuple[bool, str]:
    """(parses, digest-or-"") for library-go ``reference.Parse(spec)``."""
    m = _REFERENCE_RE.match(spec)
    if m is None or len(m.group(1)) > _NAME_TOTAL_LENGTH_MAX:
        return False, ""
    digest = m.group(3) or ""
    if digest:
        algorithm, _, hex_part = digest.partition(":")
        if _DIGEST_HEX_LENGTHS.get(algorithm) != len(hex_part):
            return False, ""
    return True, digest


# --------------------------------------------------------------------------------------------
# describe
# --------------------------------------------------------------------------------------------

_GO_ZERO_TIME = datetime(1, 1, 1, tzinfo=timezone.utc)


def _parse_time(value: Any) -> datetime | None:
    """metav1.Time from JSON (RFC3339 string) or a datetime; None for null/empty (zero time)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    else:
        s = str(value).strip()
        if s.endswith(("Z", "z")):
            s = s[:-1] + "+00:00"
        dt = datetime.fromisoformat(s)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt


def _aware(now: datetime) -> datetime:
    return now if now.tzinfo is not None else now.replace(tzinfo=timezone.utc)


def _age(now: datetime, when: Any) -> str:
    """units.HumanDuration(now.Sub(t)); a missing time is Go's zero time."""
    t = _parse_time(when) or _GO_ZERO_TIME
    return human_duration(now - t)


def _go_bool(value: Any) -> str:
    return "true" if value else "false"


def _go_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _format_string(out: list[str], label: str, value: str) -> None:
    """helpers.go formatString: "Label:" then "\\t<line>\\n" per line; "" → <none>."""
    out.append(f"{label}:")
    for lval in (value or "<none>").split("\n"):
        out.append(f"\t{lval}\n")


def _format_map_string_string(out: list[str], label: str, items: dict[str, str]) -> None:
    keys = sorted(items)
    if not keys:
        _format_string(out, label, "")
        return
    for i, key in enumerate(keys):
        if i == 0:
            _format_string(out, label, f"{key}={items[key]}")
        else:
            out.append(f"\t{key}={items[key]}\n")


def _str_map(value: Any) -> dict[str, str]:
    return {_s(k): _s(v) for k, v in _d(value).items()}


def _latest_observed_tag_generation(obj: dict, tag: str) -> int:
    tag_events = _status_has_tag(obj, tag)
    if tag_events is None:
        return 0
    items = _l(tag_events.get("items"))
    conditions = [_d(c) for c in _l(tag_events.get("conditions"))]
    return model.observed_generation(max(0, _go_int(_d(items[0]).get("generation")) if items else 0),
                                     ((_s(c.get("type")), _go_int(c.get("generation"))) for c in conditions))


def _format_image_stream_tags(out: list[str], obj: dict, now: datetime) -> None:
    status_tags = _status_tags(obj)
    spec_tags = _spec_tags(obj)
    if not status_tags and not spec_tags:
        out.append("Tags:\t<none>\n")
        return

    meta = _d(obj.get("metadata"))
    stream_ns = _s(meta.get("namespace"))

    # Unique Images (quirk kept: items without an image all count under the key "")
    images: dict[str, str] = {}
    for tag in status_tags:
        for item in _l(tag.get("items")):
            item = _d(item)
            image, ref = _s(item.get("image")), _s(item.get("dockerImageReference"))
            if image:
                images.setdefault(image, _s(tag.get("tag")))
            elif ref:
                if ref not in images:
                    images[image] = ref

    sorted_tags = [_s(t.get("tag")) for t in status_tags]
    local_references: set[str] = set()
    referential_tags: dict[str, set[str]] = {}
    for tag in spec_tags:
        name = _s(tag.get("name"))
        target, chain, err = follow_tag_reference(obj, name)
        if err is None and len(chain) > 1 and target is not None:
            local_references.add(name)
            referential_tags.setdefault(target, set()).add(name)
        if _status_has_tag(obj, name) is None:
            sorted_tags.append(name)
    out.append(f"Unique Images:\t{len(images)}\nTags:\t{len(sorted_tags)}\n\n")

    first = True
    for tag in prioritize_tags(sorted_tags):
        if tag in local_references:
            continue
        if first:
            first = False
        else:
            out.append("\n")
        taglist = _status_has_tag(obj, tag) or {}
        spec_tag = _spec_has_tag(obj, tag)
        has_spec_tag = spec_tag is not None
        tag_ref = spec_tag or {}
        frm = tag_ref.get("from") if isinstance(tag_ref.get("from"), dict) else None
        reference = bool(tag_ref.get("reference"))
        import_policy = _d(tag_ref.get("importPolicy"))
        scheduled = insecure = importing = False

        name = ""
        if has_spec_tag and frm is not None:
            from_ns, from_name = _s(frm.get("namespace")), _s(frm.get("name"))
            name = f"{from_ns}/{from_name}" if from_ns and from_ns != stream_ns else from_name
            scheduled, insecure = bool(import_policy.get("scheduled")), bool(import_policy.get("insecure"))
            gen = _latest_observed_tag_generation(obj, tag)
            spec_gen = tag_ref.get("generation")
            importing = not reference and spec_gen is not None and _go_int(spec_gen) > gen

        references = referential_tags.get(tag)
        if references:
            out.append(f"{tag} ({', '.join(prioritize_tags(sorted(references)))})\n")
        else:
            out.append(f"{tag}\n")

        kind = _s(frm.get("kind")) if frm is not None else ""
        if not has_spec_tag:
            out.append("  no spec tag\n")
        elif frm is None:
            out.append("  tag without source image\n")
        elif kind == "ImageStreamTag":
            if reference:
                out.append(f"  reference to {name}\n")
            elif scheduled:
                out.append(f"  updates automatically from {name}\n")
            else:
                out.append(f"  tagged from {name}\n")
        elif kind == "DockerImage":
            if reference:
                out.append(f"  reference to registry {name}\n")
            elif scheduled:
                out.append(f"  updates automatically from registry {name}\n")
            else:
                out.append(f"  tagged from {name}\n")
        elif kind == "ImageStreamImage":
            if reference:
                out.append(f"  reference to image {name}\n")
            else:
                out.append(f"  tagged from {name}\n")
        else:
            if reference:
                out.append(f"  reference to {kind} {name}\n")
            else:
                out.append(f"  updates from {kind} {name}\n")
        if insecure:
            out.append("    will use insecure HTTPS or HTTP connections\n")
        if _s(_d(tag_ref.get("referencePolicy")).get("type")) == "Local":
            out.append("    prefer registry pullthrough when referencing this tag\n")

        out.append("\n")

        annotations = _str_map(tag_ref.get("annotations"))
        extra_output = False
        if d := annotations.get("description", ""):
            out.append(f"  {d}\n")
            extra_output = True
        if t := annotations.get("tags", ""):
            out.append(f"  Tags: {', '.join(t.split(','))}\n")
            extra_output = True
        if t := annotations.get("supports", ""):
            out.append(f"  Supports: {', '.join(t.split(','))}\n")
            extra_output = True
        if t := annotations.get("sampleRepo", ""):
            out.append(f"  Example Repo: {t}\n")
            extra_output = True
        if extra_output:
            out.append("\n")

        if importing:
            out.append("  ~ importing latest image ...\n")

        for condition in _l(taglist.get("conditions")):
            condition = _d(condition)
            if _s(condition.get("type")) == "ImportSuccess" and _s(condition.get("status")) == "False":
                age = _age(now, condition.get("lastTransitionTime"))
                out.append(
                    f"  ! error: Import failed ({_s(condition.get('reason'))}): "
                    f"{_s(condition.get('message'))}\n      {age} ago\n"
                )

        for i, event in enumerate(_l(taglist.get("items"))):
            event = _d(event)
            ref = _s(event.get("dockerImageReference"))
            age = _age(now, event.get("created"))
            out.append(f"  * {ref}\n" if i == 0 else f"    {ref}\n")
            parsed, ref_id = _reference_digest(ref)
            image_id = _s(event.get("image"))
            if image_id and parsed and ref_id != image_id:
                out.append(f"      {age} ago\t{image_id}\n")
            else:
                out.append(f"      {age} ago\n")


def describe_imagestream(obj: dict, now: datetime) -> str:
    """The text ``oc describe is NAME`` prints for the ImageStream ``obj`` at time ``now``.

    ``obj`` is the API (``image.openshift.io/v1``) JSON shape; timestamps may be RFC3339 strings or
    datetimes (naive ones are taken as UTC). The result ends with a newline, as oc's does.
    """
    now = _aware(now)
    meta = _d(obj.get("metadata"))
    out: list[str] = []

    # formatMeta
    _format_string(out, "Name", _s(meta.get("name")))
    if namespace := _s(meta.get("namespace")):
        _format_string(out, "Namespace", namespace)
    if (created := _parse_time(meta.get("creationTimestamp"))) is not None:
        out.append(f"Created:\t{human_duration(now - created)} ago\n")
    _format_map_string_string(out, "Labels", _str_map(meta.get("labels")))
    annotations = _str_map(meta.get("annotations"))
    description = annotations.pop("description", "")
    if description:
        _format_string(out, "Description", description)
    _format_map_string_string(out, "Annotations", annotations)

    status = _d(obj.get("status"))
    repo = _s(status.get("publicDockerImageRepository")) or _s(status.get("dockerImageRepository"))
    _format_string(out, "Image Repository", repo)
    local = _d(_d(obj.get("spec")).get("lookupPolicy")).get("local")
    _format_string(out, "Image Lookup", f"local={_go_bool(local)}")
    _format_image_stream_tags(out, obj, now)

    return tabwrite_tabs("".join(out))
