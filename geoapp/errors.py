"""The one domain error type: a French message for the user and an HTTP status."""

# Why a JSON file nested thousands of levels deep (arrays in arrays…) is refused.
DEEP_JSON = "tableaux ou objets imbriqués trop profondément"


class GeoappError(Exception):
    """A failure the user must read: ``message`` is French, ``status`` an HTTP code.

    Raised by loading, analysis checks, storage and exports alike, and rendered in one
    place by the web layer (HTML page or JSON for ``/api/``) and the CLI (clean message,
    non-zero exit), so no traceback ever reaches a user.
    """

    def __init__(self, message: str, status: int = 400, *, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.details = details or {}


class ConflictError(GeoappError):
    """A write refused because the row changed since it was read (HTTP 409).

    Someone saved first, or the state the writer expected (not yet withdrawn…) no longer
    holds. ``details`` carries the current ``version`` when there is one, so a form can say
    which version it would overwrite. Rendered like any `GeoappError`; its own type so the
    callers that offer a reload (and tests) catch exactly this case.
    """

    def __init__(self, message: str, *, details: dict | None = None):
        super().__init__(message, 409, details=details)
