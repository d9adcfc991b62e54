"""Page ids a manifest may hold that name properties every JavaScript object has."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from viewer_channel import read_channel, write_atomic

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("to", ["constructor", "__proto__", "toString"])
def test_a_key_to_an_inherited_property_is_no_page(served: str, headend: Path, tv, to: str) -> None:
    # The ids match the id pattern, but no page has them: pages[id] must not find Object's
    # own members, or the viewer "shows" a page without an href and requests .../undefined.
    xml = read_channel(headend)
    xml, n = re.subn(rb'(<page id="home-1"[^>]*>)', rb'\1<key code="RIGHT" to="' + to.encode() + rb'"/>', xml, count=1)
    assert n == 1
    write_atomic(headend / "channel.xml", xml)
    requests: list[str] = []
    t = tv(served)
    t.page.on("request", lambda r: requests.append(r.url))
    t.shown("home-1", status="ok")
    t.press("ArrowRight")
    t.press("1")
    t.shown("col-notices-1")
    assert not [u for u in requests if "undefined" in u or to in u]
    assert t.page.evaluate("() => document.body.dataset.status") == "ok"
