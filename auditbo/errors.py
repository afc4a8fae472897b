"""Domain errors raised by services; views, the API and the CLI turn them into answers."""

from __future__ import annotations

from dataclasses import dataclass, field


class DomainError(Exception):
    """Base class. ``status`` is the HTTP status the API answers with."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str = ""):
        super().__init__(detail or self.title)
        self.detail = detail or self.title


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class ValidationFailed(DomainError):
    """Every bad field at once (collected before raising)."""

    status = 422
    title = "Invalid content"

    def __init__(self, errors: list[FieldError], detail: str = ""):
        super().__init__(detail or f"{len(errors)} field(s) are invalid")
        self.errors = list(errors)


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class HiddenNotFound(NotFound):
    """A denial answered as 404, so that another body's record does not reveal it exists."""


class IllegalTransition(Conflict):
    title = "Illegal state transition"


@dataclass
class ErrorCollector:
    """Collects field errors so that a validator can report all of them at once."""

    errors: list[FieldError] = field(default_factory=list)

    def add(self, field_name: str, message: str) -> None:
        self.errors.append(FieldError(field_name, message))

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)
