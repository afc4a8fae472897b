"""Plain HTTP against a bench's gunicorn: requests, multipart bodies, calls fired together, a cookie
browser that follows the app's forms, and the workers' resident memory watched from /proc."""

from __future__ import annotations

import http.client
import io
import os
import re
import signal
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

from benchlib import PASSWORD

RSS_KILL_KB = 2 * 1024 * 1024  # a worker above 2 GB is killed by the bench


def request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
            timeout: float = 120) -> tuple[int, dict, bytes]:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        return r.status, {"set-cookie": r.headers.get_all("Set-Cookie") or [], **dict(r.headers)}, data
    except (OSError, http.client.HTTPException) as exc:
        return -1, {}, repr(exc).encode()
    finally:
        c.close()


def multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    out = io.BytesIO()
    for k, v in fields.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
    for k, (filename, data) in files.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; filename="{filename}"\r\n'
                  f"Content-Type: text/csv\r\n\r\n".encode())
        out.write(data)
        out.write(b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def post_status(port: int, path: str, body: bytes, headers: dict) -> int:
    return request(port, "POST", path, body, headers)[0]


def together(calls: list) -> list:
    """Run the calls at the same moment (one thread each, released by a barrier); their results."""
    barrier = threading.Barrier(len(calls))
    out: list = [None] * len(calls)

    def go(i: int) -> None:
        barrier.wait()
        out[i] = calls[i]()

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    return out


def count(statuses: list[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for s in statuses:
        out[s] = out.get(s, 0) + 1
    return dict(sorted(out.items()))


class Browser:
    """A cookie-keeping client for the HTML pages (one cookie jar, CSRF tokens read from forms)."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def _headers(self, extra: dict | None = None) -> dict:
        h = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        h.update(extra or {})
        return h

    def _keep(self, headers: dict) -> None:
        for line in headers.get("set-cookie", []):
            name, _, rest = line.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]

    def get(self, path: str):
        status, headers, data = request(self.port, "GET", path, headers=self._headers())
        self._keep(headers)
        return status, headers, data

    def post(self, path: str, body: bytes, content_type: str, *, keep: bool = True):
        status, headers, data = request(self.port, "POST", path, body,
                                        self._headers({"Content-Type": content_type}))
        if keep:
            self._keep(headers)
        return status, headers, data

    @staticmethod
    def field(html: bytes, name: str) -> str:
        m = re.search(rb'name="%s"[^>]*value="([^"]*)"' % name.encode(), html) or \
            re.search(rb'value="([^"]*)"[^>]*name="%s"' % name.encode(), html)
        return m.group(1).decode() if m else ""

    def login(self, username: str) -> int:
        _, _, page = self.get("/login")
        body = urlencode({"csrf_token": self.field(page, "csrf_token"), "username": username,
                          "password": PASSWORD}).encode()
        return self.post("/login", body, "application/x-www-form-urlencoded")[0]


# --- workers' memory -----------------------------------------------------------------------------
def worker_pids(master: int) -> list[int]:
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if int((d / "stat").read_text().rsplit(")", 1)[1].split()[1]) == master:
                    pids.append(int(d.name))
            except (OSError, ValueError, IndexError):
                continue
    return pids


def status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class RssWatch:
    """Samples the workers' RSS every 20 ms; kills a worker above RSS_KILL_KB."""

    def __init__(self, master: int):
        self.master, self.peak_kb, self.killed = master, 0, []
        self.hwm: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid in worker_pids(self.master):
                rss = status_kb(pid, "VmRSS")
                self.peak_kb = max(self.peak_kb, rss)
                self.hwm[pid] = max(self.hwm.get(pid, 0), status_kb(pid, "VmHWM"))
                if rss > RSS_KILL_KB:
                    os.kill(pid, signal.SIGKILL)
                    self.killed.append(pid)
            time.sleep(0.02)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)


# --- the items -----------------------------------------------------------------------------------
