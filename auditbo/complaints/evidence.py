"""Evidence files of a complaint: checked in memory before anything is stored.

Only PDF, PNG and JPEG are taken (recognised by their first bytes, not by the name a caller
gives), at most ``COMPLAINT_MAX_FILES`` files of ``COMPLAINT_MAX_FILE_BYTES`` each. A refused
file refuses the whole submission (4xx) and nothing is stored: the files go into the database
in the complaint's own transaction.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from flask import current_app

from auditbo.errors import FieldError, ValidationFailed
from auditbo.uploads import FileTooLarge, UnsupportedFile

KINDS = ((b"%PDF-", "application/pdf", ".pdf"), (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
         (b"\xff\xd8\xff", "image/jpeg", ".jpg"))
_UNSAFE = re.compile(r"[^\w.\-\u4e00-\u9fff ]+")


@dataclass(frozen=True)
class Evidence:
    filename: str
    content_type: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def safe_name(name: str, ext: str) -> str:
    base = _UNSAFE.sub("_", (name or "").replace("\\", "/").rsplit("/", 1)[-1]).strip(" ._")[:120] or "evidence"
    return base if base.lower().endswith(ext) else f"{base}{ext}"


def kind_of(data: bytes) -> tuple[str, str] | None:
    for magic, content_type, ext in KINDS:
        if data.startswith(magic):
            return content_type, ext
    return None


def read_files(storages, field: str = "files") -> list[Evidence]:
    """Werkzeug FileStorage objects (empty ones ignored) → checked evidence; raise on the first bad one.

    Each file is read at most one byte past the limit, so an oversized file costs no more memory."""
    cfg = current_app.config
    limit, most = cfg["COMPLAINT_MAX_FILE_BYTES"], cfg["COMPLAINT_MAX_FILES"]
    given = [s for s in storages if s is not None and (s.filename or "").strip()]
    if len(given) > most:
        raise ValidationFailed([FieldError(field, f"at most {most} files may be attached")])
    try:
        return [_check(storage, limit) for storage in given]
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
