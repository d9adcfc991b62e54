"""WebDAV with ``verify = "listing"``: no per-asset check request, yet a truncated asset on the
headend is caught by the listing before the manifest and sent again."""

from __future__ import annotations

from pathlib import Path

import pytest

from pusher.errors import ConfigError
from pusher.stages.outbox import deliver
from tests.targets.targetkit import PASSWORD, USER, Channel, Nginx, check_headend, folder_assets, folder_reader, make_runtime, page_bytes


def test_listing_verification_repairs_a_truncated_asset(nginx: Nginx, tmp_path: Path) -> None:
    opts = {"url": nginx.url + "ch/", "username": USER, "password": PASSWORD, "verify": "listing"}
    rt = make_runtime(tmp_path / "work", [{"name": "dav", "kind": "webdav", "options": opts}])
    ch = Channel(rt)
    ch.set("i1", page_bytes("a", 4000), page_bytes("b", 5000))
    ch.publish()
    [r] = deliver(rt, now_only_due=False)
    assert r.status == "done"
    checks = [q for q in nginx.requests() if q.method in ("HEAD", "GET") and "/assets/" in q.uri]
    assert not checks, "listing verification makes no per-asset request"
    assert any(q.method == "PROPFIND" for q in nginx.requests())
    root = nginx.root / "ch"
    check_headend(folder_reader(root), folder_assets(root), version=1)

    # The headend loses the end of one asset; the store still believes it is whole.
    victim = root / folder_assets(root)[0]
    victim.write_bytes(victim.read_bytes()[:100])
    ch.set("i2", page_bytes("c", 3000))
    ch.publish()
    [r] = deliver(rt, now_only_due=False)
    assert r.status == "done"
    check_headend(folder_reader(root), folder_assets(root), version=2)


def test_listing_verification_needs_the_precheck(tmp_path: Path) -> None:
    opts = {"url": "http://127.0.0.1:9/ch/", "verify": "listing", "precheck": False}
    with pytest.raises(ConfigError, match="precheck"):
        make_runtime(tmp_path, [{"name": "dav", "kind": "webdav", "options": opts}])
