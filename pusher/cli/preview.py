"""``pusher preview``: browse a headend folder with the reference viewer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pusher.cli import ConfigOpt, app, load, out
from pusher.web.preview import preview_forever


def _default_folder(config: Path | None) -> Path:
    """The first enabled folder target of the configuration, else the current folder."""
    import os

    if config is None and not os.environ.get("PUSHER_CONFIG"):
        return Path(".")
    settings = load(config)
    for t in settings.targets:
        if t.enabled and t.kind == "folder" and t.options.get("path"):
            return Path(t.options["path"])
    return Path(".")


@app.command()
def preview(
    folder: Annotated[
        Path | None,
        typer.Argument(
            metavar="DIR",
            help="Headend folder (channel.xml + assets/); default: the configured folder target, else the current folder.",
            show_default=False,
        ),
    ] = None,
    port: Annotated[int, typer.Option("--port", "-p", min=0, max=65535, help="Port on 127.0.0.1; 0 picks a free one.")] = 8470,
    config: ConfigOpt = None,
) -> None:
    """Serve a headend folder with the reference set-top-box viewer on 127.0.0.1 until Ctrl-C."""
    root = folder if folder is not None else _default_folder(config)

    def ready(url: str) -> None:
        out.print(f"机顶盒查看器：{url}（目录 {root.resolve()}；Ctrl-C 停止）")
        if not (root / "channel.xml").is_file():
            out.print("提示：目录里还没有 channel.xml，查看器会等它出现")

    try:
        preview_forever(root, port=port, on_ready=ready)
    except KeyboardInterrupt:
        out.print("已停止")
