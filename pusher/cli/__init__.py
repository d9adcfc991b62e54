"""The ``pusher`` command: a thin skin over the library.

Each command module adds its commands to :data:`app` (one module per concern, imported at the
bottom). Errors reach the operator as one line on stderr and a non-zero exit status:
1 for an operational error, 2 for bad usage or configuration — never a traceback.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, TextIO, cast

import typer
from rich.console import Console

from pusher.errors import ConfigError, FontError, TvPusherError, UsageError

if TYPE_CHECKING:
    from pusher.config.settings import Settings

app = typer.Typer(
    name="pusher",
    help="tvpusher: the government portal on the digital-TV channel (poll, screen, render, publish, push).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class _Redacted:
    """The process's stdout or stderr as it is at each write (a test's capture, a pipe), with
    every secret masked: whatever a command prints — a portal's error, a table cell, JSON — passes
    :func:`pusher.logs.redact`, as every log line does (issue 15: a source URL's password went
    out through ``poll --json`` and ``source test``)."""

    def __init__(self, name: str) -> None:
        self._name = name

    @property
    def _stream(self) -> TextIO:
        stream: TextIO = getattr(sys, self._name)
        return stream

    def write(self, text: str) -> int:
        from pusher.logs import redact

        return self._stream.write(redact(text))

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:
        return getattr(self._stream, "encoding", None) or "utf-8"


# Piped output (cron mails, `| less`) has no terminal width: tables get a wide line instead of 80
# columns, and their cells wrap (never "…") when even that is too narrow.
_WIDTH = None if sys.stdout.isatty() else int(os.environ.get("COLUMNS") or 200)
# markup=False: portal text is printed as it is. A title or publisher such as "404 [/bold] not
# found" was read as console markup (MarkupError, and "[dead]" vanished from error lines).
# Styling is done with Text objects, never with markup in strings.
out = Console(file=cast("IO[str]", _Redacted("stdout")), highlight=False, soft_wrap=True, width=_WIDTH, markup=False)
err = Console(file=cast("IO[str]", _Redacted("stderr")), highlight=False, soft_wrap=True, markup=False)


def echo(text: str, *, nl: bool = True) -> None:
    """Data for a pipe (an export to ``-``, a report as CSV or JSON), as it is — no
    console wrapping or styling — but masked like everything else a command prints: an item's
    link keeps the ``user:password@`` of a source URL, and ``typer.echo`` wrote it out raw."""
    stream = _Redacted("stdout")
    stream.write(text + "\n" if nl else text)
    stream.flush()


ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", envvar="PUSHER_CONFIG", help="Configuration file (TOML); default $PUSHER_CONFIG.", show_default=False),
]


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            v = version("tvpusher")
        except PackageNotFoundError:  # run from a tree that was never installed
            v = "unknown"
        out.print(f"pusher (tvpusher) {v}", markup=False)
        raise typer.Exit()


@app.callback()
def _root(
    show_version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")] = False,
) -> None:
    """tvpusher: the government portal on the digital-TV channel (poll, screen, render, publish, push)."""


JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]


def load(config: Path | None) -> Settings:
    """The configuration, its passwords and tokens registered for masking before anything can
    print them (a database that cannot be opened names its URL)."""
    from pusher.config.settings import load_settings
    from pusher.logs import register_secrets

    settings = load_settings(config)
    register_secrets(settings)
    return settings


def main(argv: list[str] | None = None) -> int:
    from pusher import logs

    # A command's warnings (a source that failed, an item skipped) reach stderr redacted, as the
    # daemon's do; without a handler Python's last resort printed them raw.
    logs.setup_cli()
    try:
        # Standalone mode: the CLI library reports usage errors itself and exits via SystemExit;
        # our own errors propagate out of it and are printed here as one line.
        app(args=argv, prog_name="pusher")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except (ConfigError, FontError) as exc:
        # A font that cannot draw the channel is fixed in the configuration (or by installing
        # the font), not by retrying: the same exit status as any other configuration error.
        err.print(f"错误：配置：{exc}", markup=False)
        return 2
    except UsageError as exc:
        err.print(f"错误：{exc}", markup=False)
        return 2
    except TvPusherError as exc:
        err.print(f"错误：{exc}", markup=False)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


def run() -> None:  # pragma: no cover - console script entry
    sys.exit(main())


def _load_commands() -> None:
    """Every module of this package adds its commands to ``app`` when imported."""
    import importlib
    import pkgutil

    for mod in sorted(m.name for m in pkgutil.iter_modules(__path__)):
        importlib.import_module(f"{__name__}.{mod}")


_load_commands()
