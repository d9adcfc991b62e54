"""The outbox when another process takes a target over in the middle of a delivery."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from targetkit import Channel, check_headend, folder_assets, folder_reader, page_bytes

from pusher.config.settings import parse_settings
from pusher.runtime import Runtime
from pusher.stages.outbox import deliver

# Another process on this host delivering with the same configuration: ``pusher retract`` or
# ``pusher push`` run by an operator beside the daemon.
OTHER = """
import json, sys
from pathlib import Path
from pusher.config.settings import parse_settings
from pusher.stages.outbox import deliver
from pusher.runtime import Runtime
rt = Runtime(parse_settings(json.loads(sys.argv[1]), Path(sys.argv[2])))
[r] = deliver(rt, now_only_due=False)
print(r.status, r.version)
rt.close()
"""


def test_a_delivery_overtaken_by_a_newer_one_does_not_publish_its_older_manifest(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    # A named node: the daemon and a CLI command of one host share the name in their leases.
    cfg: dict[str, Any] = {
        "channel": {"workdir": str(tmp_path / "work"), "profile": "sd"},
        "daemon": {"node": "tv-a"},
        "targets": [{"name": "drop", "kind": "folder", "options": {"path": str(drop)}}],
    }
    rt = Runtime(parse_settings(cfg, tmp_path))
    try:
        ch = Channel(rt)
        for i in range(3):
            ch.set(f"i{i}", page_bytes(f"i{i}a"), page_bytes(f"i{i}b"))
        ch.publish()  # version 1, picked up below

        real_target = rt.target
        overtaken = threading.Event()
        other: list[str] = []

        def target(name: str) -> Any:
            t = real_target(name)
            # The outbox stages the assets of a folder (issue 19) and puts those of others.
            method = "stage" if hasattr(t, "stage") else "put"
            real_put = getattr(t, method)

            def put(asset: str, data: bytes) -> None:
                real_put(asset, data)
                if not overtaken.is_set():
                    overtaken.set()
                    # While version 1 travels, the channel changes (an item retracted) and the
                    # operator's command delivers version 2 in full.
                    del ch.items["i2"]
                    ch.publish()
                    done = subprocess.run([sys.executable, "-c", OTHER, json.dumps(cfg), str(tmp_path)],
                                          capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
                    other.append(done.stdout.strip())

            setattr(t, method, put)
            return t

        rt.target = target  # type: ignore[method-assign]
        deliver(rt, now_only_due=False)
        assert other == ["done 2"], other
        version = check_headend(folder_reader(drop), folder_assets(drop))
        assert version == 2, "the overtaken delivery put its older manifest over the newer one"
    finally:
        rt.close()
