"""``pusher init``: the one command that may start an empty store where a workdir held one."""

from __future__ import annotations

from pusher.cli import ConfigOpt, app, load_channel, load_deployment, out, selected_channel
from pusher.daemon.channels import open_runtime


@app.command()
def init(config: ConfigOpt = None) -> None:
    """Create the store of a new installation, or an empty one where the database was lost
    (every channel of a configuration of several, or the one of --channel)."""
    dep = load_deployment(config)
    chosen = [load_channel(dep)] if not dep.several or selected_channel() is not None else list(dep.channels)
    for c in chosen:
        rt = open_runtime(c.settings, init=True)
        try:
            out.print((f"频道 {c.name}：" if c.name else "") + f"存储已就绪：{rt.store.safe_url}", markup=False)
        finally:
            rt.close()
