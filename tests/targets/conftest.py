"""Fixtures for the target tests: real nginx (WebDAV) and FTP servers on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from targetkit import NGINX, DeployNginx, Ftp, Nginx, make_cert


@pytest.fixture(scope="session")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[Nginx]:
    if not Path(NGINX).exists():
        pytest.skip("Debian nginx (nginx-full) is not installed")
    srv = Nginx(tmp_path / "nginx", tmp_path / "headend").start()
    yield srv
    srv.stop()


@pytest.fixture
def ftp_server(tmp_path: Path) -> Iterator[Ftp]:
    srv = Ftp(tmp_path / "ftproot").start()
    yield srv
    srv.stop()


@pytest.fixture
def deployed(tmp_path: Path) -> Iterator[DeployNginx]:
    """nginx with deploy/nginx-webdav.conf."""
    if not Path(NGINX).exists():
        pytest.skip("Debian nginx (nginx-full) is not installed")
    srv = DeployNginx(tmp_path / "nginx", tmp_path / "srv").start()
    yield srv
    srv.stop()
