"""Just enough H.264 bitstream surgery to repeat a "nothing changed" P-frame.

x264 spends as long on each all-skip P-frame of a still as a real encoder spends on motion,
and a 2 s GOP has 49 of them. Once the picture has settled, those frames differ only in
``frame_num`` (x264 uses ``pic_order_cnt_type`` 2 without B-frames, so picture order comes
from ``frame_num`` and there is no POC field in the slice header). ``frame_num`` is a
fixed-width field after three Exp-Golomb codes, so rewriting it never moves the bits after
it, and we can stamp out the rest of the GOP from one settled frame.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pusher.errors import PlayoutError

NAL_SLICE, NAL_IDR, NAL_SPS, NAL_AUD = 1, 5, 7, 9
_START = re.compile(b"\x00\x00\x01")
_HIGH_PROFILES = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135}


def split_nals(au: bytes) -> list[bytes]:
    """NAL units (without start codes) of one Annex B access unit."""
    starts = [m.end() for m in _START.finditer(au)]
    nals = []
    for i, s in enumerate(starts):
        end = starts[i + 1] - 3 if i + 1 < len(starts) else len(au)
        nals.append(au[s:end].rstrip(b"\x00") if i + 1 < len(starts) else au[s:end])
    return nals


def join_nals(nals: list[bytes]) -> bytes:
    return b"".join(b"\x00\x00\x00\x01" + n for n in nals)


def unescape(nal: bytes) -> bytes:
    return nal.replace(b"\x00\x00\x03", b"\x00\x00")


def escape(rbsp: bytes) -> bytes:
    out = bytearray()
    zeros = 0
    for b in rbsp:
        if zeros >= 2 and b <= 3:
            out.append(3)
            zeros = 0
        out.append(b)
        zeros = zeros + 1 if b == 0 else 0
    return bytes(out)


class _Bits:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def u(self, n: int) -> int:
        v = 0
        for _ in range(n):
            byte = self.data[self.pos >> 3]
            v = (v << 1) | ((byte >> (7 - (self.pos & 7))) & 1)
            self.pos += 1
        return v

    def ue(self) -> int:
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
            if zeros > 31:
                raise PlayoutError("H.264: malformed Exp-Golomb code")
        return (1 << zeros) - 1 + self.u(zeros)


@dataclass(frozen=True)
class SpsInfo:
    log2_max_frame_num: int
    poc_type: int
    separate_colour_plane: bool


def parse_sps(nal: bytes) -> SpsInfo:
    r = _Bits(unescape(nal)[1:])
    profile_idc = r.u(8)
    r.u(16)  # constraint flags, level_idc
    r.ue()  # seq_parameter_set_id
    separate = False
    if profile_idc in _HIGH_PROFILES:
        if r.ue() == 3:  # chroma_format_idc
            separate = bool(r.u(1))
        r.ue()
        r.ue()  # bit depths
        r.u(1)  # qpprime_y_zero_transform_bypass
        if r.u(1):
            raise PlayoutError("H.264: SPS with scaling matrices is not supported for P-frame repetition")
    return SpsInfo(r.ue() + 4, r.ue(), separate)


def _frame_num_offset(slice_rbsp: bytes, sps: SpsInfo) -> int:
    r = _Bits(slice_rbsp[1:])  # past the NAL header byte
    r.ue()  # first_mb_in_slice
    r.ue()  # slice_type
    r.ue()  # pic_parameter_set_id
    if sps.separate_colour_plane:
        r.u(2)
    return 8 + r.pos


def with_frame_num(au: bytes, frame_num: int, sps: SpsInfo) -> bytes:
    """The access unit ``au`` (AUD + one or more P slices) re-stamped as ``frame_num``."""
    out = []
    for nal in split_nals(au):
        if nal[0] & 0x1F == NAL_SLICE:
            rbsp = bytearray(unescape(nal))
            pos = _frame_num_offset(bytes(rbsp), sps)
            value = frame_num % (1 << sps.log2_max_frame_num)
            for i in range(sps.log2_max_frame_num):
                bit = (value >> (sps.log2_max_frame_num - 1 - i)) & 1
                byte, shift = (pos + i) >> 3, 7 - ((pos + i) & 7)
                rbsp[byte] = (rbsp[byte] & ~(1 << shift)) | (bit << shift)
            nal = escape(bytes(rbsp))
        out.append(nal)
    return join_nals(out)


def frame_num_of(au: bytes, sps: SpsInfo) -> int:
    for nal in split_nals(au):
        if nal[0] & 0x1F in (NAL_SLICE, NAL_IDR):
            rbsp = unescape(nal)
            r = _Bits(rbsp)
            r.pos = _frame_num_offset(rbsp, sps)
            return r.u(sps.log2_max_frame_num)
    raise PlayoutError("H.264: access unit without a slice")


def sps_of(au: bytes) -> SpsInfo:
    for nal in split_nals(au):
        if nal[0] & 0x1F == NAL_SPS:
            return parse_sps(nal)
    raise PlayoutError("H.264: keyframe without an SPS (is repeat-headers off?)")
