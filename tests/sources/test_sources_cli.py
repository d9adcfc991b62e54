"""``pusher source test``: list, then the first detail, from a live portal; nothing stored."""

from __future__ import annotations

from pathlib import Path

import pytest
import test_sources_contract as contract
from conftest import SAMPLES
from sources_portal import Page, Portal

from pusher.cli import main


def test_source_test_by_url_and_kind(
    site: Portal, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    contract.TestHanwebContract().publish(site)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PUSHER_CONFIG", raising=False)
    rc = main(["source", "test", "--url", site.url + "/col/col1/index.html", "--kind", "hanweb", "--item", "2"])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    assert "3 个条目" in printed and "详情：" in printed
    assert "关于2026年冬季森林防火工作的通告" in printed and "永康市2026年秋季征兵工作公告" in printed
    # The second entry, in detail.
    assert "关于调整城区部分公交线路的公告。全文如下。" in printed
    assert "2026-11-18 09:00" in printed
    assert list(tmp_path.iterdir()) == []  # no database, no work directory


def test_source_test_by_name_stores_nothing(site: Portal, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    contract.TestHanwebContract().publish(site)
    cfg = tmp_path / "tvpusher.toml"
    cfg.write_text(
        f"""[channel]
workdir = "var"
[[columns]]
id = "tzgg"
name = "通知公告"
[[columns]]
id = "aq"
name = "安全生产"
keywords = ["森林防火"]
[[sources]]
name = "col1"
kind = "hanweb"
url = "{site.url}/col/col1/index.html"
column = "tzgg"
""",
        encoding="utf-8",
    )
    rc = main(["source", "test", "col1", "--config", str(cfg), "--json"])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    import json

    data = json.loads(printed)
    assert data["total_entries"] == 3 and data["requests"] == 2
    assert data["detail"]["title"] == "关于2026年冬季森林防火工作的通告"
    assert data["detail"]["channel_column"] == "aq"
    assert not (tmp_path / "var" / "tvpusher.db").exists()
    # Conditional headers are never sent: the operator always sees the full page.
    assert all("if-none-match" not in h.headers for h in site.hits)


def test_source_test_errors_are_one_line(site: Portal, capsys: pytest.CaptureFixture[str]) -> None:
    site.routes["/x"] = Page(b"<html><script>document.cookie='a=1';location.reload()</script></html>", status=521)
    assert main(["source", "test", "--url", site.url + "/x", "--kind", "html"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("错误：[test]") and "HTTP 521" in err and "\n" not in err
    assert main(["source", "test", "--url", site.url + "/x"]) == 2
    assert "--kind" in capsys.readouterr().err


def test_discover_on_saved_pages() -> None:
    from feeds import discover as dis

    hanweb = (SAMPLES / next(p.name for p in SAMPLES.glob("01_*"))).read_text(encoding="utf-8")
    trs = (SAMPLES / next(p.name for p in SAMPLES.glob("05_*"))).read_text(encoding="utf-8")
    govcn = next((SAMPLES.parent / "pages").glob("govcn_01_*")).read_text(encoding="utf-8")
    assert dis.family(hanweb)[0] == "hanweb"
    assert dis.family(trs)[0] == "trs"
    assert dis.family(govcn)[0] == "ucap"
    assert dis.adapter_kind("ucap") == "html"
