"""Errors a user can act on. Each carries oc's message (or a clearer one) and an exit code."""


class ImagetrailError(Exception):
    exit_code = 1


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


class ImportFailed(ImagetrailError):
    """The import was recorded as failed (condition written, old image kept)."""


class ResolveFailed(Exception):
    """A pull spec could not be resolved to a digest; `reason` and `message` become the
    tag's ImportSuccess=False condition, as OpenShift records a failed import."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message
