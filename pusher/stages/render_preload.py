"""Imported by the render pool's fork server only (``render_pool.PRELOAD``), never by the stage.

Importing it loads, once, what every worker would otherwise load on its first item: jieba's
dictionary (~1 s of CPU, the line breaker's word boundaries). Workers fork from the server and
share it. Fonts are not opened here: a font file opened before a fork would share its file
offset between the workers; each worker opens its own (``render_pool._init``).
"""

from renderers.linebreak import word_starts

word_starts("数字电视政务频道")
