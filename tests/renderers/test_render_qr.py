"""Issue 19: the title block's QR code is segno's symbol, module for module, at a quarter of
its cost (``renderers.qr`` scores the 8 data masks with numpy by segno's own rules)."""

from __future__ import annotations

import random
import string

import numpy as np
import pytest
import segno
from segno import encoder

from renderers import qr


def segno_modules(url: str) -> np.ndarray:
    return np.array(segno.make(url, error="m", micro=False, boost_error=False).matrix, dtype=np.uint8)


def urls() -> list[str]:
    rnd = random.Random(19)
    alphabet = string.ascii_letters + string.digits + "/._-?=&%"
    out = [f"https://www.{''.join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 400)))}" for _ in range(150)]
    out += [f"https://portal.example.cn/通知/{'公告' * k}.html" for k in range(1, 30, 3)]  # byte mode, multi-byte
    out += ["HTTP://EXAMPLE.CN/ABC-123", "12345678901234567890", "https://x.cn/"]  # alphanumeric and numeric segments
    return out


def test_modules_are_segnos_symbol() -> None:
    versions, masks = set(), set()
    for url in urls():
        want = segno_modules(url)
        got = qr.modules(url)
        assert got.shape == want.shape and (got == want).all(), url
        code = segno.make(url, error="m", micro=False, boost_error=False)
        versions.add(code.version)
        masks.add(code.mask)
    assert len(versions) >= 10 and masks == set(range(8))  # every mask picked, symbols with version information too


def random_symbols(rng: np.random.Generator, n: int, plant: bool) -> np.ndarray:
    s = (rng.random((8, n, n)) < rng.uniform(0.2, 0.8)).astype(np.uint8)
    if plant:  # finder-like runs 4 apart (1011101 twice, overlapping) and at the lines' ends
        run = np.frombuffer(bytes((1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 1)), np.uint8)
        for _ in range(6):
            k, r, c = rng.integers(0, 8), rng.integers(0, n), rng.integers(0, n - 11)
            if rng.random() < 0.5:
                s[k, r, c : c + 11] = run
            else:
                s[k, c : c + 11, r] = run
        s[0, 0, :7] = run[:7]
        s[1, :, -7:] = run[:7]
    return s


@pytest.mark.parametrize("plant", [False, True])
def test_penalties_are_segnos(plant: bool) -> None:
    rng = np.random.default_rng(19 + plant)
    for _ in range(60):
        n = int(21 + 4 * rng.integers(0, 12))
        symbols = random_symbols(rng, n, plant)
        want = [encoder.evaluate_mask(tuple(bytearray(row.tobytes()) for row in m), n, n) for m in symbols]
        assert qr.penalties(symbols) == want


def test_without_segnos_encoder_the_modules_come_from_make(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(qr, "_FAST", False)
    url = "https://portal.example.cn/zwgk/tzgg/t20261201_1.html"
    assert (qr.modules(url) == segno_modules(url)).all()
