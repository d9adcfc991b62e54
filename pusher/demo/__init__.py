"""``pusher demo``: the whole flow on one machine, with no configuration and no network.

Serves the bundled sample portal on 127.0.0.1, polls it, screens, renders, builds the channel
and pushes it to ``WORKDIR/headend``. The portal is served on a fixed port so that a second run
on the same work directory sees the same item URLs, finds nothing new and pushes nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pusher.config.settings import Settings, parse_settings
from pusher.errors import TvPusherError
from pusher.web.httpserve import StaticServer

PORTAL = Path(__file__).parent / "portal"
DEFAULT_PORTAL_PORT = 8741

COLUMNS = [
    {"id": "zwgk", "name": "政府信息公开", "key": "red", "topics": ["财政", "城乡建设", "工业"]},
    {"id": "dwgk", "name": "党务公开", "key": "green", "portal_columns": ["党务公开"]},
    {"id": "cwgk", "name": "村务公开", "key": "yellow", "portal_columns": ["村务公开"]},
    {"id": "zwfw", "name": "政务服务", "key": "blue", "portal_columns": ["政务服务"]},
    {
        "id": "zdly",
        "name": "重点领域",
        "portal_columns": ["重点领域信息公开"],
        "topics": ["保障性住房", "食品安全", "环境", "招投标", "安全生产", "征地拆迁", "价格收费"],
        "keywords": ["保障性住房", "公共租赁住房", "食品安全", "招标", "安全生产", "征地", "拆迁", "价格", "收费"],
    },
    {"id": "tzgg", "name": "通知公告"},
]
HTML_LIST = {"link_xpath": "//ul[contains(@class,'xxgk-list')]/li/a", "date_xpath": "../span"}
# (name, list path, fallback column[, {"kind": …, "options": …}]); html unless said otherwise.
SOURCES: list[tuple[str, str, str] | tuple[str, str, str, dict[str, Any]]] = [
    ("notices", "/col/col1001/index.html", "tzgg"),
    ("policies", "/col/col1002/index.html", "zwgk"),
    ("villages", "/col/col1003/index.html", "cwgk"),
    ("party", "/col/col1004/index.html", "dwgk"),
    ("services", "/col/col1005/index.html", "zwfw"),
    ("keyareas", "/col/col1006/index.html", "zdly", {"kind": "hanweb", "options": {}}),
    ("xxgk", "/zfxxgk/fdzdgknr/index.html", "zwgk", {"kind": "trs", "options": {"pages": 2}}),
]


def demo_config(portal_url: str, workdir: Path) -> dict[str, Any]:
    return {
        "channel": {"name": "永康市数字电视政务频道", "profile": "hd", "workdir": str(workdir), "publish_interval": 30},
        "columns": COLUMNS,
        "sources": [
            {
                "name": n,
                "kind": "html",
                "url": portal_url + path,
                "column": col,
                "interval": 60,
                "options": HTML_LIST,
                **(kind[0] if kind else {}),
            }
            for n, path, col, *kind in SOURCES
        ],
        "targets": [{"name": "headend", "kind": "folder", "options": {"path": str(workdir / "headend")}}],
        "http": {"delay": 0.0, "per_host": 4},
        # The portal's published office contacts (the annual report's phone and e-mail) pass the gate.
        "gate": {"allow": ["87101077", "0579-87101077", "gkb1416@126.com"]},
    }


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def write_demo_config(portal_url: str, workdir: Path) -> Path:
    """The demo's configuration as a file, so that every other command can look at the demo's
    store (``pusher --config var/demo/tvpusher.toml review list``)."""
    return write_config(demo_config(portal_url, workdir), workdir / "tvpusher.toml")


def write_config(config: dict[str, Any], path: Path) -> Path:
    """A configuration (as ``demo_config`` builds it) as a TOML file the commands read."""
    lines = ["# Written by `pusher demo`: the configuration it ran with."]
    for key, value in config.items():
        if isinstance(value, dict):
            lines += ["", f"[{key}]", *(f"{k} = {_toml_value(v)}" for k, v in value.items())]
        else:
            for row in value:
                lines += ["", f"[[{key}]]", *(f"{k} = {_toml_value(v)}" for k, v in row.items())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def demo_settings(portal_url: str, workdir: Path) -> Settings:
    return parse_settings(demo_config(portal_url, workdir), workdir)


def portal_server(root: Path, port: int = DEFAULT_PORTAL_PORT) -> StaticServer:
    """The sample portal's HTTP server on 127.0.0.1 (a context manager)."""
    try:
        return StaticServer(root, port=port)
    except OSError as exc:
        raise TvPusherError(f"cannot serve the sample portal on 127.0.0.1:{port}: {exc.strerror} (try --port)") from None
