"""Page renderers: items, menus and alerts as TV page images.

``make_renderer(profile, settings, images=loader)`` is the entry point; see :mod:`renderers.tv`.
"""

from pusher.registry import RENDERERS, Options
from renderers.images import ImageLoader
from renderers.tv import PROFILES, TvRenderer, make_renderer


class TvOptions(Options):
    pass


RENDERERS.register("tv", TvOptions, "Pillow pages for SD/HD/FHD televisions")(TvRenderer)

__all__ = ["PROFILES", "ImageLoader", "TvRenderer", "make_renderer"]
