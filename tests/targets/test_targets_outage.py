"""A headend outage: nginx is stopped, ten publications happen (each adds an item and changes
another), the daemon's delivery rounds fail or wait; nginx comes back and one delivery brings
the newest version. Nothing is lost, and nothing travels twice: every asset was PUT successfully
exactly once, and the superseded versions' own pages never travelled at all.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

from sqlmodel import select
from targetkit import PASSWORD, USER, Channel, Nginx, check_headend, folder_assets, folder_reader, make_runtime, page_bytes

from pusher.stages.outbox import deliver, target_status
from pusher.store.models import Delivery


def test_outage_then_recovery(tmp_path: Path, nginx: Nginx) -> None:
    rt = make_runtime(
        tmp_path / "work", [{"name": "dav", "kind": "webdav", "options": {"url": nginx.url, "username": USER, "password": PASSWORD}}]
    )
    try:
        ch = Channel(rt)
        for i in range(5):
            ch.set(f"i{i}", page_bytes(f"i{i}"))
        ch.publish()
        assert deliver(rt)[0].status == "done"

        nginx.stop()
        statuses = []
        intermediate: set[str] = set()
        for n in range(1, 11):
            ch.set(f"n{n}", page_bytes(f"n{n}"), page_bytes(f"n{n}b"))
            ch.set("i0", page_bytes(f"i0 edition {n}"))  # changed ten times: only the last edition may travel
            if n < 10:
                intermediate.add(f"/assets/{hashlib.sha256(page_bytes(f'i0 edition {n}')).hexdigest()}.png")
            ch.publish()
            statuses += [r.status for r in deliver(rt)]  # the daemon's round after each publication
        assert "failed" in statuses and set(statuses) <= {"failed", "waiting"}
        [st] = target_status(rt)
        assert st.delivered_version == 1 and st.pending_version == 11 and st.versions_behind == 10 and st.last_error

        nginx.start()
        [r] = deliver(rt, now_only_due=False)  # or wait for the backoff: the next due round does the same
        assert r.status == "done" and r.version == 11, r.error
        check_headend(folder_reader(nginx.root), folder_assets(nginx.root), version=11)
        with rt.store.read() as db:
            states = {d.channel_version: d.state for d in db.exec(select(Delivery))}
        assert states == {1: "done", 11: "done", **{v: "superseded" for v in range(2, 11)}}
        assert deliver(rt, now_only_due=False)[0].status == "idle"

        puts = [(r.uri, r.status) for r in nginx.requests() if r.method == "PUT"]
        ok = Counter(uri for uri, status in puts if status in (200, 201, 204))
        assets_ok = {uri: n for uri, n in ok.items() if uri.startswith("/assets/")}
        assert all(n == 1 for n in assets_ok.values()), {u: n for u, n in assets_ok.items() if n > 1}
        on_headend = {f"/{a}" for a in folder_assets(nginx.root)}
        assert set(assets_ok) == on_headend  # within the grace period nothing was deleted
        assert not intermediate & set(assets_ok), "a superseded version's page travelled"
        assert ok["/.channel.xml.tmp"] == 2  # version 1, then version 11: nothing in between
    finally:
        rt.close()
