"""Domain errors. Mapped to HTTP in exactly one place (``chalicelib.api.http``)."""

from __future__ import annotations


class FztError(Exception):
    status = 500
    code = "internal_error"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code

    def body(self) -> dict:
        error: dict = {"code": self.code, "message": self.message}
        if self.field is not None:
            error["field"] = self.field
        return {"error": error}


class InvalidInput(FztError):
    status = 400
    code = "invalid_input"


class Unauthenticated(FztError):
    status = 401
    code = "unauthenticated"


class Forbidden(FztError):
    status = 403
    code = "forbidden"


class NotFound(FztError):
    status = 404
    code = "not_found"


class Conflict(FztError):
    status = 409
    code = "conflict"


class TooLarge(FztError):
    status = 413
    code = "too_large"


class RateLimited(FztError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, field: str | None = None, retry_after: int | None = None) -> None:
        super().__init__(message, field=field)
        self.retry_after = retry_after  # seconds; sent as the Retry-After header


class TransactionConflict(Exception):
    """A condition of a transaction failed; ``labels`` name the writes whose condition failed
    (the unit of work turns it into a 409, or intake into a replay). Never reaches HTTP as is."""

    def __init__(self, labels: list[str]) -> None:
        super().__init__(f"conditions failed: {', '.join(labels)}")
        self.labels = labels
