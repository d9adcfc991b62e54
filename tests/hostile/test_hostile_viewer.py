"""The reference viewer opened with a malformed query (issue 15, finding 16): ``?poll=%E0%A4%A``
threw URIError while the script started, so the viewer never polled. It must start, with the
default poll interval, and show that it waits for the channel."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pusher.web.preview import serve_preview

CHROMIUM = Path(os.environ.get("TVPUSHER_TEST_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"Debian chromium is not installed ({CHROMIUM})")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.mark.parametrize(
    ("query", "poll_ms"),
    [
        ("?poll=%E0%A4%A", 5000),
        ("?%E0%A4%A=1&poll=300", 300),
        ("?poll=300&digits=%", 300),
        ("?poll=%ZZ&&=&%=%", 5000),
    ],
)
def test_viewer_starts_whatever_the_query(browser: Any, tmp_path: Path, query: str, poll_ms: int) -> None:
    server, url = serve_preview(tmp_path)  # an empty headend: the viewer waits for channel.xml
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(url + query)
        page.wait_for_function("() => window.tvViewer !== undefined", timeout=5000)
        assert page.evaluate("() => window.tvViewer.pollMs") == poll_ms
        page.wait_for_function("() => document.getElementById('status').textContent.includes('等待频道数据')", timeout=5000)
    finally:
        context.close()
        server.close()
    assert not errors, errors
