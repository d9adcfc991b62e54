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
    from pusher.config.channels import Channel, Deployment
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


ChannelOpt = Annotated[
    str | None,
    typer.Option("--channel", envvar="PUSHER_CHANNEL", show_default=False,
                 help="The channel to act on, in a configuration of several ([channels.NAME]); also after the command."),
]  # fmt: skip

#: The channel named with ``--channel`` (or ``$PUSHER_CHANNEL``) for this invocation.
_selected: dict[str, str | None] = {"channel": None}


@app.callback()
def _root(
    show_version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")] = False,
    channel: ChannelOpt = None,
) -> None:
    """tvpusher: the government portal on the digital-TV channel (poll, screen, render, publish, push)."""
    _selected["channel"] = channel


JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]


def load(config: Path | None) -> Settings:
    """The configuration of the channel the command acts on (``--channel`` in a file of several),
    its passwords and tokens registered for masking before anything can print them (a database
    that cannot be opened names its URL)."""
    return load_channel(load_deployment(config)).settings


def load_deployment(config: Path | None) -> Deployment:
    """Every channel of the configuration, their secrets registered for masking."""
    from pusher.config.channels import load_channels
    from pusher.logs import register_secrets

    dep = load_channels(config)
    for c in dep.channels:
        register_secrets(c.settings)
    return dep


def selected_channel() -> str | None:
    return _selected["channel"]


def load_channel(dep: Deployment) -> Channel:
    """The channel named with ``--channel``; in a file of several, no name is a usage error
    that lists them (in a one-channel file ``--channel`` has nothing to choose)."""
    name = selected_channel()
    if not dep.several:
        if name is not None:
            raise UsageError(f"该配置只有一个频道（没有 [channels.名称] 表），不能用 --channel {name}")
        return dep.channels[0]
    if name is None:
        raise UsageError(f"该配置有 {len(dep.channels)} 个频道：{'、'.join(dep.names)}；请用 --channel 名称 指定一个")
    if name not in dep.names:
        raise UsageError(f"没有名为 {name} 的频道（现有：{'、'.join(dep.names)}）")
    return dep.get(name)


def _channel_first(argv: list[str]) -> list[str]:
    """``pusher status --channel X`` as ``pusher --channel X status``: the option belongs to the
    whole command line, wherever the operator wrote it (``--`` ends the options)."""
    moved: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            rest += argv[i:]
            break
        if a == "--channel" and i + 1 < len(argv):
            moved += argv[i : i + 2]
            i += 2
            continue
        (moved if a.startswith("--channel=") else rest).append(a)
        i += 1
    return moved + rest


def main(argv: list[str] | None = None) -> int:
    from pusher import logs

    # A command's warnings (a source that failed, an item skipped) reach stderr redacted, as the
    # daemon's do; without a handler Python's last resort printed them raw.
    logs.setup_cli()
    try:
        # Standalone mode: the CLI library reports usage errors itself and exits via SystemExit;
        # our own errors propagate out of it and are printed here as one line.
        args = _channel_first(list(sys.argv[1:] if argv is None else argv))
        app(args=args, prog_name="pusher")
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
