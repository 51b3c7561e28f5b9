"""ICC v4 matrix/TRC display profiles for the output spaces, written from their primaries (no files shipped)."""
from __future__ import annotations

import struct
from functools import lru_cache

import numpy as np

from ..colour import spaces

_TRC = {  # ICC parametricCurveType 3: Y = (aX + b)^g for X ≥ d, else cX
    "srgb": (2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045),
    "rec709": (1 / 0.45, 1 / 1.09929682680944, 0.09929682680944 / 1.09929682680944, 1 / 4.5, 0.081242858298635),
}
_NAMES = {"srgb": "rawlux sRGB", "display-p3": "rawlux Display P3", "rec2020": "rawlux Rec.2020",
          "adobe-rgb": "rawlux Adobe RGB (1998) compatible", "prophoto": "rawlux ProPhoto RGB compatible"}


_ICC_D50 = bytes.fromhex("0000F6D6" "00010000" "0000D32D")   # the PCS illuminant, exactly as ICC.1 states it


def _s15(v: float) -> bytes:
    return struct.pack(">i", int(round(v * 65536.0)))


def _xyz_type(xyz: np.ndarray) -> bytes:
    return b"XYZ " + b"\0" * 4 + b"".join(_s15(float(v)) for v in xyz)


def _mluc(text: str) -> bytes:
    s = text.encode("utf-16-be")
    return b"mluc" + b"\0" * 4 + struct.pack(">II", 1, 12) + b"enUS" + struct.pack(">II", len(s), 28) + s


def _para(tf: str) -> bytes:
    if tf in _TRC:
        g, a, b, c, d = _TRC[tf]
        return b"para" + b"\0" * 4 + struct.pack(">HH", 3, 0) + b"".join(_s15(v) for v in (g, a, b, c, d))
    if tf.startswith("gamma"):
        return b"para" + b"\0" * 4 + struct.pack(">HH", 0, 0) + _s15(float(tf[5:]))
    if tf == "linear":
        return b"para" + b"\0" * 4 + struct.pack(">HH", 0, 0) + _s15(1.0)
    raise ValueError(tf)


@lru_cache(maxsize=None)
def icc_profile(space: str, linear: bool = False) -> bytes:
    """The ICC profile bytes for an output space (``linear=True``: same primaries, linear TRC)."""
    white = spaces.SPACES[space][1]
    to_d50 = spaces.adaptation(white, spaces.D50_XY)
    m = to_d50 @ spaces.rgb_to_xyz(space)
    tf = "linear" if linear else spaces.transfer_of(space)
    name = _NAMES.get(space, space) + (" (linear)" if linear else "")
    trc = _para(tf)
    tags = [
        (b"desc", _mluc(name)),
        (b"cprt", _mluc("No copyright, use freely")),
        (b"wtpt", b"XYZ " + b"\0" * 4 + _ICC_D50),
        (b"rXYZ", _xyz_type(m[:, 0])), (b"gXYZ", _xyz_type(m[:, 1])), (b"bXYZ", _xyz_type(m[:, 2])),
        (b"rTRC", trc), (b"gTRC", trc), (b"bTRC", trc),
        (b"chad", b"sf32" + b"\0" * 4 + b"".join(_s15(float(v)) for v in to_d50.ravel())),
    ]
    table_len = 4 + 12 * len(tags)
    offset = 128 + table_len
    entries, blobs, seen = [], [], {}
    for sig, data in tags:
        if data in seen:                      # identical TRCs share one copy
            entries.append((sig, seen[data], len(data)))
            continue
        pad = (-offset) % 4
        if pad:
            blobs.append(b"\0" * pad)
            offset += pad
        seen[data] = offset
        entries.append((sig, offset, len(data)))
        blobs.append(data)
        offset += len(data)
    pad = (-offset) % 4
    blobs.append(b"\0" * pad)
    size = offset + pad
    header = bytearray(128)
    struct.pack_into(">I", header, 0, size)
    header[4:8] = b"\0\0\0\0"
    struct.pack_into(">I", header, 8, 0x04300000)
    header[12:16], header[16:20], header[20:24] = b"mntr", b"RGB ", b"XYZ "
    struct.pack_into(">6H", header, 24, 2026, 1, 1, 0, 0, 0)
    header[36:40] = b"acsp"
    struct.pack_into(">I", header, 64, 0)
    header[68:80] = _ICC_D50
    header[80:84] = b"rwlx"
    table = struct.pack(">I", len(tags)) + b"".join(s + struct.pack(">II", o, n) for s, o, n in entries)
    body = bytes(header) + table + b"".join(blobs)
    import hashlib
    # profile ID: MD5 over the profile with flags, intent and ID fields zeroed (they already are)
    pid = hashlib.md5(body).digest()
    return body[:84] + pid + body[100:]
