"""The deployment files are correct as written, as far as this machine can tell without
systemd as PID 1 or Docker: the unit passes ``systemd-analyze verify``, the compose file and its
configuration are consistent and valid, the Dockerfile copies what exists."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pusher.config.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def _unit() -> configparser.RawConfigParser:
    cp = configparser.RawConfigParser(strict=False, interpolation=None)
    cp.optionxform = str  # type: ignore[assignment,method-assign]
    cp.read_string((DEPLOY / "tvpusher.service").read_text(encoding="utf-8"))
    return cp


def test_unit_is_a_notify_service_with_watchdog_and_a_dedicated_user(tmp_path: Path) -> None:
    svc = _unit()["Service"]
    assert svc["Type"] == "notify" and svc["NotifyAccess"] == "main"
    assert svc["WatchdogSec"] and svc["Restart"] == "on-failure"
    assert svc["User"] == "tvpusher" and svc["StateDirectory"] == "tvpusher" and svc["CacheDirectory"] == "tvpusher"
    assert svc["KillMode"] == "mixed" and svc["NoNewPrivileges"] == "yes" and svc["ProtectSystem"] == "strict"
    assert "AF_UNIX" in svc["RestrictAddressFamilies"], "the notify socket is a unix socket"
    assert "tvpusher" in (DEPLOY / "tvpusher.sysusers").read_text(encoding="utf-8")
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    # verify checks that ExecStart exists: point it at this Python.
    text = (DEPLOY / "tvpusher.service").read_text(encoding="utf-8").replace("/opt/tvpusher/bin/pusher", sys.executable)
    unit = tmp_path / "tvpusher.service"
    unit.write_text(text, encoding="utf-8")
    out = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "tvpusher.service" not in out.stderr, out.stderr


def test_compose_services_and_their_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    svc = compose["services"]
    assert set(svc) == {"db", "headend", "tvpusher"}
    tvp = svc["tvpusher"]
    assert (DEPLOY / tvp["build"]["context"] / tvp["build"]["dockerfile"]).is_file()
    assert tvp["depends_on"]["db"]["condition"] == "service_healthy"
    assert tvp["stop_signal"] == "SIGTERM" and tvp["stop_grace_period"]
    for volume in tvp["volumes"] + svc["headend"]["volumes"]:
        src = volume.split(":")[0]
        assert src in compose["volumes"] or (DEPLOY / src).exists(), src
    assert "tvpusher.htpasswd" in " ".join(svc["headend"]["command"])
    # The node configuration the compose file mounts is valid, with its secrets from the environment.
    monkeypatch.setenv("PUSHER_DATABASE", "postgresql://tvpusher:pw@db:5432/tvpusher")
    monkeypatch.setenv("HEADEND_PASSWORD", "pw")
    s = load_settings(DEPLOY / "tvpusher.compose.toml")
    assert s.channel.database_url.startswith("postgresql://")
    assert str(s.channel.workdir) == "/var/lib/tvpusher"
    assert s.daemon.health_address() == ("0.0.0.0", 9464)
    assert s.targets[0].kind == "webdav" and s.targets[0].options["url"].startswith("http://headend:8080/")
    assert "listen 8080;" in (DEPLOY / "nginx-webdav.conf").read_text(encoding="utf-8")
    for key in ("PUSHER_DATABASE", "HEADEND_PASSWORD"):
        assert key in tvp["environment"]


def test_dockerfile_copies_what_exists_and_runs_unprivileged() -> None:
    lines = [ln.strip() for ln in (DEPLOY / "Dockerfile").read_text(encoding="utf-8").splitlines()]
    copies = [ln.split()[1:-1] for ln in lines if ln.startswith("COPY ")]
    assert copies
    for sources in copies:
        for src in sources:
            assert (ROOT / src).exists(), src
    users = [ln.split()[1] for ln in lines if ln.startswith("USER ")]
    assert users and users[-1] != "root"
    assert any(ln.startswith("ENTRYPOINT") and '"pusher", "run"' in ln for ln in lines)
    assert any(ln.startswith("HEALTHCHECK") for ln in lines)
