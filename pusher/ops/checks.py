"""What ``pusher check-config`` probes beyond the schema: that the fonts can draw the channel,
that every enabled headend takes a file, and (``--probe``) that the sources answer.

A configuration that validates can still put an empty channel on air (a Latin-only font fails
every item at render time) or push into a folder the daemon may not write: these checks run
the same code paths the stages will, once, before the daemon does. Disabled targets and
sources are not touched (their secrets need not even be set).
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pusher.errors import TvPusherError
from pusher.registry import SOURCES, TARGETS

if TYPE_CHECKING:
    from pusher.config.settings import Settings


@dataclass(frozen=True)
class Check:
    what: str  # what was checked, for the operator ("字体 render.fonts")
    ok: bool
    detail: str = ""
    # A failure the configuration must fix (exit 2) rather than one of the network or the far
    # side (exit 1): a font that lacks glyphs or a folder without write access is the former.
    config: bool = True
    skipped: bool = False


def gb2312_level1() -> str:
    """The 3,755 characters of GB 2312 level 1 (rows 16–55): what any county notice uses."""
    chars = []
    for row in range(0xB0, 0xD8):
        for cell in range(0xA1, 0xFF):
            if row == 0xD7 and cell > 0xF9:  # row 55 ends at cell 89
                break
            chars.append(bytes((row, cell)).decode("gb2312"))
    return "".join(chars)


def channel_chars(settings: Settings) -> str:
    """Every character the channel's chrome and names need, plus GB 2312 level 1."""
    from renderers import chrome

    texts = [
        settings.channel.name,
        *(c.name for c in settings.columns),
        *chrome.ITEM_STRINGS,
        *chrome.MENU_STRINGS,
        chrome.ALERT_HINTS,
        *chrome.ALERT_HEADINGS.values(),
        "0123456789（）《》，。、；：？！“”",
        gb2312_level1(),
    ]
    return "".join(dict.fromkeys("".join(texts)))


def check_fonts(settings: Settings) -> list[Check]:
    from renderers.fonts import font_chain

    need = channel_chars(settings)
    checks = []
    chains = (("render.fonts", settings.render.fonts), ("render.bold_fonts", settings.render.bold_fonts or settings.render.fonts))
    for key, specs in chains:
        what = f"字体 {key} = {', '.join(specs)}"
        try:
            chain = font_chain(tuple(specs))
        except TvPusherError as exc:
            checks.append(Check(what, False, str(exc)))
            continue
        if chain.problems:  # a skipped font is drawn around (a fallback), but the setting is wrong
            checks.append(Check(what, False, "; ".join(chain.problems)))
            continue
        missing = []
        for ch in need:
            if ch.isspace():
                continue
            try:
                chain.font_for(ch)
            except TvPusherError:
                missing.append(ch)
        if missing:
            sample = "".join(missing[:12])
            detail = f"{specs[0]} 等字体缺 {len(missing)} 个字的字形（如 {sample}），频道页面无法绘制；请配置中文字体，如 Noto Sans CJK SC"
            checks.append(Check(what, False, detail))
        else:
            checks.append(Check(what, True, f"覆盖 GB 2312 一级汉字和页面文字（{len(need)} 字）"))
    return checks


def check_targets(settings: Settings, probe: bool = False) -> list[Check]:
    """Each enabled target: a folder always gets a probe file written and removed (it is local
    and harmless); a WebDAV or FTP headend is listed and probed only with ``probe``."""
    checks = []
    for t in settings.targets:
        what = f"目标 {t.name}（{t.kind}）"
        if not t.enabled:
            continue
        local = t.kind == "folder"
        if not local and not probe:
            checks.append(Check(what, True, "未探测（加 --probe 列目录并试传一个文件）", config=False, skipped=True))
            continue
        name = f"assets/_tvpusher-probe-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            target = TARGETS.create(t.kind, t.options, t.name)
            try:
                target.list_assets()
                target.put(name, b"tvpusher check-config probe\n")
                target.delete(name)
            finally:
                target.close()
        except TvPusherError as exc:
            checks.append(Check(what, False, f"不可写：{exc}", config=local))
        except OSError as exc:
            checks.append(Check(what, False, f"不可写：{exc}", config=local))
        else:
            checks.append(Check(what, True, "可写（探测文件已写入并删除）"))
    return checks


def check_sources(settings: Settings, probe: bool = False) -> list[Check]:
    """With ``probe``, each enabled source lists its column once (nothing is stored)."""
    if not probe:
        return []
    from feeds.http import Http

    checks = []
    for s in settings.sources:
        if not s.enabled:
            continue
        what = f"来源 {s.name}（{s.kind}）"
        http = Http(settings.http, source=s.name, hosts=s.spec().allowed_hosts())
        try:
            listing = SOURCES.create(s.kind, s.options, s.spec()).list(http, {})
        except TvPusherError as exc:
            checks.append(Check(what, False, f"无应答：{exc}", config=False))
        else:
            checks.append(Check(what, True, f"应答正常，列出 {len(listing.entries)} 条"))
        finally:
            http.close()
    return checks
