"""A complaint's evidence files: the shared checks of :mod:`auditbo.evidence`, with the complaint's
limits (``COMPLAINT_MAX_FILES`` files of ``COMPLAINT_MAX_FILE_BYTES`` each)."""

from __future__ import annotations

from flask import current_app

from auditbo import evidence
from auditbo.evidence import Evidence

__all__ = ["Evidence", "read_files"]


def read_files(storages, field: str = "files") -> list[Evidence]:
    cfg = current_app.config
    return evidence.read_files(
        storages, max_files=cfg["COMPLAINT_MAX_FILES"], max_bytes=cfg["COMPLAINT_MAX_FILE_BYTES"], field=field
    )
