"""The one exception tree of tvpusher.

Every error tvpusher raises on purpose derives from :class:`TvPusherError`, carries the
context needed to act on it (which source, item, target or config key), and prints as one
line an operator can read::

    TvPusherError
     ├── ConfigError            bad or missing configuration; ``.key`` names the setting
     ├── UsageError             a command given wrong arguments (no --reason, --until yesterday)
     ├── StoreError             the database cannot be opened or migrated
     ├── SourceError            one source failed this poll; ``.source``, ``.url``
     │    ├── FetchError        network failure, timeout, deadline, bad HTTP status
     │    ├── BodyTooLarge      the body (after decompression) passed the byte cap
     │    ├── ChallengeError    an anti-bot challenge or an error page served as content
     │    └── ParseError        the page does not have the shape the adapter expects
     ├── GateError              the sensitive-information gate cannot screen (bad keyword list…)
     ├── RenderError            an item cannot be drawn; ``.item``
     │    └── FontError         no configured font covers a character; ``.char``
     ├── ChannelError           the manifest cannot be built or fails its schema
 ├── PlayoutError           a page cannot become video, or a loop cannot be built or sent
     └── TargetError            a headend refused or lost a delivery; ``.target``
          └── VerifyError       what arrived differs from what was sent

"Nothing changed" is never an exception: sources return a listing flagged not-modified, and
stages return counts.
"""

from __future__ import annotations


class TvPusherError(Exception):
    """Base of every deliberate tvpusher error; ``str(err)`` is one readable line."""


class ConfigError(TvPusherError):
    def __init__(self, message: str, key: str | None = None) -> None:
        self.key = key
        super().__init__(f"{key}: {message}" if key else message)


class UsageError(TvPusherError):
    """The operator's arguments, not the configuration, are wrong: exit status 2 like a usage error."""

    def __init__(self, message: str, key: str | None = None) -> None:
        self.key = key
        super().__init__(f"{key}: {message}" if key else message)


class StoreError(TvPusherError):
    pass


class SourceError(TvPusherError):
    def __init__(self, message: str, *, source: str | None = None, url: str | None = None) -> None:
        self.source = source
        self.url = url
        where = " ".join(p for p in (f"[{source}]" if source else "", url or "") if p)
        super().__init__(f"{where}: {message}" if where else message)


class FetchError(SourceError):
    pass


class BodyTooLarge(SourceError):
    pass


class ChallengeError(SourceError):
    pass


class ParseError(SourceError):
    pass


class GateError(TvPusherError):
    pass


class RenderError(TvPusherError):
    def __init__(self, message: str, *, item: str | None = None) -> None:
        self.item = item
        super().__init__(f"item {item}: {message}" if item else message)


class FontError(RenderError):
    def __init__(self, message: str, *, char: str = "", item: str | None = None) -> None:
        self.char = char
        super().__init__(message, item=item)


class ChannelError(TvPusherError):
    pass


class PlayoutError(TvPusherError):
    """A page will not decode, a profile the PyAV build cannot encode, a disk that fills."""


class TargetError(TvPusherError):
    def __init__(self, message: str, *, target: str | None = None) -> None:
        self.target = target
        super().__init__(f"target {target}: {message}" if target else message)


class VerifyError(TargetError):
    pass


__all__ = [
    "BodyTooLarge",
    "ChallengeError",
    "ChannelError",
    "ConfigError",
    "FetchError",
    "FontError",
    "GateError",
    "ParseError",
    "PlayoutError",
    "RenderError",
    "SourceError",
    "StoreError",
    "TargetError",
    "TvPusherError",
    "UsageError",
    "VerifyError",
]
