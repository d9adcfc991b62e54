"""Page renderers: items, menus and alerts as TV page images."""

from pusher.registry import RENDERERS, Options

from .tv import PROFILES, TvRenderer, make_renderer


class TvOptions(Options):
    pass


RENDERERS.register("tv", TvOptions, "Pillow pages for SD/HD/FHD televisions")(TvRenderer)

__all__ = ["PROFILES", "TvRenderer", "make_renderer"]
