"""``pusher render --text-file F [--title T] [--profile sd|hd|fhd] --out DIR``: draw a plain-text
file as an item, writing the page PNGs and ``layout.json`` (every page's text lines)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Literal

import typer

from pusher.cli import ConfigOpt, app, out


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

    settings = RenderSettings()
    if config is not None:
        from pusher.config.settings import load_settings

        settings = load_settings(config).render
    renderer = make_renderer(profile, settings)
    doc = document_from_text(read_text(text_file), title=title, url=url)
    pages = renderer.render_item(doc, PageContext(channel=channel, column=column, today=date.today()))
    layout = write_pages(pages, out_dir, renderer.profile)
    total = sum(len(p.png) for p in pages)
    out.print(f"{len(pages)} pages ({profile}), {total // 1024} KB, layout in {layout}", markup=False)
