"""The library's public surface is what ``pusher.__all__`` says, and all of it imports."""

from __future__ import annotations

import pusher


def test_all_names_resolve() -> None:
    for name in pusher.__all__:
        assert getattr(pusher, name) is not None, name


def test_every_error_derives_from_the_base() -> None:
    errors = [getattr(pusher, n) for n in pusher.__all__ if n.endswith(("Error", "TooLarge"))]
    assert errors and all(issubclass(e, pusher.TvPusherError) for e in errors)


def test_stages_are_reachable() -> None:
    assert {"poll_source", "screen_items", "render_items", "publish", "deliver"} <= set(pusher.stages.__all__)


def test_errors_import_without_the_renderer() -> None:
    # The package init is lazy: catching a pusher error must not load Pillow, fonts or parsers.
    import subprocess
    import sys

    code = "import pusher.errors, sys; assert 'PIL' not in sys.modules and 'renderers' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
