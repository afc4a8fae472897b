"""Refresh the catalogs and fill Chinese translations from auditbo/translations/pending/ (*.json or *.po).

    .venv/bin/python scripts/merge_pending_translations.py

Extracts every msgid from the code, updates the zh_Hans_CN catalog, fills empty
entries from the pending files (flat JSON {"English msgid": "中文"} or .po fragments), compiles, and
lists the msgids still without a translation. Safe to run again and again.

The catalog (messages.po) is the source of truth: edit it directly, or drop a pending
JSON file while working on a feature in parallel with others, merge, and delete it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TR = ROOT / "auditbo" / "translations"
PO = TR / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
BIN = Path(sys.executable).parent


def read_pending(folder: Path) -> dict[str, str]:
    """Every pending translation: flat JSON files ({"msgid": "中文"}) and .po fragments."""
    pending: dict[str, str] = {}
    for f in sorted(folder.glob("*.json")):
        pending.update(json.loads(f.read_text(encoding="utf-8")))
    for f in sorted(folder.glob("*.po")):
        with f.open("rb") as fh:
            for msg in read_po(fh):
                if msg.id and msg.string:
                    key = msg.id if isinstance(msg.id, str) else msg.id[0]
                    pending[key] = msg.string if isinstance(msg.string, str) else msg.string[0]
    return pending


def main() -> int:
    subprocess.run([BIN / "pybabel", "extract", "-F", ROOT / "babel.cfg", "-k", "_l", "-k", "lazy_gettext",
                    "--no-location", "--sort-output", "-o", TR / "messages.pot", ROOT / "auditbo"],
                   check=True, capture_output=True)
    subprocess.run([BIN / "pybabel", "update", "-i", TR / "messages.pot", "-d", TR, "--no-fuzzy-matching",
                    "--ignore-obsolete"], check=True, capture_output=True)
    pending = read_pending(TR / "pending")
    with PO.open("rb") as fh:
        catalog = read_po(fh)
    missing = []
    for msg in catalog:
        if not msg.id:
            continue
        key = msg.id if isinstance(msg.id, str) else msg.id[0]
        if key in pending and not msg.string:  # the catalog wins: pending files only fill gaps
            msg.string = pending[key] if isinstance(msg.id, str) else (pending[key], pending[key])
        if not msg.string or (isinstance(msg.string, tuple) and not all(msg.string)):
            missing.append(key)
        msg.flags.discard("fuzzy")
    with PO.open("wb") as fh:
        write_po(fh, catalog, width=120, omit_header=False)
    subprocess.run([BIN / "pybabel", "compile", "-d", TR], check=True, capture_output=True)
    if missing:
        print("without a Chinese translation:", *missing, sep="\n  ")
    else:
        print("every msgid has a Chinese translation")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
