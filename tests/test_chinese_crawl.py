"""The Chinese UI is Chinese: every page each role can reach, crawled, holds no stray English.

On a small demo history, each role (the public, a clerk, a consulting-body user, a supervisor,
an admin) starts from its landing pages and follows every link on the same host (bounded: a
few URLs per endpoint and query shape), reading the visible text and the texts a user meets in
attributes (titles, placeholders, labels). A Latin-letter word there is an error unless it is
a code (it holds a digit or is a grade), a name (a username, the brand) or a listed acronym or
unit. Text inside ``<code>``, ``<kbd>``, ``<samp>``, ``<script>`` and ``<style>`` is not read:
a page that shows a machine value on purpose puts it there.

A new page with an untranslated message fails here: add its Chinese to the pending .po.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urldefrag, urlsplit

import pytest
import sqlalchemy as sa

from auditbo.demo import DEMO_PASSWORD, load_demo
from auditbo.extensions import db

AS_OF = date(2026, 11, 26)
PER_SHAPE = 2  # URLs crawled per (endpoint, query keys)
MAX_PAGES = 160  # per role

ALLOWED = {
    # acronyms, standards, formats and units a Chinese user reads as they are
    "IIMS", "API", "CSV", "XLSX", "GB", "T", "ID", "URL", "UTC", "JSON", "PDF", "PNG", "JPEG", "IAF", "MD", "QMS",
    "CL", "NR", "AUROC", "PSI", "OpenAPI", "Swagger", "ReDoc", "HTTP", "HTTPS", "ISO", "KiB", "MiB", "MB", "KB", "GBK", "UTF",
    # the extension of a file's own name (an attachment a body uploaded: 平台运维证明.pdf)
    "pdf", "png", "jpg", "jpeg",
    # the brand, the language switch
    "auditbo", "English",
    # grades
    "A", "AA", "AAA", "AAAA", "AAAAA",
}
SKIP_TAGS = {"code", "kbd", "samp", "script", "style", "pre", "template"}
READ_ATTRS = {"title", "placeholder", "aria-label", "alt"}
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_'\-./]*")


class _Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.links: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in SKIP_TAGS:
            self._skip += 1
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if not self._skip:
            self.texts += [v for k, v in attrs if k in READ_ATTRS and v]
            if tag == "input" and a.get("type") in ("submit", "button") and a.get("value"):
                self.texts.append(a["value"])

    def handle_endtag(self, tag):
        if tag in SKIP_TAGS and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.texts.append(data)


def latin_words(text: str, names: set[str]) -> list[str]:
    """The Latin-letter words of a text that are neither codes, names nor allowed."""
    bad = []
    for w in WORD.findall(text):
        w = w.rstrip(".-/'")
        if not w or any(ch.isdigit() for ch in w) or w in ALLOWED or w in names or re.fullmatch(r"[A-Z]", w):
            continue  # a code, a name, an acronym, a section letter (GB/T 4754)
        if "-" in w and w.isupper():  # a code's format (TS-XXXX-XXXX-XXXX)
            continue
        if all(part in ALLOWED or any(ch.isdigit() for ch in part) for part in re.split(r"[-/.]", w) if part):
            continue  # GB/T, CL3-CL5, A-AAAAA
        bad.append(w)
    return bad


def test_the_word_filter_catches_english_and_passes_codes():
    names = {"clerk01"}
    assert latin_words("请登录 Please log in", names) == ["Please", "log", "in"]
    assert latin_words("证书 IIMS-2026-AAA-000113 · GB/T 23001 · CL3 · AAA · clerk01 · 91350100M000100Y43 · A-1001",
                       names) == []
    assert latin_words("状态:decided [minor] (lead)", names) == ["decided", "minor", "lead"]


@pytest.fixture
def demo(app):
    load_demo(seed=20261126, scale=0.03, as_of=AS_OF)
    db.session.commit()  # a savepoint: requests see it
    from auditbo.accounts.models import User

    return set(db.session.scalars(sa.select(User.username)))


def _endpoint(app, path: str) -> str | None:
    try:
        return app.url_map.bind("localhost").match(path)[0]
    except Exception:  # noqa: BLE001 - a 404 or a redirect: not ours to crawl
        return None


def crawl(app, client, starts: list[str], names: set[str]) -> tuple[dict, list]:
    """Visit from ``starts``; return ({word: [urls]}, [(url, status)] of server errors)."""
    seen_shapes: dict[tuple, int] = defaultdict(int)
    queue, visited = list(starts), set()
    found: dict[str, list[str]] = defaultdict(list)
    errors = []
    while queue and len(visited) < MAX_PAGES:
        url = queue.pop(0)
        if url in visited:
            continue
        visited.add(url)
        resp = client.get(url)
        body = resp.get_data()  # read to its end: a streamed export closes its own context
        if resp.status_code >= 500:
            errors.append((url, resp.status_code))
        if resp.status_code in (301, 302, 303):
            loc = urlsplit(resp.headers["Location"])
            queue.insert(0, loc.path + (f"?{loc.query}" if loc.query else ""))
            continue
        if resp.mimetype == "text/csv" and "template" not in url:  # an export's header row is read too (an
            # import template's header names its columns for machines as well: not read here)
            header = body.decode("utf-8-sig", "replace").splitlines()[:1]
            for w in latin_words(" ".join(header), names):
                found[w].append(url)
        if not resp.mimetype == "text/html":
            continue
        page = _Page()
        page.feed(body.decode("utf-8"))
        for w in latin_words(" ".join(page.texts), names):
            if url not in found[w]:
                found[w].append(url)
        for href in page.links:
            href = urldefrag(href)[0]
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or not parts.path.startswith("/"):
                continue
            if parts.path.startswith(("/static/", "/api/v1/", "/logout")):
                continue
            query = dict(parse_qsl(parts.query))
            if "lang" in query:
                continue  # the English switch
            endpoint = _endpoint(app, parts.path)
            if endpoint is None:
                continue
            shape = (endpoint, tuple(sorted(query)))
            if seen_shapes[shape] >= PER_SHAPE or href in visited:
                continue
            seen_shapes[shape] += 1
            queue.append(href)
    return found, errors


ROLES = {
    "anonymous": None, "clerk": "clerk01", "consulting user": "consult01", "supervisor": "supervisor3",
    "admin": "admin",
}
STARTS = ["/", "/certificates", "/certificates?no=IIMS-2026-AAA-000113", "/directory", "/login", "/dashboard",
          "/account", "/no-such-page", "/assessments/999999"]


@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_reachable_in_chinese_is_chinese(role, app, client, demo):
    username = ROLES[role]
    if username:
        resp = client.post("/login", data={"username": username, "password": DEMO_PASSWORD})
        assert resp.status_code == 302
    found, errors = crawl(app, client, STARTS, demo)  # the navigation is on every page: it leads everywhere
    assert not errors, errors
    report = "\n".join(f"  {w!r} on {len(urls)} page(s), e.g. {urls[0]}" for w, urls in
                       sorted(found.items(), key=lambda kv: -len(kv[1])))
    assert not found, f"English words in the Chinese UI as {role}:\n{report}"


def test_the_decision_is_not_called_a_date(app):
    """The review page's decision box, its select and the queue's verdict column were titled 评定决定日期."""
    from flask_babel import gettext

    with app.test_request_context("/"):
        assert gettext("Decision") != gettext("Decision date")
        assert "日期" not in gettext("Decision")
