"""No secret in a log line or in ``pusher status``: target passwords and tokens, a token in a
portal URL, Authorization headers — with the daemon logging at DEBUG while its sources and headends fail and their errors are stored and shown."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from daemonkit import Portal, wait_for, write_config

from pusher import logs

PASSWORD = "Pw-Sup3r-S3cret-81"
TOKEN = "Tok-6b1f0c9e-4d2a"
URL_TOKEN = "Tk-9f8e7d6c5b4a3"
SECRETS = (PASSWORD, TOKEN, URL_TOKEN)


def test_no_secret_in_daemon_logs_or_status(fixture_portal: Portal, tmp_path: Path) -> None:
    fixture_portal.add(2)
    closed = "http://127.0.0.1:9/dav/"  # discard port: nothing listens, every push fails
    extra = f"""
[[targets]]
name = "davpw"
kind = "webdav"
options = {{ url = "{closed}", username = "pusher", password = "{PASSWORD}" }}
[[targets]]
name = "davtoken"
kind = "webdav"
options = {{ url = "{closed}", token = "{TOKEN}" }}
[[sources]]
name = "private"
kind = "html"
url = "{fixture_portal.url}/private/index.html?access_token={URL_TOKEN}"
column = "tzgg"
interval = 10
"""
    cfg = write_config(tmp_path / "t.toml", portal=fixture_portal, work=tmp_path / "work", headend=tmp_path / "headend", extra=extra)
    args = [sys.executable, "-m", "pusher", "run", "--config", str(cfg), "--log-json", "--log-level", "DEBUG"]
    log = tmp_path / "d.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen(args, stdout=fh, stderr=subprocess.STDOUT, env=os.environ.copy())
    try:
        failed = lambda t: f"to {t} failed" in log.read_text(encoding="utf-8")  # noqa: E731
        assert wait_for(lambda: failed("davpw") and failed("davtoken") and "access_token=***" in log.read_text(encoding="utf-8"), 60), (
            log.read_text(encoding="utf-8")[-3000:]
        )
    finally:
        proc.terminate()
        proc.wait(60)
    text = log.read_text(encoding="utf-8")
    for s in SECRETS:
        assert s not in text
    env = {**os.environ, "PUSHER_CONFIG": str(cfg)}
    shown = {}
    for cmd in (["status", "--json"], ["status"], ["check-config"]):
        out = subprocess.run([sys.executable, "-m", "pusher", *cmd], capture_output=True, text=True, env=env, timeout=120)
        assert out.returncode == 0, out.stdout + out.stderr
        shown[cmd[-1]] = out.stdout + out.stderr
        for s in SECRETS:
            assert s not in shown[cmd[-1]], (cmd, s)
    st = json.loads(shown["--json"])
    private = next(s for s in st["sources"] if s["name"] == "private")
    assert "access_token=***" in private["last_error"], "the error is shown, with the token masked"


def test_redaction_patterns() -> None:
    logs.add_secret("literal-secret-value")
    cases = {
        "Authorization: Basic cHVzaGVyOnB3": "Authorization: Basic ***",
        "{'Authorization': 'Bearer abcdefghijklmnop'}": "{'Authorization': 'Bearer ***'}",
        "ftp://pusher:hunter2@headend.example/ch/": "ftp://pusher:***@headend.example/ch/",
        "postgresql://tvp:pgpass@db/tvp": "postgresql://tvp:***@db/tvp",
        '{"password": "hunter2", "user": "pusher"}': '{"password": "***", "user": "pusher"}',
        "GET /list?page=2&api_key=zzz999&x=1": "GET /list?page=2&api_key=***&x=1",
        "the value literal-secret-value leaked": "the value *** leaked",
        "索引号 330784ZF060000/2013-13135 is fine": "索引号 330784ZF060000/2013-13135 is fine",
    }
    for raw, want in cases.items():
        assert logs.redact(raw) == want, raw


def test_formatted_tracebacks_are_redacted_too(capsys: object) -> None:
    root = logging.getLogger()
    # The daemon's setup replaces the root handlers with one on this test's captured stderr:
    # left there, every later test of this worker logs into a closed file (and its CLI's stderr
    # reads "--- Logging error ---").
    saved = root.handlers[:], root.level
    logs.setup("INFO", json_lines=True)
    try:
        try:
            raise RuntimeError("connect failed: password=hunter2")
        except RuntimeError:
            logging.getLogger("tvpusher.test").exception("boom")
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    assert "hunter2" not in err and "password=***" in err
