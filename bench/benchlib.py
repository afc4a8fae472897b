"""Shared helpers of the issue-4 benchmarks (B1, B2, B3): figures, the bench database, the app,
gunicorn servers on loopback and a bounded load client.

Not a benchmark itself (``make bench`` runs ``bench/*_bench.py`` only).
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
for p in (str(ROOT), str(BENCH)):
    if p not in sys.path:
        sys.path.insert(0, p)

PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
FULL_DB, QUICK_DB = "auditbo_bench", "auditbo_bench_quick"
QUICK_SCALE = 0.01
SECRET_KEY = "bench-secret-key-not-for-production-use-0123456789"
PASSWORD = "bench-password-2026"  # every bench user (clerks, supervisors, admin)
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")


def db_url(name: str, driver: str = "postgresql+psycopg") -> str:
    return f"{driver}://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"


def libpq(name: str) -> str:
    return f"host={PG_HOST} port={PG_PORT} user={PG_USER} dbname={name}"


def emit(bench: str, value, baseline=None, ratio=None, unit: str = "") -> None:
    def r(x):
        return None if x is None else round(float(x), 4)

    if ratio is None and value is not None and baseline:
        ratio = value / baseline
    print(json.dumps({"bench": bench, "value": r(value), "baseline": r(baseline), "ratio": r(ratio),
                      "unit": unit}, ensure_ascii=False), flush=True)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def app_env(dbname: str) -> dict:
    """The environment of the production app on the bench database."""
    env = dict(os.environ)
    env.update(AUDITBO_ENV_NAME="production", AUDITBO_SECRET_KEY=SECRET_KEY,
               AUDITBO_DATABASE_URL=db_url(dbname), PYTHONPATH=str(ROOT))
    return env


def make_app(dbname: str):
    """The project's app (production settings) on the bench database, in this process."""
    from auditbo import create_app

    return create_app({"ENV_NAME": "production", "SECRET_KEY": SECRET_KEY, "DATABASE_URL": db_url(dbname)})


def ensure_history(quick: bool, name: str | None = None) -> str:
    """Make sure the bench database (``name``, default the shared one) holds its history (generating it
    the first time)."""
    import gen_history

    name = name or (QUICK_DB if quick else FULL_DB)
    scale = QUICK_SCALE if quick else 1.0
    gen_history.ensure(name, scale)
    return name


def create_tokens(dbname: str, usernames: list[str], name: str = "bench") -> dict[str, str]:
    """API tokens (secrets) for the given users, issued by the app's own service."""
    import sqlalchemy as sa

    from auditbo.accounts.models import User
    from auditbo.accounts.services import create_token
    from auditbo.extensions import db

    app = make_app(dbname)
    out = {}
    with app.app_context():
        for u in usernames:
            user = db.session.scalar(sa.select(User).where(User.username == u))
            out[u] = create_token(user, name)[1]
        db.session.commit()
        db.engine.dispose()
    return out


# --- servers ---------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


GUNICORN_SETTINGS = ["--workers", "2", "--worker-class", "sync", "--timeout", "60", "--log-level", "warning"]


@dataclass
class Server:
    proc: subprocess.Popen
    port: int
    name: str

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_gunicorn(target: str, env: dict, name: str, probe: str = "/", checkout: Path | None = None) -> Server:
    """gunicorn (2 sync workers) on a free loopback port; waits until it answers. ``checkout``: serve
    another checkout's code (started in that directory, so that its ``auditbo`` is the one imported)."""
    port = free_port()
    where = ["--chdir", str(checkout)] if checkout else []
    proc = subprocess.Popen([GUNICORN, *GUNICORN_SETTINGS, *where, "--bind", f"127.0.0.1:{port}", target],
                            cwd=str(checkout or ROOT), env=env, stdout=subprocess.DEVNULL, stderr=sys.stderr)
    server = Server(proc, port, name)
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name}: gunicorn exited with {proc.returncode}")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", probe)
            c.getresponse().read()
            c.close()
            # both workers import the app at start (no --preload): give the second one a moment
            time.sleep(1.0)
            return server
        except OSError:
            time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"{name}: gunicorn did not answer on port {port}")


# --- the load client -------------------------------------------------------------------------
@dataclass
class LoadResult:
    label: str
    seconds: float
    latencies: list[float] = field(default_factory=list)  # seconds, successful and failed
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0  # unexpected status or transport error
    samples: list[str] = field(default_factory=list)
    next_index: int = 0  # the request counter at the end (warm-up requests included)

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def rps(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        xs = sorted(self.latencies)
        k = min(len(xs) - 1, max(0, int(round(q / 100 * len(xs) + 0.5)) - 1))
        return xs[k] * 1000


Request = tuple[str, str, bytes | None, dict]  # method, path, body, headers


def run_load(port: int | list[int], make_request: Callable[[int, int], Request], *, connections: int = 16,
             seconds: float = 10.0, expect: tuple[int, ...] = (200,), label: str = "",
             max_requests: int | None = None, warmup: float = 1.0, start_at: int = 0) -> LoadResult:
    """A closed-loop, bounded load on 127.0.0.1:port: ``connections`` threads, each with its own
    HTTP/1.1 connection (re-opened when the server closes it), for ``seconds`` after a short
    warm-up that is not counted. ``make_request(thread, n)`` builds each request. With a list of
    ports (several hosts' servers) thread ``i`` talks to ``port[i % len(port)]``."""
    assert connections <= 64 and seconds <= 60
    ports = port if isinstance(port, list) else [port]
    res = LoadResult(label, seconds)
    lock = threading.Lock()
    counter = {"n": start_at}
    t_start = [0.0]
    stop_at = [0.0]
    barrier = threading.Barrier(connections + 1)

    def take() -> int | None:
        with lock:
            n = counter["n"]
            if max_requests is not None and n >= max_requests:
                return None
            counter["n"] = n + 1
            return n

    def worker(tid: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", ports[tid % len(ports)], timeout=30)
        lat, sts, errs, samples = [], {}, 0, []
        barrier.wait()
        while True:
            now = time.perf_counter()
            if now >= stop_at[0]:
                break
            n = take()
            if n is None:
                break
            method, path, body, headers = make_request(tid, n)
            t0 = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                r = conn.getresponse()
                data = r.read()
                status = r.status
                if r.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                status, data = -1, repr(exc).encode()
            t1 = time.perf_counter()
            if t0 >= t_start[0]:  # after the warm-up
                lat.append(t1 - t0)
                sts[status] = sts.get(status, 0) + 1
                if status not in expect:
                    errs += 1
                    if len(samples) < 3:
                        samples.append(f"{status} {method} {path}: {data[:300]!r}")
        conn.close()
        with lock:
            res.latencies.extend(lat)
            for k, v in sts.items():
                res.statuses[k] = res.statuses.get(k, 0) + v
            res.errors += errs
            res.samples.extend(samples[:3 - len(res.samples)])

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(connections)]
    for t in threads:
        t.start()
    now = time.perf_counter()
    t_start[0] = now + warmup
    stop_at[0] = now + warmup + seconds
    barrier.wait()
    for t in threads:
        t.join(seconds + warmup + 60)
    end = min(time.perf_counter(), stop_at[0])
    res.seconds = max(1e-9, end - t_start[0])
    res.next_index = counter["n"]
    return res


def merge(runs: list[LoadResult]) -> LoadResult:
    out = LoadResult(runs[0].label, sum(r.seconds for r in runs))
    for r in runs:
        out.latencies += r.latencies
        out.errors += r.errors
        out.samples += r.samples
        for k, v in r.statuses.items():
            out.statuses[k] = out.statuses.get(k, 0) + v
    return out


def report_load(prefix: str, proj: LoadResult, bare: LoadResult, *, p_target: str = "p99 <= 100 ms",
                thr_target: str = "ratio >= 0.40") -> None:
    emit(f"{prefix}: throughput vs bare ({thr_target})", proj.rps, bare.rps, proj.rps / bare.rps, "req/s")
    for q in (50, 95, 99):
        tgt = f" ({p_target})" if p_target.startswith(f"p{q} ") else ""
        emit(f"{prefix}: p{q} latency{tgt} vs bare", proj.pct(q), bare.pct(q), proj.pct(q) / bare.pct(q), "ms")
    emit(f"{prefix}: errors (target 0) / requests", proj.errors, proj.count, None, "count")
    if proj.errors or bare.errors:
        log(f"{prefix}: statuses project={proj.statuses} bare={bare.statuses}; samples: {proj.samples + bare.samples}")
    if 429 in proj.statuses:
        log(f"{prefix}: the project answered 429 (rate-limited) {proj.statuses[429]} times")


def ensure_demo(prefix: str, scale: float, ready_table: str) -> str:
    """The demo population in its own database ``prefix[_scale]``, loaded through the app's demo
    loader once; reused while ``ready_table`` holds rows."""
    import time

    import gen_history
    import psycopg

    name = prefix if scale == 1.0 else f"{prefix}_{str(scale).replace('.', '_')}"
    if gen_history.database_exists(name):
        with psycopg.connect(libpq(name)) as c:
            if c.execute("SELECT to_regclass(%s)", (ready_table,)).fetchone()[0] is not None and \
                    c.execute(f"SELECT count(*) FROM {ready_table}").fetchone()[0]:
                return name
    log(f"{name}: loading the demo (scale {scale}) through the services …")
    gen_history.recreate_database(name)
    gen_history.migrate(name)
    app = make_app(name)
    with app.app_context():
        from auditbo.demo import load_demo
        from auditbo.extensions import db

        t = time.perf_counter()
        stats = load_demo(scale=scale, progress=lambda m: log(f"  {m}"))
        db.session.commit()
        log(f"  loaded in {time.perf_counter() - t:.0f} s: {stats['assessments']:,} assessments")
        db.engine.dispose()
    return name

