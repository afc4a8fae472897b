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


def flatten_messages(messages, prefix: str = "") -> list[dict]:
    """webargs' nested {"json": {"team": {"0": {"person_id": [...]}}}} -> [{"field": "team[0].person_id", ...}]."""
    out: list[dict] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            if not prefix and key in ("json", "query", "form", "files", "headers", "view_args"):
                out += flatten_messages(value, "")
                continue
            if str(key).isdigit():
                name = f"{prefix}[{key}]"
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            out += flatten_messages(value, name)
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        out += [{"field": prefix or "_body", "message": m} for m in messages]
    elif isinstance(messages, list):
        for i, m in enumerate(messages):
            out += flatten_messages(m, f"{prefix}[{i}]")
    else:
        out.append({"field": prefix or "_body", "message": str(messages)})
    return out


def nul_paths(value, prefix: str = "") -> list[str]:
    """Where a JSON value holds a NUL character (PostgreSQL text cannot store one)."""
    if isinstance(value, str):
        return [prefix] if "\x00" in value else []
    if isinstance(value, dict):
        out = []
        for key, item in value.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out += [name] if "\x00" in str(key) else nul_paths(item, name)
        return out
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in nul_paths(item, f"{prefix}[{i}]")]
    return []
