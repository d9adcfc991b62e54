"""``pusher render --text-file F [--title T] [--profile sd|hd|fhd] --out DIR``: draw a plain-text
file as an item, writing the page PNGs and ``layout.json`` (every page's text lines)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Literal

import typer

from pusher.cli import ConfigOpt, app, load, out
from pusher.errors import TvPusherError, UsageError


@app.command("render")
def render_cmd(
    text_file: Annotated[
        Path, typer.Option("--text-file", help="Plain text, one paragraph a line (UTF-8 or GB18030).", exists=True, dir_okay=False)
    ],
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for page-NNN.png and layout.json.")],
    title: Annotated[str, typer.Option("--title", help="Item title; default: the file's first line.")] = "",
    profile: Annotated[Literal["sd", "hd", "fhd"], typer.Option("--profile", help="Screen profile.")] = "hd",
    url: Annotated[str, typer.Option("--url", help="Original URL, for the QR code (none without it).")] = "",
    channel: Annotated[str, typer.Option("--channel", help="Channel name in the header band.")] = "政务频道",
    column: Annotated[str, typer.Option("--column", help="Column name in the header band.")] = "",
    config: ConfigOpt = None,
) -> None:
    """Render a plain-text file as TV pages (PNG + layout.json) to check typography and line breaking."""
    from pusher.interfaces import PageContext
    from renderers import make_renderer
    from renderers.files import document_from_text, read_text, write_pages
    from renderers.settings import RenderSettings

    _make_folder(out_dir)  # before the drawing, which may take a while
    settings = RenderSettings()
    if config is not None:
        settings = load(config).render
    renderer = make_renderer(profile, settings)
    doc = document_from_text(read_text(text_file), title=title, url=url)
    pages = renderer.render_item(doc, PageContext(channel=channel, column=column, today=date.today()))
    try:
        layout = write_pages(pages, out_dir, renderer.profile)
    except OSError as exc:  # a full disk, a folder removed meanwhile: operational
        raise TvPusherError(f"cannot write the pages to {out_dir}: {exc.strerror or exc}") from None
    total = sum(len(p.png) for p in pages)
    out.print(f"{len(pages)} 页（{profile}），{total // 1024} KB，版面说明 {layout}", markup=False)


def _make_folder(folder: Path) -> None:
    """``--out`` must be (or become) a folder: a file there, or a place no folder can be made
    (``/proc/x``), is a bad argument (exit 2), said in one line."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise UsageError(f"{folder} is a file, not a folder", key="--out") from None
    except OSError as exc:
        raise UsageError(f"cannot make the folder {folder}: {exc.strerror or exc}", key="--out") from None
