"""Search: Chinese substrings in titles and text, ranked, with snippets; the index follows edits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from broadcast_kit import make_runtime
from sqlalchemy import text

from pusher.cli import main
from pusher.errors import TvPusherError
from pusher.runtime import Runtime
from pusher.store.models import Item
from pusher.store.search import ensure_index, search

DOCS = [
    # id, column, published, title, text
    (1, "zwgk", datetime(2026, 3, 1, tzinfo=UTC), "关于2026年财政预算执行情况的报告", "全市一般公共预算收入完成68.2亿元。"),
    (
        2,
        "zwgk",
        datetime(2026, 5, 1, tzinfo=UTC),
        "永康市城乡建设工作要点",
        "推进财政预算绩效管理，加强财政预算公开。财政预算编制更加规范。",
    ),
    (3, "tzgg", datetime(2026, 6, 1, tzinfo=UTC), "停水通知", "因管道维修，城西片区暂停供水，请提前储水。"),
    (4, "cwgk", datetime(2025, 6, 1, tzinfo=UTC), "芝英镇村务公开：财政补助资金", "本村获得财政补助资金12万元，用于道路硬化。"),
    (5, "tzgg", datetime(2026, 7, 1, tzinfo=UTC), "关于做好防汛工作的通知", "各镇街要落实防汛责任，确保安全度汛。"),
]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def rt(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Runtime]:
    """The same items on a SQLite file (FTS5 trigram) and on PostgreSQL (pg_trgm)."""
    rt = make_runtime(tmp_path, database=request.getfixturevalue("pg_url") if request.param == "postgresql" else "")
    with rt.store.write() as db:
        for i, column, published, title, body in DOCS:
            db.add(Item(id=i, source="s", url=f"http://p/{i}", title=title, text=body, column=column, published=published))
    yield rt
    rt.close()


def test_chinese_substrings_are_found_and_ranked_title_first(rt: Runtime) -> None:
    hits = search(rt.store, "财政预算")
    assert [h.id for h in hits] == [1, 2]  # a title hit outranks three text hits
    assert "【财政预算】" in hits[1].snippet
    assert hits[0].score > hits[1].score
    assert [h.id for h in search(rt.store, "预算执行")] == [1]  # a substring, not a word
    assert [h.id for h in search(rt.store, "暂停供水")] == [3]
    assert search(rt.store, "地铁规划") == []


def test_short_words_and_several_words(rt: Runtime) -> None:
    # Two characters cannot be trigram-matched: a substring scan finds them.
    assert {h.id for h in search(rt.store, "防汛")} == {5}
    assert {h.id for h in search(rt.store, "财政")} == {1, 2, 4}
    assert [h.id for h in search(rt.store, "财政 补助资金")] == [4]  # every word must occur
    assert "【财政】" in search(rt.store, "财政")[0].snippet
    with pytest.raises(TvPusherError):
        search(rt.store, " ，")


def test_filters_by_column_and_date(rt: Runtime) -> None:
    assert {h.id for h in search(rt.store, "财政", column="cwgk")} == {4}
    assert {h.id for h in search(rt.store, "财政", since=datetime(2026, 1, 1, tzinfo=UTC))} == {1, 2}
    assert {h.id for h in search(rt.store, "财政预算", since=datetime(2026, 4, 1, tzinfo=UTC))} == {2}


def test_the_index_follows_edits_and_heals_lost_triggers(rt: Runtime) -> None:
    with rt.store.write() as db:
        item = db.get(Item, 3)
        assert item is not None
        item.title, item.text = "停气通知", "燃气管道抢修，暂停供气。"
        db.delete(db.get(Item, 5))
    assert search(rt.store, "暂停供水") == []
    assert [h.id for h in search(rt.store, "暂停供气")] == [3]
    assert search(rt.store, "防汛工作") == []
    if not rt.store.is_sqlite:
        return
    # A later batch migration of ``item`` rebuilds the table and drops its triggers: the index
    # is re-created and rebuilt on the next search.
    with rt.store.engine.begin() as conn:
        conn.execute(text("DROP TRIGGER item_fts_ai"))
    with rt.store.write() as db:
        db.add(Item(id=9, source="s", url="http://p/9", title="关于开展安全生产大检查的通知", text=""))
    assert [h.id for h in search(rt.store, "安全生产")] == [9]
    ensure_index(rt.store)  # idempotent
    with rt.store.write() as db:
        db.add(Item(id=10, source="s", url="http://p/10", title="安全生产月活动方案", text=""))
    assert [h.id for h in search(rt.store, "安全生产月")] == [10]


def test_search_command(rt: Runtime, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    cfg = tmp_path / "tvpusher.toml"
    cfg.write_text(
        f'[channel]\nworkdir = "{tmp_path / "work"}"\ndatabase = "{rt.settings.channel.database_url}"\n[[columns]]\nid = "zwgk"\nname = "政府信息公开"\n',
        encoding="utf-8",
    )
    assert main(["search", "财政预算", "--config", str(cfg)]) == 0
    said = capsys.readouterr().out
    assert said.index("[1] 关于2026年财政预算执行情况的报告") < said.index("[2] 永康市城乡建设工作要点")
    assert "【财政预算】" in said
    assert main(["search", "财政", "--since", "2026-04-01", "--column", "zwgk", "--config", str(cfg)]) == 0
    said = capsys.readouterr().out
    assert "[2]" in said and "[1]" not in said
    assert main(["search", "财政", "--since", "April", "--config", str(cfg)]) == 2
