"""Page renderers: items, menus and alerts as TV page images.

``make_renderer(profile, settings, images=loader)`` is the entry point (listed as ``tv`` in
:data:`pusher.registry.RENDERERS`); see :mod:`renderers.tv`.
"""

from renderers.images import ImageLoader
from renderers.tv import PROFILES, TvRenderer, make_renderer

__all__ = ["PROFILES", "ImageLoader", "TvRenderer", "make_renderer"]
