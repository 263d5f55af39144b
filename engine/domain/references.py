"""Docker pull-spec and image-stream name parsing, as OpenShift does it.

Mirrors library-go `pkg/image/reference.Parse` (LG-REF), its internal copy of the
docker/distribution grammar and digest check, plus the small `oc tag` helpers
(`parseStreamName`, `SplitImageStreamTag`) and the server's stream-name rule.
References are kept as typed: no docker.io / library/ defaulting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace


class ReferenceError(ValueError):
    """A reference or name was rejected; the message is the upstream one."""


# --- grammar (docker/distribution reference/regexp.go as vendored by library-go) ---

_ALNUM = r"[a-z0-9]+"
# Upstream separator is (?:[._]|__|[-]*). Its empty case only glues two alnum runs,
# which [a-z0-9]+ already does, so "-+" accepts the same names without the nested
# empty loop that makes Python's backtracking engine exponential.
_COMPONENT = rf"{_ALNUM}(?:(?:[._]|__|-+){_ALNUM})*"
_HOST_PART = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_HOST = rf"{_HOST_PART}(?:\.{_HOST_PART})*(?::[0-9]+)?"
_NAME = rf"(?:{_HOST}/)?{_COMPONENT}(?:/{_COMPONENT})*"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"  # Go's \w is ASCII-only
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"

# fullmatch everywhere: Python's "$" would also accept a trailing newline, Go's does not.
_REFERENCE_RE = re.compile(rf"({_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?")
_TAG_RE = re.compile(_TAG)
# library-go internal/digest: loose shape first, then algorithm and length.
_DIGEST_SHAPE_RE = re.compile(r"[a-zA-Z0-9_+.-]+:[a-fA-F0-9]+")
_DIGEST_HEX_LEN = {"sha256": 64, "sha384": 96, "sha512": 128}

_NAME_TOTAL_LENGTH_MAX = 255
_STREAM_NAME_PATTERN = "[a-z0-9]+(?:[._-][a-z0-9]+)*"
_STREAM_NAME_RE = re.compile(_STREAM_NAME_PATTERN)
_DNS1123_LABEL_PATTERN = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL_RE = re.compile(_DNS1123_LABEL_PATTERN)

_TAG_NAME_RULE = (
    "tags must start with an alphanumeric character followed by "
    "alphanumeric, '.' or '-' characters, and have a maximum of 128 characters"
)


@dataclass(frozen=True)
class DockerImageReference:
    registry: str = ""
    namespace: str = ""
    name: str = ""  # may itself contain '/' for deep paths (library-go splits only once)
    tag: str = ""
    id: str = ""

    def repository(self) -> str:
        """registry/namespace/name, without tag or id."""
        if not self.name:
            # library-go keeps a registry-only spec ("quay.io", "localhost:5000") whole in registry
            return self.registry
        return "/".join(p for p in (self.registry, self.namespace, self.name) if p)

    def name_string(self) -> str:
        """namespace/name, i.e. the registry-relative repository."""
        return "/".join(p for p in (self.namespace, self.name) if p)

    def exact(self) -> str:
        """The reference as written: registry/namespace/name[:tag][@id], nothing defaulted."""
        if not self.name:
            return self.registry
        return (
            self.repository()
            + (f":{self.tag}" if self.tag else "")
            + (f"@{self.id}" if self.id else "")
        )

    def most_specific(self) -> str:
        """library-go MostSpecific().Exact(): the id wins over the tag."""
        if not self.name:
            return self.registry
        if self.id:
            # an id that is not a digest is a v1 by-id tag upstream, so it is written with ':'
            return self.repository() + ("@" if is_digest(self.id) else ":") + self.id
        if self.tag:
            return f"{self.repository()}:{self.tag}"
        return self.repository()

    def with_digest(self, digest: str) -> DockerImageReference:
        """Pin to a digest, as `oc tag` does when copying an istag (ref.ID = image; ref.Tag = "")."""
        return replace(self, tag="", id=digest)

    def __str__(self) -> str:
        return self.exact()


def parse_docker_image_reference(spec: str) -> DockerImageReference:
    """library-go reference.Parse: grammar check, then registry/namespace/name split."""
    match = _REFERENCE_RE.fullmatch(spec)
    if match is None:
        if spec == "":
            raise ReferenceError("repository name must have at least one component")
        if _REFERENCE_RE.fullmatch(spec.lower()):
            raise ReferenceError("repository name must be lowercase")
        raise ReferenceError("invalid reference format")
    name, tag, digest = match.group(1), match.group(2) or "", match.group(3) or ""
    if len(name) > _NAME_TOTAL_LENGTH_MAX:
        raise ReferenceError(
            f"repository name must not be more than {_NAME_TOTAL_LENGTH_MAX} characters"
        )
    if digest:
        validate_digest(digest)

    slash = name.find("/")
    if slash == -1:
        # a single component that looks like a host is a registry-only spec; upstream
        # keeps the full String() (tag/digest included) as the registry and drops the tag
        if "." in name or name.startswith("localhost"):
            whole = name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")
            return DockerImageReference(registry=whole, id=digest)
        registry, path = "", name
    else:
        first = name[:slash]
        if ":" in first or "." in first or first == "localhost":
            registry, path = first, name[slash + 1 :]
        else:
            registry, path = "", name

    # library-go splits the path once: namespace is the FIRST component, name the rest
    namespace, _, rest = path.partition("/")
    if not rest:
        namespace, rest = "", namespace
    return DockerImageReference(registry, namespace, rest, tag, digest)


def validate_digest(digest: str) -> str:
    """library-go internal/digest ParseDigest; returns the digest unchanged."""
    if not _DIGEST_SHAPE_RE.fullmatch(digest):
        raise ReferenceError("invalid checksum digest format")
    algorithm, _, hex_part = digest.partition(":")
    expected = _DIGEST_HEX_LEN.get(algorithm)  # case-sensitive: "SHA256" is unsupported
    if expected is None:
        raise ReferenceError("unsupported digest algorithm")
    if len(hex_part) != expected:
        raise ReferenceError("invalid checksum digest length")
    return digest


def is_digest(s: str) -> bool:
    try:
        validate_digest(s)
    except ReferenceError:
        return False
    return True


def validate_tag_name(tag: str) -> None:
    """`oc tag` client-side destination tag rule (the server does not check tag syntax)."""
    if not _TAG_RE.fullmatch(tag):
        raise ReferenceError(f"invalid tag {_quote(tag)} format, {_TAG_NAME_RULE}")


def validate_stream_name(name: str, *, namespace: str = "") -> None:
    """Server ValidateImageStreamName (+ the namespace/name length limit when namespace is given)."""
    if not name:
        raise ReferenceError("metadata.name: Required value: name or generateName is required")
    if name in (".", ".."):
        reasons = [f"may not be '{name}'"]
    else:
        # path-segment rules are checked before the pattern and report every hit
        reasons = [f"may not contain '{c}'" for c in ("/", "%") if c in name]
    if not reasons and not _STREAM_NAME_RE.fullmatch(name):
        reasons = [f'must match "{_STREAM_NAME_PATTERN}"']
    if not reasons and namespace and len(f"{namespace}/{name}") > _NAME_TOTAL_LENGTH_MAX:
        reasons = [f"'namespace/name' cannot be longer than {_NAME_TOTAL_LENGTH_MAX} characters"]
    if reasons:
        errors = [f"metadata.name: Invalid value: {_quote(name)}: {r}" for r in reasons]
        # Kubernetes aggregates several field errors as "[a, b]"
        raise ReferenceError(errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]")


def validate_namespace(ns: str) -> None:
    """Kubernetes namespace names are DNS-1123 labels."""
    if len(ns) > 63:
        raise ReferenceError(f"invalid namespace {_quote(ns)}: must be no more than 63 characters")
    if not _DNS1123_LABEL_RE.fullmatch(ns):
        raise ReferenceError(
            f"invalid namespace {_quote(ns)}: a lowercase RFC 1123 label must consist of lower case "
            "alphanumeric characters or '-', and must start and end with an alphanumeric character "
            f"(regex used for validation is '{_DNS1123_LABEL_PATTERN}')"
        )


def parse_istag_name(value: str, *, namespace: str = "") -> tuple[str, str]:
    """An ImageStreamTag name ("stream:tag", as in `get istag`, `create istag`, `history`,
    `rollback`) checked as the API server checks it; returns (stream, tag).

    library-go imageutil.ParseImageStreamTagName first, then the object name's path-segment
    rule (ValidatePathSegmentName), then the stream's ValidateImageStreamName (with the
    'namespace/name' limit when NAMESPACE is given) and `oc tag`'s tag regex.
    """
    if "@" in value:
        raise ReferenceError(f"{quote(value)} is an image stream image, not an image stream tag")
    parts = value.split(":")
    if len(parts) != 2:
        raise ReferenceError(f"expected exactly one : delimiter in the istag {quote(value)}")
    stream, tag = parts
    if not stream or not tag:
        raise ReferenceError(f"image stream tag name {quote(value)} must have a name and a tag")
    reasons = [f"may not contain '{c}'" for c in ("/", "%") if c in value]
    if reasons:
        errors = [f"metadata.name: Invalid value: {quote(value)}: {r}" for r in reasons]
        raise ReferenceError(errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]")
    validate_stream_name(stream, namespace=namespace)
    validate_tag_name(tag)
    return stream, tag


_DNS1123_SUBDOMAIN_RE = re.compile(rf"{_DNS1123_LABEL_PATTERN}(?:\.{_DNS1123_LABEL_PATTERN})*")


def is_dns1123_label(name: str) -> bool:
    return len(name) <= 63 and bool(_DNS1123_LABEL_RE.fullmatch(name))


def is_dns1123_subdomain(name: str) -> bool:
    return len(name) <= 253 and bool(_DNS1123_SUBDOMAIN_RE.fullmatch(name))


def validate_object_name(name: str, kind: str) -> None:
    """Kubernetes object names (Deployments): a DNS-1123 subdomain of at most 253 characters."""
    if len(name) > 253:
        raise ReferenceError(f"invalid {kind} name {quote(name)}: must be no more than 253 characters")
    if not is_dns1123_subdomain(name):
        raise ReferenceError(
            f"invalid {kind} name {quote(name)}: a lowercase RFC 1123 subdomain must consist of lower case "
            "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character")


def parse_stream_tag(value: str, *, what: str = "") -> tuple[str, str, str]:
    """`oc tag` DEST parsing: "[ns/]stream:tag" -> (ns or "", stream, tag).

    Like upstream, only the split is checked: "stream:" means tag "latest", a second ':' stays
    in the tag, and an empty stream without "ns/" passes (the server rejects it). Call
    validate_tag_name / validate_stream_name for the further rules. `what`, when given,
    prefixes error messages (e.g. "invalid SOURCE").
    """
    try:
        namespace, name_and_tag = _split_namespace(value)
        stream, sep, tag = name_and_tag.partition(":")
        if not sep:
            raise ReferenceError(
                f"{_quote(name_and_tag)} must be of the form <stream_name>:<tag>"
            )
    except ReferenceError as err:
        if what:
            raise ReferenceError(f"{what}: {err}") from None
        raise
    return namespace, stream, tag or "latest"  # SplitImageStreamTag defaults an empty tag


def split_stream_image(value: str) -> tuple[str, str, str]:
    """"[ns/]stream@id" -> (ns or "", stream, id). The id is not validated: the server
    also accepts a unique prefix of an image id here."""
    namespace, name_and_id = _split_namespace(value)
    stream, sep, image_id = name_and_id.partition("@")
    if not sep or not stream or not image_id:
        raise ReferenceError(f"{_quote(name_and_id)} must be of the form <stream_name>@<id>")
    return namespace, stream, image_id


def _split_namespace(value: str) -> tuple[str, str]:
    """oc tag parseStreamName: an optional single "ns/" prefix."""
    if "/" not in value:
        return "", value
    parts = value.split("/")
    if len(parts) != 2:
        raise ReferenceError(f"invalid image stream {_quote(value)}")
    if not parts[0]:
        raise ReferenceError(f'invalid namespace "" for image stream {_quote(value)}')
    if not parts[1]:
        raise ReferenceError(f'invalid name "" for image stream {_quote(value)}')
    return parts[0], parts[1]


_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
               "\v": "\\v", "\\": "\\\\", '"': '\\"'}


def quote(s: str) -> str:
    """Go's %q (strconv.Quote): the value in double quotes, on one line whatever it holds.

    Every message that echoes what a user typed goes through here, so a control character
    can neither split an error line nor reach the terminal raw.
    """
    return '"' + "".join(_GO_ESCAPES.get(ch) or _escape(ch) for ch in s) + '"'


def one_line(text: str) -> str:
    """TEXT with every character that is not printable escaped as %q escapes it: one terminal line."""
    return "".join(_escape(ch) for ch in text)


def _escape(ch: str) -> str:
    if ch.isprintable():  # Go's IsPrint: letters, marks, numbers, punctuation, symbols and ' '
        return ch
    if ch in _GO_ESCAPES:
        return _GO_ESCAPES[ch]
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # an argv byte that was not UTF-8 (surrogateescape), as Go shows it
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x20 or code == 0x7F:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


_quote = quote
