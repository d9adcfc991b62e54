"""The ``[gate]`` section of the configuration.

::

    [gate]
    keyword_files = ["keywords"]               # files or directories of *.txt, relative to the config
    allow = ["0579-87101077", "gkb1416@126.com"]  # the office's public contacts: pass untouched

    [gate.policy]                              # detector → rule; unnamed detectors keep the default
    landline = "mask"

Rules: ``off`` (detector not run), ``pass`` (reported only), ``mask`` (hidden on air, item goes
on), ``hold`` (item waits for ``pusher review``), ``mask+hold`` (hidden, and held: approving
``--mask`` airs the masked text), ``block`` (rejected until the item changes).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from pusher.config.base import SettingsModel

Rule = Literal["off", "pass", "mask", "hold", "mask+hold", "block"]

#: Marks block; personal numbers are masked and the item held; keywords and unknown e-mail
#: addresses hold; landlines (nearly always an office's published number) are only reported.
DEFAULT_POLICY: dict[str, Rule] = {
    "classification": "block",
    "id_card": "mask+hold",
    "bank_card": "mask+hold",
    "mobile": "mask+hold",
    "email": "hold",
    "landline": "pass",
    "keyword": "hold",
    # Issue 14: a private person's name beside personal data is masked 张* and the item held;
    # an attachment that cannot be read (or only in part) holds the item.
    "person_name": "mask+hold",
    "attachment": "hold",
    # The inspection's content checks: a serious typo or a wrong formulation is a single-item veto.
    "content": "hold",
}


class LeaderSettings(SettingsModel):
    """One of the county's leaders: near misses of the name, a title not theirs, or the title
    after ``until`` are content findings."""

    name: str
    title: str  # 县长, or several: "县委副书记、县长"
    since: date | None = None
    until: date | None = None


class TypoSettings(SettingsModel):
    """A typo or (with ``since``) a formulation outdated from that day, and what is right."""

    wrong: str = Field(min_length=1)
    right: str
    since: date | None = None


class ContentSettings(SettingsModel):
    shipped: bool = True  # the shipped list: state bodies' names, serious typos, outdated formulations
    terms: tuple[str, ...] = ()  # more proper nouns whose near misses are findings (the county's bodies)
    typos: tuple[TypoSettings, ...] = ()
    leaders: tuple[LeaderSettings, ...] = ()


class GateSettings(SettingsModel):
    enabled: bool = True
    keyword_files: tuple[Path, ...] = ()
    allow: tuple[str, ...] = ()  # public contacts (office phones, e-mails) that pass untouched
    policy: dict[str, Rule] = Field(default_factory=dict)
    content: ContentSettings = ContentSettings()

    @field_validator("policy")
    @classmethod
    def _known_detectors(cls, v: dict[str, Rule]) -> dict[str, Rule]:
        unknown = sorted(set(v) - set(DEFAULT_POLICY))
        if unknown:
            raise ValueError(f"unknown detector {unknown[0]!r} (known: {', '.join(sorted(DEFAULT_POLICY))})")
        return v

    def rules(self) -> dict[str, Rule]:
        """The effective policy: the defaults with this configuration's overrides."""
        return {**DEFAULT_POLICY, **self.policy}
