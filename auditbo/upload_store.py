"""Server-side upload state: import previews and error reports, as files under ``UPLOAD_DIR``.

Nothing of an upload lives in the cookie session but a random id. Every host reads and writes
the same files, so pointing ``AUDITBO_UPLOAD_DIR`` at a shared directory is all that several
hosts need.

- A **preview** is a folder ``previews/<id>/`` holding the uploaded file and ``manifest.json``
  (its owner and the file's kind). Confirming it *claims* it by renaming ``manifest.json`` to
  ``claimed.json``: a rename is atomic, so of two confirmations (a double click, two tabs, two
  hosts) exactly one goes on and the other is told that the preview is gone. The claimer
  deletes the folder when it is done, whatever happened.
- An **error report** is ``reports/<id>.csv`` with ``reports/<id>.json`` (its owner), written
  row by row while an import checks its file (``<id>.part`` until it is kept), so that a file
  with 100,000 bad rows costs disk, not memory.

The ``upload_cleanup`` job (:func:`cleanup`) deletes previews never confirmed after
``UPLOAD_PREVIEW_TTL_HOURS`` and reports after ``IMPORT_REPORT_TTL_HOURS``.
"""

from __future__ import annotations

import csv
import json
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import current_app, send_file

from auditbo.clock import utcnow
from auditbo.errors import Conflict, NotFound
from auditbo.uploads import safe_cell

PREVIEWS, REPORTS = "previews", "reports"
_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
_LEGACY = re.compile(r"[A-Za-z0-9_-]{22}\.(csv|xlsx)")  # previews as kept before this module: <token>.<suffix>


class PreviewGone(Conflict):
    """The preview was confirmed already (by this request's twin, another tab, another host) or has expired."""

    def __init__(self, detail: str = "this preview was already confirmed or has expired; upload the file again"):
        super().__init__(detail)


def root() -> Path:
    return Path(current_app.config["UPLOAD_DIR"])


def _folder(kind: str) -> Path:
    d = root() / kind
    d.mkdir(parents=True, exist_ok=True)
    return d


def _valid(ident) -> bool:
    return isinstance(ident, str) and _ID.fullmatch(ident) is not None


def _owner(user) -> dict:
    return {"user": user.id, "body": getattr(user, "org_id", None)}


def _write_json(path: Path, data: dict) -> None:
    """Written beside and renamed into place: a reader never sees half a manifest."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None


# --------------------------------------------------------------------------- previews
def save_preview(data: bytes, filename: str, *, user) -> str:
    """Keep an uploaded file until it is confirmed; returns the preview's id."""
    ident = secrets.token_urlsafe(18)
    folder = _folder(PREVIEWS) / ident
    folder.mkdir()
    suffix = ".xlsx" if (filename or "").lower().endswith(".xlsx") else ".csv"
    (folder / f"upload{suffix}").write_bytes(data)
    _write_json(folder / "manifest.json", {**_owner(user), "suffix": suffix, "created": utcnow().isoformat()})
    return ident


@contextmanager
def claimed_preview(ident, *, user) -> Iterator[Path]:
    """Claim a preview of ``user``'s (exactly one caller wins) and yield its file; the preview is
    deleted afterwards, whatever happens. Anything else (unknown, expired, claimed, someone
    else's) raises :class:`PreviewGone`."""
    if not _valid(ident):
        raise PreviewGone()
    folder = _folder(PREVIEWS) / ident
    manifest = _read_json(folder / "manifest.json")
    if manifest is None or manifest.get("user") != user.id or manifest.get("suffix") not in (".csv", ".xlsx"):
        raise PreviewGone()
    ttl = float(current_app.config["UPLOAD_PREVIEW_TTL_HOURS"]) * 3600
    if _older(folder / "manifest.json", utcnow().timestamp(), ttl):
        raise PreviewGone()  # expired: the cleanup job has not come by yet
    try:
        os.rename(folder / "manifest.json", folder / "claimed.json")
    except FileNotFoundError:
        raise PreviewGone() from None  # another request claimed it between the read and the rename
    try:
        yield folder / f"upload{manifest['suffix']}"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def discard_preview(ident) -> None:
    if _valid(ident):
        shutil.rmtree(_folder(PREVIEWS) / ident, ignore_errors=True)


# --------------------------------------------------------------------------- error reports
class ReportWriter:
    """A CSV error report written as errors are found (a :class:`~auditbo.uploads.RowErrors` sink).

    Use it as a context manager: unless :meth:`keep` was called, the partial file is removed.
    """

    HEADER = ["row", "field", "message"]

    def __init__(self):
        self.id = secrets.token_urlsafe(18)
        self._folder = _folder(REPORTS)
        self._part = self._folder / f"{self.id}.part"
        self._fh = None
        self._csv = None
        self._kept = False

    def _open(self) -> None:
        self._fh = self._part.open("w", encoding="utf-8-sig", newline="")  # the BOM: Excel reads Chinese right
        self._csv = csv.writer(self._fh)
        self._csv.writerow(self.HEADER)

    def write(self, row: int | None, field: str, message: str) -> None:
        if self._fh is None:
            self._open()
        self._csv.writerow(["" if row is None else row, safe_cell(field), safe_cell(message)])

    def keep(self, *, user) -> str:
        """Keep the report for ``user`` (and their body); returns its id."""
        if self._fh is None:
            self._open()  # nothing was written: the report is its header
        self._fh.close()
        _write_json(self._folder / f"{self.id}.json", {**_owner(user), "created": utcnow().isoformat()})
        os.replace(self._part, self._folder / f"{self.id}.csv")
        self._fh = None
        self._kept = True
        return self.id

    def discard(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        self._part.unlink(missing_ok=True)

    def __enter__(self) -> ReportWriter:
        return self

    def __exit__(self, *_exc) -> None:
        if not self._kept:
            self.discard()


def report_response(ident, *, user):
    """The report as a CSV download, for its owner or a user of the owner's body; 404 for anyone else."""
    if not _valid(ident):
        raise NotFound("no such report")
    folder = _folder(REPORTS)
    owner = _read_json(folder / f"{ident}.json")
    body = getattr(user, "org_id", None)
    if owner is None or not (owner.get("user") == user.id or (owner.get("body") is not None
                                                             and owner.get("body") == body)):
        raise NotFound("no such report")
    path = folder / f"{ident}.csv"
    if not path.is_file():
        raise NotFound("no such report")
    return send_file(path, mimetype="text/csv", as_attachment=True, download_name="import-errors.csv",
                     max_age=0)


# --------------------------------------------------------------------------- the cleanup job
def cleanup(*, now: float | None = None) -> dict:
    """Delete previews older than ``UPLOAD_PREVIEW_TTL_HOURS`` and reports older than
    ``IMPORT_REPORT_TTL_HOURS`` (by modification time); idempotent. Files left at the top of
    ``UPLOAD_DIR`` by earlier versions (previews kept as ``<token>.csv``) go with the previews."""
    cfg = current_app.config
    now = utcnow().timestamp() if now is None else now
    preview_age = float(cfg["UPLOAD_PREVIEW_TTL_HOURS"]) * 3600
    report_age = float(cfg["IMPORT_REPORT_TTL_HOURS"]) * 3600
    removed = {"previews": 0, "reports": 0}
    for folder in _folder(PREVIEWS).iterdir():
        if _older(folder, now, preview_age):
            shutil.rmtree(folder, ignore_errors=True)
            removed["previews"] += 1
    for path in _folder(REPORTS).iterdir():
        if _older(path, now, report_age):
            path.unlink(missing_ok=True)
            removed["reports"] += path.suffix == ".csv"
    for path in root().iterdir():  # only names earlier versions gave: UPLOAD_DIR may be a shared directory
        if _LEGACY.fullmatch(path.name) and path.is_file() and _older(path, now, preview_age):
            path.unlink(missing_ok=True)
            removed["previews"] += 1
    return removed


def _older(path: Path, now: float, age: float) -> bool:
    try:
        return now - path.stat().st_mtime > age
    except FileNotFoundError:
        return False  # deleted meanwhile (another host's cleanup, a confirmation)
