"""The ``[http]`` section: how the source adapters reach the portals."""

from __future__ import annotations

from pydantic import Field

from pusher.config.base import SettingsModel


class HttpSettings(SettingsModel):
    user_agent: str = "tvpusher/0.1 (+government TV channel publisher)"
    timeout: float = Field(default=15.0, gt=0)  # per request, whole request, not per socket read
    max_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    max_redirects: int = Field(default=5, ge=0)
    per_host: int = Field(default=2, ge=1)
    delay: float = Field(default=0.2, ge=0)  # between two requests to one host
