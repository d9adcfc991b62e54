"""``pusher source discover`` against the demo portal served on 127.0.0.1: the CMS of each column
from what its list page carries (the plain lists imitate Hanweb's URLs but are ``html``), the
``link_xpath`` / ``date_xpath`` a plain list needs, and [[sources]] blocks that load as they are
and read the column they name."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
from test_sources_samples import make_source

from feeds import discover as dis
from feeds.http import Http
from pusher.cli import main
from pusher.config.settings import HttpSettings, SourceSettings
from pusher.web.httpserve import StaticServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
KINDS = {
    "col1001": "html",
    "col1002": "html",
    "col1003": "html",
    "col1004": "html",
    "col1005": "html",
    "col1006": "hanweb",
    "fdzdgknr": "trs",
}


def _blocks(printed: str) -> list[dict[str, object]]:
    """The [[sources]] tables of the printed TOML, parsed by tomllib as an operator's file would be."""
    return list(tomllib.loads(printed)["sources"])


def test_discover_demo_portal_prints_pasteable_sources(
    portal: StaticServer, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PUSHER_CONFIG", raising=False)
    assert main(["source", "discover", portal.url + "/index.html"]) == 0
    printed = capsys.readouterr().out
    assert "CMS：未识别的 CMS（普通 HTML）" in printed  # the home page carries no CMS markup
    assert "找到 7 个栏目" in printed
    assert "最新：关于2026年冬季森林防火工作的通告" in printed
    sources = _blocks(printed)
    assert {str(s["name"]): s["kind"] for s in sources} == KINDS
    for raw in sources:
        s = SourceSettings.model_validate(raw)
        s.validated_options()  # the options load as the configuration would load them
        src = make_source(s.kind, s.url, options=dict(s.options))
        with Http(HttpSettings(timeout=2.0, delay=0.0), source="t", hosts={portal.url}) as http:
            listing = src.list(http, {})
        assert listing.entries, s.name
        if s.kind == "html":
            assert s.options == {"link_xpath": "//ul[contains(@class,'xxgk-list')]//li/a", "date_xpath": "../span"}
            assert all(e.published is not None for e in listing.entries), s.name  # date_xpath finds the dates
    assert [p.name for p in tmp_path.iterdir()] == ["portal"]  # no database, no work directory


def test_discover_json_and_configured_channel_columns(portal: StaticServer, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    cfg = tmp_path / "tvpusher.toml"
    cfg.write_text(
        '[channel]\nworkdir = "var"\n[[columns]]\nid = "dwgk"\nname = "党务公开"\nkey = "green"\n'
        '[[columns]]\nid = "zdly"\nname = "重点领域"\nkey = "red"\nportal_columns = ["重点领域信息公开"]\n',
        encoding="utf-8",
    )
    assert main(["source", "discover", portal.url + "/index.html", "--json", "--config", str(cfg)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["cms"] == "html"
    by_name = {c["name"]: c for c in data["columns"]}
    assert by_name["党务公开"]["kind"] == "html" and by_name["党务公开"]["items"]
    assert 'column = "dwgk"' in by_name["党务公开"]["source"]
    assert 'column = "zdly"' in by_name["重点领域信息公开"]["source"] and by_name["重点领域信息公开"]["kind"] == "hanweb"
    assert by_name["法定主动公开内容"]["kind"] == "trs"


def test_discover_a_column_page_and_a_broken_column(portal: StaticServer, portal_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["source", "discover", portal.url + "/col/col1003/index.html"]) == 0
    sources = _blocks(capsys.readouterr().out)
    assert [s["kind"] for s in sources] == ["html"] and sources[0]["url"] == portal.url + "/col/col1003/index.html"
    (portal_dir / "col" / "col1002" / "index.html").unlink()
    assert main(["source", "discover", portal.url + "/index.html"]) == 0
    printed = capsys.readouterr().out
    assert re.search(r"# 政策文件 — .*\n#   读取失败：.*HTTP 404", printed)
    assert len(_blocks(printed)) == 7  # the broken column is still listed, the others read


def test_families_on_real_and_demo_pages() -> None:
    samples = FIXTURES / "portal-samples"
    hanweb_detail = next(samples.glob("01_*")).read_text(encoding="utf-8")
    dataproxy = next(samples.glob("08_*")).read_text(encoding="utf-8")
    trs_list = next(samples.glob("05_*")).read_text(encoding="utf-8")
    assert dis.family(hanweb_detail)[0] == "hanweb"  # /col/ and /art/ URLs together
    assert dis.family(dataproxy)[0] == "hanweb" and dis.column_kind(dataproxy) == "hanweb"
    assert dis.family(trs_list)[0] == "trs"
    # Hanweb-shaped URLs on a plain list: read by the html adapter.
    plain = '<ul class="news"><li><a href="/art/2026/11/20/art_1_2.html">关于冬季防火的通告</a><span>2026-11-20</span></li></ul>'
    assert dis.column_kind(plain) == "html"
    assert dis.family('<a href="/col/col1/index.html">通知公告</a>')[0] == "html"


def test_html_options_on_a_table_list() -> None:
    from feeds.xmlsafe import parse_html

    page = parse_html(
        "<html><body><ul class='nav'><li><a href='/a.html'>网站首页导航栏目</a></li></ul>"
        "<table class='xxgk-table'><tr><th>名称</th><th>日期</th></tr>"
        "<tr><td><a href='/1.html'>关于城区道路施工的公告</a></td><td>市住建局</td><td>2026-11-25</td></tr>"
        "<tr><td><a href='/2.html'>关于冬季森林防火的通告</a></td><td>市林业局</td><td>2026-11-20</td></tr></table></body></html>",
        base_url="http://x.gov.cn/",
    )
    opts = dis.html_options(page, "http://x.gov.cn/", "x.gov.cn")
    assert opts["link_xpath"] == "//table[contains(@class,'xxgk-table')]//tr/td[1]/a"
    assert [a.text for a in page.xpath(opts["link_xpath"])] == ["关于城区道路施工的公告", "关于冬季森林防火的通告"]
    assert page.xpath(opts["link_xpath"])[0].xpath(opts["date_xpath"])[0].text == "2026-11-25"
