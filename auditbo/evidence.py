"""Evidence files (a complaint's, a spot check's): checked in memory, then kept in the database.

Only PDF, PNG and JPEG are taken, recognised by their first bytes, never by the name or the
content type a caller gives (a renamed script, an archive, a zip bomb is refused as a type: 415).
Each file is read at most one byte past its limit, so an oversized one costs no more memory than
the limit (413); the request's own ``MAX_CONTENT_LENGTH`` stops a 100 MB body before any view
runs. A refused file refuses the whole submission and nothing is stored: the files go into the
database in the owner's own transaction (one ``EvidenceFile`` table per owner, same columns).
Downloads are attachments with ``nosniff``, named by id (the caller's file name is only shown).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import Response
from sqlalchemy.orm import Mapped, mapped_column

from auditbo.database import created_at_column
from auditbo.errors import FieldError, ValidationFailed
from auditbo.uploads import FileTooLarge, UnsupportedFile

KINDS = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
)
EXTENSIONS = {content_type: ext for _magic, content_type, ext in KINDS}
_UNSAFE = re.compile(r"[^\w.\-\u4e00-\u9fff ]+")


@dataclass(frozen=True)
class Evidence:
    filename: str
    content_type: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


class EvidenceFile:
    """The columns of a stored evidence file (a mixin: each owner has its table and its foreign key)."""

    filename: Mapped[str] = mapped_column(sa.String(200))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int] = mapped_column(sa.Integer)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    data: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    created_at: Mapped[datetime] = created_at_column()

    @classmethod
    def of(cls, evidence: Evidence, **owner):
        return cls(
            filename=evidence.filename,
            content_type=evidence.content_type,
            size=len(evidence.data),
            sha256=evidence.sha256,
            data=evidence.data,
            **owner,
        )


def safe_name(name: str, ext: str) -> str:
    base = (
        _UNSAFE.sub("_", (name or "").replace("\\", "/").rsplit("/", 1)[-1]).strip(" ._")[:120] or "evidence"
    )
    return base if base.lower().endswith(ext) else f"{base}{ext}"


def kind_of(data: bytes) -> tuple[str, str] | None:
    for magic, content_type, ext in KINDS:
        if data.startswith(magic):
            return content_type, ext
    return None


def read_files(storages, *, max_files: int, max_bytes: int, field: str = "files") -> list[Evidence]:
    """Werkzeug FileStorage objects (empty ones ignored) → checked evidence; raise on the first bad one."""
    given = [s for s in storages if s is not None and (s.filename or "").strip()]
    if len(given) > max_files:
        raise ValidationFailed([FieldError(field, f"at most {max_files} files may be attached")])
    try:
        return [_check(storage, max_bytes) for storage in given]
    finally:
        for storage in given:  # the spooled temp files now, not whenever the collector finds them
            storage.close()


def _check(storage, limit: int) -> Evidence:
    data = storage.stream.read(limit + 1)
    if len(data) > limit:
        raise FileTooLarge(f"{storage.filename}: larger than {limit // 1024} KiB")
    if not data:
        raise UnsupportedFile(f"{storage.filename}: the file is empty")
    kind = kind_of(data)
    if kind is None:
        raise UnsupportedFile(f"{storage.filename}: only PDF, PNG and JPEG files are accepted")
    return Evidence(safe_name(storage.filename, kind[1]), kind[0], data)


def send(stored: EvidenceFile) -> Response:
    """A stored file as a download: never rendered inline, never sniffed into something else."""
    resp = Response(stored.data, mimetype=stored.content_type)
    resp.headers["Content-Disposition"] = (
        f"attachment; filename=evidence-{stored.id}{EXTENSIONS.get(stored.content_type, '')}"
    )
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp
