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
