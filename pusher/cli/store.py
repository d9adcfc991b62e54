"""``pusher init``: the one command that may start an empty store where a workdir held one."""

from __future__ import annotations

from pusher.cli import ConfigOpt, app, out
from pusher.config.settings import load_settings
from pusher.runtime import Runtime


@app.command()
def init(config: ConfigOpt = None) -> None:
    """Create the store of a new installation, or an empty one where the database was lost."""
    rt = Runtime(load_settings(config), init=True)
    try:
        out.print(f"存储已就绪：{rt.store.safe_url}", markup=False)
    finally:
        rt.close()
