"""Imported by the render pool's fork server only (``render_pool.PRELOAD``), never by the stage.

Importing it loads, once, what every worker would otherwise load on its first item: jieba's
dictionary (~1 s of CPU, the line breaker's word boundaries), and the character maps of the
default fonts (``fonts.coverage``: fontTools decoding a CJK font's cmap, ~0.2 s a font and a
worker). Workers fork from the server and share them. The fonts themselves are not opened here
(``coverage`` closes its file): a font file open across a fork would share its file offset
between the workers; each worker opens its own (``render_pool._init``).
"""

import contextlib

from renderers.fonts import coverage, find_font
from renderers.linebreak import word_starts
from renderers.settings import RenderSettings

word_starts("数字电视政务频道")

_defaults = RenderSettings()
for _spec in dict.fromkeys((*_defaults.fonts, *_defaults.bold_fonts)):
    with contextlib.suppress(Exception):  # a font that cannot be read is reported by the worker, as by the stage
        coverage(find_font(_spec))
