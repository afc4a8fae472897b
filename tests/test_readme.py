"""The README's commands work as written, and a command that cannot work says why in one line.

Every ```bash block of the README that runs ``.venv/bin/flask`` is run as a script (its
``export`` lines and its flask lines, in order) against a fresh temporary SQLite database.
The liberties taken, so that the test stays quick and local: the database URL is the temp
file's, ``seed demo`` gets ``--scale 0.02``, ``scheduler run`` (which never returns) is left
out, and ``.venv/bin/flask`` is this interpreter's ``-m flask``.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
FLASK = ".venv/bin/flask"


def bash_blocks() -> list[list[str]]:
    """The command lines (exports and flask commands) of each README bash block that runs flask."""
    blocks = []
    for body in re.findall(r"```bash\n(.*?)```", README, flags=re.S):
        lines = [ln.strip() for ln in body.replace("\\\n", " ").splitlines()]
        if any(ln.startswith(FLASK) for ln in lines):
            blocks.append([ln for ln in lines if ln.startswith((FLASK, "export "))])
    return blocks


def _env(tmp_path: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDITBO_")}
    env.update({"AUDITBO_DATABASE_URL": f"sqlite:///{tmp_path / 'readme.sqlite'}",
                "AUDITBO_UPLOAD_DIR": str(tmp_path / "uploads"), "ADMIN_PASSWORD": "a-long-admin-password",
                "PYTHONWARNINGS": "ignore"})
    env.update(extra)
    return env


def _script(lines: list[str], db_url: str) -> str:
    out = ["set -euo pipefail"]
    for ln in lines:
        if ln.startswith("export AUDITBO_DATABASE_URL="):
            ln = f"export AUDITBO_DATABASE_URL={shlex.quote(db_url)}"  # the temp database, not the example's
        elif " scheduler run" in ln:
            continue  # runs until stopped
        elif " seed demo" in ln:
            ln = ln.split("#")[0].rstrip() + " --scale 0.02"
        ln = ln.replace(FLASK, f"{shlex.quote(sys.executable)} -m flask", 1)
        out.append(f"printf '%s\\n' {shlex.quote('+ ' + ln[:70])} >&2; {ln}")
    return "\n".join(out)


def test_the_readme_has_the_commands_a_newcomer_needs():
    flask_lines = [ln for block in bash_blocks() for ln in block if ln.startswith(FLASK)]
    for wanted in ("db upgrade", "seed demo", "users create", "tokens create", "events verify"):
        assert any(wanted in ln for ln in flask_lines), wanted
    assert "../shared" not in README  # a clone has no such folder: the README stands alone
    assert "PORT=" in README and "AUDITBO_ENV_NAME=demo" in README


@pytest.mark.parametrize("block", range(len(bash_blocks())))
def test_each_readme_block_runs_as_written(block, tmp_path):
    lines = bash_blocks()[block]
    env = _env(tmp_path)
    run = subprocess.run(["bash", "-c", _script(lines, env["AUDITBO_DATABASE_URL"])], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Traceback" not in run.stderr
    if any(" tokens create" in ln for ln in lines):
        assert re.search(r"^abo_\S{20,}$", run.stdout, flags=re.M), run.stdout[-500:]  # the token, alone


def _flask(tmp_path, *args, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                          env=_env(tmp_path, **env), capture_output=True, text=True, timeout=120)


def _one_line(run: subprocess.CompletedProcess) -> str:
    lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
    assert run.returncode != 0 and len(lines) == 1 and "Traceback" not in run.stderr, run.stderr[-2000:]
    return lines[0]


def test_a_command_without_the_secret_key_says_so_in_one_line(tmp_path):
    line = _one_line(_flask(tmp_path, "tokens", "create", "--username", "clerk01", "--name", "x"))
    assert "AUDITBO_SECRET_KEY" in line and "AUDITBO_ENV_NAME=demo" in line


def test_a_command_on_a_database_not_upgraded_says_so_in_one_line(tmp_path):
    line = _one_line(_flask(tmp_path, "tokens", "create", "--username", "clerk01", "--name", "x",
                            AUDITBO_ENV_NAME="demo"))
    assert "db upgrade" in line


def test_bad_input_is_one_line(tmp_path):
    assert _flask(tmp_path, "db", "upgrade", AUDITBO_ENV_NAME="demo").returncode == 0
    line = _one_line(_flask(tmp_path, "users", "create", "--username", "x", "--password", "short", "--role", "boss",
                            AUDITBO_ENV_NAME="demo"))
    assert "role" in line and "password" in line
    assert "no user named" in _one_line(_flask(tmp_path, "tokens", "create", "--username", "nobody", "--name", "x",
                                               AUDITBO_ENV_NAME="demo"))
