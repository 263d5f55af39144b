"""Errors a user can act on. Each carries oc's message (or a clearer one) and an exit code."""


class ImagetrailError(Exception):
    """The message is the text after "error: ": the CLI adds that prefix once, so a message
    that brings its own (as copied from oc's output) loses it here."""

    exit_code = 1

    def __init__(self, message: str = "", *args: object):
        super().__init__(strip_error_prefix(str(message)), *args)


def strip_error_prefix(message: str) -> str:
    while message[:6].lower() == "error:":
        message = message[6:].lstrip()
    return message


class UsageError(ImagetrailError):
    """Wrong flags or arguments (oc exits 1 for most of these; click's own usage errors exit 2)."""


class NotFound(ImagetrailError):
    pass


class AlreadyExists(ImagetrailError):
    pass


class Invalid(ImagetrailError):
    pass


class Conflict(ImagetrailError):
    """Someone else changed the object between our read and our write."""


class ResolveFailed(Exception):
    """A pull spec could not be resolved to a digest; `reason` and `message` become the
    tag's ImportSuccess=False condition, as OpenShift records a failed import."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


# -- image stream tag rules that are not about flags: each error keeps the value it is about ----------

def _quote(value: str) -> str:
    from imagetrail.engine.domain.references import quote  # references does not import errors

    return quote(value)


class InvalidSource(UsageError):
    """The SOURCE of a tag is not a valid image reference of its kind."""

    def __init__(self, source: str, message: str):
        self.source = source
        super().__init__(message)


class NoImageToTag(UsageError):
    """An image stream tag used as the source of a copy has no image yet."""

    def __init__(self, source: str):
        self.source = source
        super().__init__(f"{_quote(source)} is not currently pointing to an image, cannot use it as the source of a tag")


class AliasAcrossStreams(UsageError):
    """An alias can only follow a tag of the same image stream."""

    def __init__(self, source: str, dest: str):
        self.source, self.dest = source, dest
        super().__init__("cannot set alias across different Image Streams")


class NoStreamToImport(NotFound):
    """import-image of a stream that does not exist, without asking to create it."""

    def __init__(self, stream: str):
        self.stream = stream
        super().__init__(f"no image stream named {_quote(stream)} exists")


class NoTagToImport(UsageError):
    """import-image of a tag the stream does not have, without a source for it."""

    def __init__(self, tag: str):
        self.tag = tag
        super().__init__(f"the tag {_quote(tag)} does not exist on the image stream - choose an existing "
                         "tag to import or use the 'tag' command to create a new tag")


class NotReimportable(UsageError):
    """import-image of a tag whose (final) source is not a container image."""

    def __init__(self, tag: str, kind: str, source: str):
        self.tag, self.kind, self.source = tag, kind, source
        super().__init__(f"tag {_quote(tag)} points to existing {kind} {_quote(source)}, it cannot be re-imported")


class ImportSourceChanged(UsageError):
    """import-image with a source other than the one the tag already imports from."""

    def __init__(self, tag: str, final: str, source: str, requested: str):
        self.tag, self.final, self.source, self.requested = tag, final, source, requested
        via = (f"the tag {_quote(tag)} points to the tag {_quote(final)} which points to" if final != tag
               else f"the tag {_quote(tag)} points to")
        super().__init__(f"{via} {_quote(source)} - use the 'tag' command if you want to "
                         f"change the source to {_quote(requested)}")


class TriggerGovernsContainer(Invalid):
    """Setting a container's image by hand (rollout undo) that an automatic trigger would set back at once."""

    def __init__(self, container: str, istag: str):
        self.container, self.istag = container, istag
        super().__init__(f"container {_quote(container)} follows image stream tag {istag} through an automatic "
                         "trigger, which would set it back at once (openshift/origin#25662); roll the tag back "
                         "instead")
