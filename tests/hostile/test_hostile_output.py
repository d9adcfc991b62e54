"""Hostile text and secrets on the operator's screen (issue 15, findings 7, 15 and part of 16).

A portal on 127.0.0.1 whose titles and publishers carry rich markup (``404 [/bold] not found``),
sources whose URLs carry credentials, a database password with ``@`` in it, a ``render --out``
that cannot be a folder and a preview asked for ``/%00``: every command answers with its normal
output or one clear line, never a MarkupError, a traceback or a secret.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pusher.cli import main
from pusher.web.httpserve import StaticServer
from pusher.web.preview import serve_preview

# Not "404 …" itself: a title like that is (rightly) taken for an error page and never stored.
MARKUP = "关于[/bold]停水的通知 [red]"
SECRET = "s3cretpw"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _page(title: str, publisher: str) -> str:
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title>
<meta name="ArticleTitle" content="{title}"><meta name="PubDate" content="2026-11-03 09:30">
<meta name="ContentSource" content="{publisher}"></head><body>
<table class="xxgk"><tr><td>索引号</td><td>330784/2026-1</td><td>发布机构</td><td>{publisher}</td></tr>
<tr><td>发布日期</td><td>2026-11-03</td><td>有效性</td><td>有效</td></tr></table>
<h1 class="title">{title}</h1><div id="zoom"><p>　　正文第一段，[bold]没有闭合的标记[/i] 也照常显示。</p></div></body></html>"""


@pytest.fixture
def markup_portal(tmp_path: Path) -> Iterator[StaticServer]:
    root = tmp_path / "portal"
    (root / "col").mkdir(parents=True)
    (root / "art").mkdir()
    (root / "col" / "index.html").write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body><ul class="xxgk-list">'
        f'<li><a href="/art/a1.html">{MARKUP}</a><span>2026-11-03</span></li></ul></body></html>',
        encoding="utf-8",
    )
    (root / "art" / "a1.html").write_text(_page(MARKUP, "[/bold]市[b]政府办"), encoding="utf-8")
    with StaticServer(root) as srv:
        yield srv


def _config(tmp_path: Path, sources: str, *, database: str = "") -> Path:
    cfg = tmp_path / "c.toml"
    db = f'database = "{database}"\n' if database else ""
    cfg.write_text(
        f'[channel]\nname = "测试[/b]频道"\nworkdir = "{tmp_path / "work"}"\n{db}'
        '[[columns]]\nid = "zwgk"\nname = "政府信息公开"\n'
        f"{sources}"
        f'[[targets]]\nname = "h"\nkind = "folder"\noptions = {{ path = "{tmp_path / "headend"}" }}\n'
        "[http]\ntimeout = 3\ndelay = 0.0\n",
        encoding="utf-8",
    )
    return cfg


def _source(name: str, url: str) -> str:
    return (
        f'[[sources]]\nname = "{name}"\nkind = "html"\nurl = "{url}"\ncolumn = "zwgk"\n'
        'options = { link_xpath = "//ul[contains(@class,\'xxgk-list\')]/li/a", date_xpath = "../span" }\n'
    )


def _pusher(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "pusher", *args], capture_output=True, text=True, timeout=120, env=env, cwd=cwd)


# -- finding 7: rich markup in portal text ------------------------------------------------------


def test_markup_in_portal_text_is_printed_as_text_by_poll_status_and_report(
    markup_portal: StaticServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dead = f"http://127.0.0.1:{_free_port()}/[dead]/index.html"
    cfg = _config(tmp_path, _source("odd", markup_portal.url + "/col/index.html") + _source("gone", dead))
    assert main(["poll", "--config", str(cfg)]) == 1  # the dead source fails; the table is printed whole
    shown = capsys.readouterr().out
    assert "odd" in shown and "[gone]" in shown  # the error line names its source in brackets
    assert main(["push", "--config", str(cfg)]) == 0
    capsys.readouterr()
    assert main(["status", "--config", str(cfg)]) == 0
    shown = capsys.readouterr().out
    assert "[gone]" in shown and "测试[/b]频道" in shown
    assert main(["report", "--year", "2026", "--config", str(cfg)]) == 0
    shown = capsys.readouterr().out
    assert "[/bold]市[b]政府办" in shown and "测试[/b]频道" in shown
    assert main(["search", "停水", "--config", str(cfg)]) == 0
    assert MARKUP in capsys.readouterr().out
    assert main(["review", "list", "--state", "published", "--config", str(cfg)]) == 0
    assert MARKUP in capsys.readouterr().out


# -- finding 15: secrets in CLI output ----------------------------------------------------------


def test_credentials_in_a_source_url_never_reach_poll_output(tmp_path: Path) -> None:
    url = f"http://admin:{SECRET}@127.0.0.1:{_free_port()}/col/index.html"
    cfg = _config(tmp_path, _source("dead", url))
    for args in (["poll"], ["poll", "--json"], ["source", "test", "dead"], ["check-config"], ["status"]):
        r = _pusher(*args, "--config", str(cfg))
        assert SECRET not in r.stdout + r.stderr, (args, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr, r.stderr
    r = _pusher("poll", "--json", "--config", str(cfg))
    [rep] = json.loads(r.stdout)
    assert rep["status"] == "error" and "admin:***@127.0.0.1" in rep["error"]
    r = _pusher("source", "test", "dead", "--config", str(cfg))
    assert r.returncode == 1 and r.stderr.startswith("错误：") and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_a_database_password_with_at_signs_is_masked_whole(tmp_path: Path) -> None:
    from pusher import logs

    url = f"postgresql://tv:p@ss@{SECRET}@127.0.0.1:{_free_port()}/test"
    assert SECRET not in logs.redact(f"cannot open {url}")
    assert "***@127.0.0.1" in logs.redact(f"cannot open {url}")
    cfg = _config(tmp_path, "", database=url)
    for args in (["status"], ["check-config"], ["poll", "--json"]):
        r = _pusher(*args, "--config", str(cfg))
        assert SECRET not in r.stdout + r.stderr and "ss@" not in r.stdout + r.stderr, (args, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr, r.stderr


# -- finding 16: one line, not a traceback -----------------------------------------------------


def test_render_out_that_cannot_be_a_folder_is_one_line(tmp_path: Path) -> None:
    text = tmp_path / "t.txt"
    text.write_text("标题\n正文。\n", encoding="utf-8")
    a_file = tmp_path / "plain.txt"
    a_file.write_text("x", encoding="utf-8")
    for out in (a_file, Path("/proc/x"), a_file / "sub"):
        r = _pusher("render", "--text-file", str(text), "--out", str(out))
        assert r.returncode == 2, (out, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert r.stderr.startswith("错误：") and str(out) in r.stderr, r.stderr


@pytest.mark.parametrize("path", ["/%00", "/assets/%00.png", "/channel.xml%00", "/%2e%2e/%00"])
def test_preview_answers_a_nul_in_the_path_with_an_error_status(tmp_path: Path, path: str, capfd: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "headend"
    folder.mkdir()
    (folder / "channel.xml").write_text("<channel/>", encoding="utf-8")
    server, _url = serve_preview(folder)
    try:
        host, port = server.server_address[:2]
        conn = http.client.HTTPConnection(str(host), int(port), timeout=5)
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        assert resp.status in (400, 404)
        conn.close()
        conn = http.client.HTTPConnection(str(host), int(port), timeout=5)
        conn.request("GET", "/channel.xml")  # the server still serves
        again = conn.getresponse()
        assert again.status == 200 and again.read() == b"<channel/>"
        conn.close()
    finally:
        server.close()
    assert "Traceback" not in capfd.readouterr().err


def test_static_server_answers_a_nul_in_the_path_with_an_error_status(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "index.html").write_text("ok", encoding="utf-8")
    with StaticServer(tmp_path) as srv:
        host, port = srv.httpd.server_address[:2]
        conn = http.client.HTTPConnection(str(host), int(port), timeout=5)
        conn.request("GET", "/index.html%00")
        resp = conn.getresponse()
        resp.read()
        assert resp.status in (400, 404)
        conn.close()
    assert "Traceback" not in capfd.readouterr().err


def test_credentials_in_a_source_url_never_reach_exports_or_reports_on_stdout(
    markup_portal: StaticServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An item's link is resolved against the source URL, so it inherits the source's
    ``user:password@``; what airs (channel.xml, the pages' 原文地址 and QR code, the exports) is
    public and carries the link without it. Data written for a pipe (export to ``-``, report as
    CSV or JSON) passes the same masking as the consoles on top of that."""
    from pusher.config.settings import load_settings
    from pusher.ops.exports import export_version
    from pusher.runtime import Runtime

    url = markup_portal.url.replace("http://", f"http://admin:{SECRET}@") + "/col/index.html"
    cfg = _config(tmp_path, _source("auth", url))
    assert main(["poll", "--config", str(cfg)]) == 0, capsys.readouterr()
    assert main(["push", "--config", str(cfg)]) == 0, capsys.readouterr()
    rt = Runtime(load_settings(cfg))
    try:
        raw = export_version(rt, "rss").data.decode("utf-8")
    finally:
        rt.close()
    assert SECRET not in raw and "admin" not in raw and "/art/" in raw, raw
    aired = [f for f in (tmp_path / "headend").rglob("*") if f.is_file() and f.suffix in (".xml", ".json")]
    assert aired and not [f for f in aired if SECRET in f.read_text(encoding="utf-8", errors="replace")]
    capsys.readouterr()
    for args in (["export", "rss", "--out", "-"], ["export", "xmltv", "--out", "-"], ["export", "playlist", "--out", "-"]):
        assert main([*args, "--config", str(cfg)]) == 0
        shown = capsys.readouterr().out
        assert shown and SECRET not in shown, (args, shown)
    for fmt in ("csv", "json"):
        assert main(["report", "--year", "2026", "--format", fmt, "--config", str(cfg)]) == 0
        shown = capsys.readouterr().out
        assert shown and SECRET not in shown, (fmt, shown)


def test_echo_masks_what_it_writes(capsys: pytest.CaptureFixture[str]) -> None:
    from pusher.cli import echo

    echo(f"aired_at,output\n2026-11-03T09:30:00+08:00,udp://tv:{SECRET}@239.1.1.1:5000\n", nl=False)
    shown = capsys.readouterr().out
    assert SECRET not in shown and shown.endswith("udp://tv:***@239.1.1.1:5000\n"), shown
