"""Fixtures for the viewer tests: a headend folder, the preview server, headless Chromium."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from viewer_channel import Builder, base_spec

from pusher.web.preview import serve_preview

CHROMIUM = Path(os.environ.get("TVPUSHER_TEST_CHROMIUM", "/usr/bin/chromium"))  # override: only to check the skip
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "_artifacts" / "viewer"
POLL_MS = 150


@pytest.fixture(scope="session")
def builder() -> Builder:
    return Builder("hd")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"Debian chromium is not installed ({CHROMIUM})")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture
def headend(tmp_path: Path, builder: Builder) -> Path:
    folder = tmp_path / "headend"
    builder.write(folder, base_spec())
    return folder


@pytest.fixture
def served(headend: Path) -> Iterator[str]:
    server, url = serve_preview(headend)
    yield url
    server.close()


class Tv:
    """One viewer in one browser tab, driven like a remote control."""

    def __init__(self, page: Any, context: Any) -> None:
        self.page = page
        self.context = context
        self.errors: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)

    def press_code(self, code: int) -> None:
        """A raw key code, as a set-top box's remote sends it (HbbTV VK_RED is 403)."""
        cdp = self.context.new_cdp_session(self.page)
        for kind in ("rawKeyDown", "keyUp"):
            cdp.send("Input.dispatchKeyEvent", {"type": kind, "windowsVirtualKeyCode": code, "nativeVirtualKeyCode": code})
        cdp.detach()

    def data(self) -> dict[str, str]:
        return dict(self.page.evaluate("() => Object.assign({}, document.body.dataset)"))

    def wait(self, timeout_ms: int = 5000, **want: str) -> dict[str, str]:
        """Waits until every body data attribute has the wanted value."""
        try:
            self.page.wait_for_function(
                "want => Object.keys(want).every(k => document.body.dataset[k] === want[k])", arg=want, timeout=timeout_ms
            )
        except Exception as exc:
            raise AssertionError(f"viewer never reached {want}; state {self.data()}") from exc
        return self.data()

    def shown(self, page_id: str, timeout_ms: int = 5000, **more: str) -> dict[str, str]:
        return self.wait(timeout_ms, shown=page_id, page=page_id, **more)

    def src(self) -> str:
        return str(self.page.get_attribute("#page", "src"))

    def box(self, selector: str) -> dict[str, float]:
        b = self.page.locator(selector).bounding_box()
        assert b is not None, f"{selector} is not displayed"
        return dict(b)

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path


@pytest.fixture
def tv(browser: Any) -> Iterator[Callable[..., Tv]]:
    opened: list[Tv] = []

    def open_(url: str, *, width: int = 1280, height: int = 720, query: str = "") -> Tv:
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        t = Tv(page, context)
        opened.append(t)
        page.goto(f"{url}?poll={POLL_MS}{'&' + query if query else ''}")
        return t

    yield open_
    for t in opened:
        t.context.close()
    for t in opened:
        assert not t.errors, f"JavaScript errors in the viewer: {t.errors}"
