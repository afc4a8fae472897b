"""The write side of a bulk import: on PostgreSQL a batch is written while the next one is checked.

:func:`~auditbo.filings.services.file_many` checks a file BATCH rows at a time and writes what
passed. Most of a batch's write is the database's work (COPY, its indexes and foreign keys, the
events), done by the server process on the other core while this one waits; checking the rows
is this process's Python. :class:`BatchWriter` overlaps the two: the loop hands it a checked
batch (:meth:`~BatchWriter.submit`), looks up the registry for the next chunk (the connection is
free then: :meth:`~BatchWriter.wait` first), and :meth:`~BatchWriter.start` writes the batch in a
thread that shares the request's session and connection while the loop checks that chunk.

What stays true:

* One connection, one transaction, one session: the thread runs the same ``persist`` in a copy of
  the caller's context (same app context, hence the same scoped session); the loop does not use
  the session while the thread runs. A registry look-up the preload missed (any ``_load…`` of
  the context) waits for the thread first.
* The same answers as writing batch by batch: the context's bookkeeping of filed rows
  (``note_filed``: certificates, references, tie shares) is done by the loop when it submits the
  batch, before it checks the next rows, not by the thread.
* All or nothing: an error of the thread is raised in the loop (at the next wait); the caller
  rolls back as before. The loop always waits for the thread before it returns or raises.
* The event chain: a batch's events are kept in the session in batch order (the batches are
  written one after the other, never two at once) and chained at the commit
  (:func:`auditbo.events.chain_pending`): the import takes the chain's lock only then.

On SQLite (a connection is bound to its thread) the batch is written at :meth:`~BatchWriter.start`,
in the loop: the same order, no thread.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable

from auditbo.extensions import db

OVERLAP = True  # False: write in the loop, as on SQLite (bench/b3_bench.py --serial measures the difference)


class BatchWriter:
    def __init__(self, body, ctx, actor, persist: Callable, *, threaded: bool | None = None):
        self.body, self.ctx, self.actor, self._persist = body, ctx, actor, persist
        if threaded is None:
            threaded = OVERLAP and db.session.get_bind().dialect.name == "postgresql"
        self.threaded = threaded
        self._queued: list | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self.batches = 0
        if threaded:
            self._guard_lookups()

    # --- the loop's side --------------------------------------------------------------
    def submit(self, filings: list) -> None:
        """Queue a checked batch; it is written at the next :meth:`start` (or :meth:`finish`)."""
        if self._queued is not None:
            raise RuntimeError("one batch is queued at a time: start() it first")
        note = type(self.ctx).note_filed
        for f in filings:
            note(self.ctx, f)  # here, before the next rows are checked (the thread does not)
        self._queued = filings

    def start(self) -> None:
        """Write the queued batch: in a thread on PostgreSQL (the loop goes on), else now."""
        self.wait()
        filings, self._queued = self._queued, None
        if not filings:
            return
        self.batches += 1
        if not self.threaded:
            self._write(filings)
            return
        run = contextvars.copy_context().run  # the caller's app context: the same session and connection
        self._thread = threading.Thread(target=run, args=(self._run, filings), name="auditbo-import-writer",
                                        daemon=True)
        self._thread.start()

    def wait(self) -> None:
        """Let the thread finish its batch (the session is the loop's again); raise its error."""
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()
            self._thread = None
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def finish(self) -> None:
        """Write what is queued and wait for it."""
        self.start()
        self.wait()

    # --- the thread's side -------------------------------------------------------------
    def _run(self, filings: list) -> None:
        try:
            self._write(filings)
        except BaseException as exc:  # noqa: BLE001 - handed to the loop, raised there
            self._error = exc

    def _write(self, filings: list) -> None:
        ctx = self.ctx
        ctx.note_filed = _noted  # done by submit(); shadows the method for persist's calls
        try:
            self._persist(self.body, filings, ctx, actor=self.actor)
        finally:
            del ctx.note_filed

    def _guard_lookups(self) -> None:
        """A look-up of the context in the loop while the thread writes waits for the thread."""
        for name in dir(type(self.ctx)):
            if name.startswith("_load") and callable(getattr(type(self.ctx), name)):
                setattr(self.ctx, name, self._guarded(getattr(self.ctx, name)))

    def _guarded(self, load: Callable) -> Callable:
        def guarded(*args, **kwargs):
            self._wait_quietly()
            return load(*args, **kwargs)

        return guarded

    def _wait_quietly(self) -> None:
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()  # its error, if any, is raised at the loop's next wait()


def _noted(_filing) -> None:
    return None
