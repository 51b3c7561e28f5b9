"""Ultra HDR (gain-map) JPEG: write and read.

An Ultra HDR JPEG is an ordinary SDR JPEG (the *base*, what every viewer shows) followed by a second, small JPEG
(the *gain map*) that HDR-capable viewers use to brighten the highlights back. Layout written here, as current
writers do (Android "Ultra HDR Image Format v1.1", Adobe "Gain Map Specification 1.0", ISO/TS 21496-1)::

    primary JPEG  SOI, [JFIF APP0], APP1 EXIF, APP1 XMP (hdrgm:Version + Container:Directory: a Primary and a
                  GainMap item, Item:Length = size of the gain-map JPEG), APP2 ISO 21496-1 (versions only),
                  APP2 MPF (Multi-Picture index: where both images start and how long they are), APP2 ICC, ...
                  the normal SDR render's JPEG stream, EOI
    gain map JPEG SOI, [JFIF APP0], APP1 XMP (hdrgm: GainMapMin/Max, Gamma, OffsetSDR/HDR, HDRCapacityMin/Max,
                  BaseRenditionIsHDR=False), APP2 ISO 21496-1 (all values as fractions), the map's stream, EOI

The reconstruction a reader applies (all log2 values; ``g`` the map value in 0..1, ``boost`` the display's
headroom over SDR white)::

    L   = GainMapMin·(1 − g^(1/Gamma)) + GainMapMax·g^(1/Gamma)
    w   = clamp((log2 boost − HDRCapacityMin) / (HDRCapacityMax − HDRCapacityMin), 0, 1)
    HDR = (SDR_linear + OffsetSDR) · 2^(L·w) − OffsetHDR

The HDR rendition encoded (:func:`hdr_rendition`) is, by default, the SDR picture with its highlights back: equal
to the SDR render (look included) below a knee, and reaching the scene-linear light as it entered the ``tone``
stage (kept by ``develop(..., keep_scene_linear=True)``; 1.0 = SDR white) in the highlights, capped at
``2^headroom``; ``rendition="scene"`` encodes the scene-linear render itself. The gain map is computed against the
base as the reference decoder (libultrahdr) decodes it, so the reconstruction matches the rendition up to the
map's own coding.
"""
from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, ParameterError

HDRGM_NS = "http://ns.adobe.com/hdr-gain-map/1.0/"
CONTAINER_NS = "http://ns.google.com/photos/1.0/container/"
ITEM_NS = "http://ns.google.com/photos/1.0/container/item/"
XMP_SIG = b"http://ns.adobe.com/xap/1.0/\0"
ISO_SIG = b"urn:iso:std:iso:ts:21496:-1\0"
MPF_SIG = b"MPF\0"
ICC_SIG = b"ICC_PROFILE\0"

OFFSET = 1.0 / 64.0          # OffsetSDR = OffsetHDR: keeps log ratios finite in the blacks
MAX_HEADROOM = 4.0           # stops above SDR white at most (the cap; a 16× peak)
MIN_HEADROOM = 1.0           # stops: a scene without highlights still gets a 2× rendition
DENOM = 1_000_000            # denominator of every ISO 21496-1 fraction written (exact decimals in the XMP)
SPACES_OK = ("srgb", "display-p3")   # base spaces with the sRGB transfer that gain-map readers assume
MAP_MODES = ("rgb", "mono")


def _q(x: float) -> float:
    """A value as the fraction n/DENOM that the ISO segment stores (so XMP and ISO agree exactly)."""
    return round(float(x) * DENOM) / DENOM


@dataclass
class GainMapMetadata:
    """Gain-map metadata (log2 units like ``hdrgm``; one value per channel)."""

    gain_min: tuple[float, float, float]
    gain_max: tuple[float, float, float]
    gamma: tuple[float, float, float] = (1.0, 1.0, 1.0)
    offset_sdr: tuple[float, float, float] = (OFFSET, OFFSET, OFFSET)
    offset_hdr: tuple[float, float, float] = (OFFSET, OFFSET, OFFSET)
    capacity_min: float = 0.0
    capacity_max: float = 1.0
    base_is_hdr: bool = False
    use_base_colour_space: bool = True
    version: str = "1.0"
    extra: dict[str, Any] = field(default_factory=dict)

    def validated(self, source: str | None = None) -> "GainMapMetadata":
        """Itself, or an InputError when a reader could not use it (non-finite values, gamma ≤ 0, min > max)."""
        vals = [*self.gain_min, *self.gain_max, *self.gamma, *self.offset_sdr, *self.offset_hdr,
                self.capacity_min, self.capacity_max]
        if not all(np.isfinite(v) for v in vals):
            raise InputError("gain-map metadata holds a non-finite value", path=source)
        if min(self.gamma) <= 0:
            raise InputError(f"gain-map Gamma {min(self.gamma):g} must be above 0", path=source)
        if any(lo > hi for lo, hi in zip(self.gain_min, self.gain_max)):
            raise InputError("gain-map GainMapMin is above GainMapMax", path=source)
        if any(abs(v) > 64 for v in vals):
            raise InputError("gain-map metadata is out of range (a gain above 2^64)", path=source)
        return self

    def quantised(self) -> "GainMapMetadata":
        t = lambda v: tuple(_q(x) for x in v)  # noqa: E731
        return GainMapMetadata(t(self.gain_min), t(self.gain_max), t(self.gamma), t(self.offset_sdr),
                               t(self.offset_hdr), _q(self.capacity_min), _q(self.capacity_max),
                               self.base_is_hdr, self.use_base_colour_space, self.version)

    # ------------------------------------------------------------------ ISO/TS 21496-1 (big-endian, in APP2)
    def to_iso(self) -> bytes:
        """The ISO 21496-1 metadata payload: u16 minimum_version, u16 writer_version, u8 flags (bit 7
        multichannel, bit 6 use base colour space, bit 2 backward direction, bit 3 common denominator: not
        used here), headrooms as u32 n/d, then per channel: gain min (i32/u32), gain max (i32/u32), gamma
        (u32/u32), base offset (i32/u32), alternate offset (i32/u32)."""
        chans = [self.gain_min, self.gain_max, self.gamma, self.offset_sdr, self.offset_hdr]
        multi = any(len(set(v)) > 1 for v in chans)
        flags = (0x80 if multi else 0) | (0x40 if self.use_base_colour_space else 0) | (0x04 if self.base_is_hdr else 0)
        out = bytearray(struct.pack(">HHB", 0, 0, flags))

        def u(x: float) -> bytes:
            n = round(x * DENOM)
            if not 0 <= n < 2 ** 32:
                raise ParameterError(f"gain-map value {x} cannot be stored as an unsigned fraction")
            return struct.pack(">II", n, DENOM)

        def s(x: float) -> bytes:
            n = round(x * DENOM)
            if not -2 ** 31 <= n < 2 ** 31:
                raise ParameterError(f"gain-map value {x} cannot be stored as a signed fraction")
            return struct.pack(">iI", n, DENOM)
        base_h, alt_h = (self.capacity_max, self.capacity_min) if self.base_is_hdr else (self.capacity_min, self.capacity_max)
        out += u(base_h) + u(alt_h)
        for c in range(3 if multi else 1):
            out += s(self.gain_min[c]) + s(self.gain_max[c]) + u(self.gamma[c]) + s(self.offset_sdr[c]) + s(self.offset_hdr[c])
        return bytes(out)

    @classmethod
    def from_iso(cls, data: bytes) -> "GainMapMetadata":
        """Parse an ISO 21496-1 payload (both the full-fraction and the common-denominator forms)."""
        try:
            min_version, _writer, flags = struct.unpack_from(">HHB", data, 0)
            if min_version != 0:
                raise InputError(f"ISO 21496-1 gain-map metadata of version {min_version} is not supported")
            pos = 5
            nch = 3 if flags & 0x80 else 1
            common = bool(flags & 0x08)
            vals: list[float] = []
            if common:
                d = struct.unpack_from(">I", data, pos)[0]
                pos += 4
                bh, ah = struct.unpack_from(">II", data, pos)
                pos += 8
                vals = [bh / d, ah / d]
                for _ in range(nch):
                    mn, mx, ga, ob, oa = struct.unpack_from(">iiIii", data, pos)
                    pos += 20
                    vals += [mn / d, mx / d, ga / d, ob / d, oa / d]
            else:
                bn, bd, an, ad = struct.unpack_from(">IIII", data, pos)
                pos += 16
                vals = [bn / bd, an / ad]
                for _ in range(nch):
                    r = struct.unpack_from(">iIiIIIiIiI", data, pos)
                    pos += 40
                    vals += [r[0] / r[1], r[2] / r[3], r[4] / r[5], r[6] / r[7], r[8] / r[9]]
        except (struct.error, ZeroDivisionError) as e:
            raise InputError(f"truncated or invalid ISO 21496-1 gain-map metadata ({e})") from None
        per = [vals[2 + 5 * c: 7 + 5 * c] for c in range(nch)]
        if nch == 1:
            per = per * 3
        col = lambda i: tuple(float(p[i]) for p in per)  # noqa: E731
        backward = bool(flags & 0x04)
        cmin, cmax = (vals[1], vals[0]) if backward else (vals[0], vals[1])
        return cls(col(0), col(1), col(2), col(3), col(4), float(cmin), float(cmax), backward, bool(flags & 0x40))

    # ------------------------------------------------------------------ Adobe hdrgm XMP
    def to_xmp(self) -> bytes:
        def f(x: float) -> str:
            return f"{x:.6f}".rstrip("0").rstrip(".") if x != int(x) else str(int(x))

        def attr(name: str, v: tuple[float, float, float]) -> str:
            return f' hdrgm:{name}="{f(v[0])}"' if len(set(v)) == 1 else ""

        def seq(name: str, v: tuple[float, float, float]) -> str:
            if len(set(v)) == 1:
                return ""
            lis = "".join(f"<rdf:li>{f(x)}</rdf:li>" for x in v)
            return f"\n   <hdrgm:{name}><rdf:Seq>{lis}</rdf:Seq></hdrgm:{name}>"
        names = [("GainMapMin", self.gain_min), ("GainMapMax", self.gain_max), ("Gamma", self.gamma),
                 ("OffsetSDR", self.offset_sdr), ("OffsetHDR", self.offset_hdr)]
        attrs = "".join(attr(n, v) for n, v in names)
        elems = "".join(seq(n, v) for n, v in names)
        desc = (f'  <rdf:Description rdf:about="" xmlns:hdrgm="{HDRGM_NS}" hdrgm:Version="{self.version}"{attrs}'
                f' hdrgm:HDRCapacityMin="{f(self.capacity_min)}" hdrgm:HDRCapacityMax="{f(self.capacity_max)}"'
                f' hdrgm:BaseRenditionIsHDR="{"True" if self.base_is_hdr else "False"}"')
        desc += f">{elems}\n  </rdf:Description>" if elems else "/>"
        return _xmp_wrap(desc)

    @classmethod
    def from_xmp(cls, xmp: bytes | str) -> "GainMapMetadata":
        try:
            return cls._from_xmp(xmp)
        except (ValueError, TypeError) as e:
            raise InputError(f"unreadable hdrgm value in the gain map's XMP ({e})") from None

    @classmethod
    def _from_xmp(cls, xmp: bytes | str) -> "GainMapMetadata":
        text = xmp.decode("utf-8", "replace") if isinstance(xmp, bytes) else xmp
        vals = _hdrgm_values(text)
        if "Version" not in vals:
            raise InputError("the gain map's XMP has no hdrgm:Version")

        def trip(name: str, default: float) -> tuple[float, float, float]:
            v = vals.get(name)
            if v is None:
                return (default,) * 3
            v = [float(x) for x in (v if isinstance(v, list) else [v])]
            return tuple((v * 3)[:3]) if len(v) == 1 else tuple(v[:3])  # type: ignore[return-value]
        gmax = trip("GainMapMax", float("nan"))
        if any(np.isnan(gmax)):
            raise InputError("the gain map's XMP has no hdrgm:GainMapMax")
        cap_max = float(vals.get("HDRCapacityMax", max(gmax)))  # type: ignore[arg-type]
        return cls(trip("GainMapMin", 0.0), gmax, trip("Gamma", 1.0), trip("OffsetSDR", OFFSET),
                   trip("OffsetHDR", OFFSET), float(vals.get("HDRCapacityMin", 0.0)), cap_max,  # type: ignore[arg-type]
                   str(vals.get("BaseRenditionIsHDR", "False")).lower() == "true", True, str(vals["Version"]))


def _hdrgm_values(text: str) -> dict[str, Any]:
    """hdrgm:NAME values of an XMP packet: attributes (hdrgm:X="v") and element forms (with rdf:Seq lists)."""
    out: dict[str, Any] = {}
    for m in re.finditer(r'hdrgm:(\w+)\s*=\s*"([^"]*)"', text):
        out[m.group(1)] = m.group(2)
    for m in re.finditer(r"<hdrgm:(\w+)>(.*?)</hdrgm:\1>", text, re.S):
        lis = re.findall(r"<rdf:li>([^<]*)</rdf:li>", m.group(2))
        out[m.group(1)] = lis if lis else m.group(2).strip()
    return out


def _xmp_wrap(description: str) -> bytes:
    return (f'<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
            f' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n{description}\n </rdf:RDF>\n'
            f'</x:xmpmeta>\n<?xpacket end="w"?>').encode("utf-8")


def primary_xmp(gain_map_length: int, fields: str = "", namespaces: str = "") -> bytes:
    """The primary image's XMP: hdrgm:Version and the GContainer directory (Primary + GainMap items), plus any
    other ``fields`` (XML elements of the same rdf:Description, e.g. rawlux's recipe) and their ``namespaces``."""
    return _xmp_wrap(
        f'  <rdf:Description rdf:about="" xmlns:hdrgm="{HDRGM_NS}" xmlns:Container="{CONTAINER_NS}"'
        f' xmlns:Item="{ITEM_NS}"{namespaces} hdrgm:Version="1.0">\n'
        f'   <Container:Directory>\n    <rdf:Seq>\n'
        f'     <rdf:li rdf:parseType="Resource">\n'
        f'      <Container:Item Item:Semantic="Primary" Item:Mime="image/jpeg"/>\n     </rdf:li>\n'
        f'     <rdf:li rdf:parseType="Resource">\n'
        f'      <Container:Item Item:Semantic="GainMap" Item:Mime="image/jpeg" Item:Length="{int(gain_map_length)}"/>\n'
        f'     </rdf:li>\n    </rdf:Seq>\n   </Container:Directory>{fields}\n  </rdf:Description>')


# ---------------------------------------------------------------------------------------------- JPEG bytes

def _segment(marker: int, payload: bytes) -> bytes:
    if len(payload) + 2 > 0xFFFF:
        from ..errors import OutputError
        raise OutputError(f"metadata segment too large for JPEG ({len(payload)} bytes)")
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def segments(data: bytes) -> list[tuple[int, int, int]]:
    """(marker, payload start, payload end) of the header segments of a JPEG, up to its first SOS."""
    if data[:2] != b"\xff\xd8":
        raise InputError("not a JPEG (no SOI marker)")
    out = []
    i = 2
    n = len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            raise InputError(f"corrupt JPEG: no marker at byte {i}")
        m = data[i + 1]
        if m == 0xFF:
            i += 1
            continue
        if m in (0x01, 0xD8) or 0xD0 <= m <= 0xD7:
            i += 2
            continue
        if m in (0xDA, 0xD9):
            break
        length = struct.unpack_from(">H", data, i + 2)[0]
        if length < 2 or i + 2 + length > n:
            raise InputError(f"corrupt JPEG: segment 0x{m:02X} at byte {i} runs past the end")
        out.append((m, i + 4, i + 2 + length))
        i += 2 + length
    return out


def _header_end(jpg: bytes) -> int:
    """Where new APPn segments go: after SOI, and after a JFIF APP0 when it is first."""
    if jpg[2:4] == b"\xff\xe0":
        return 4 + struct.unpack_from(">H", jpg, 4)[0]
    return 2


def _mpf(primary_size: int, map_size: int, map_offset: int) -> bytes:
    """The MPF APP2 payload (CIPA DC-007, big-endian): an index IFD with MPFVersion, NumberOfImages and two
    16-byte MP entries (primary: baseline MP primary image; second: the gain map, offset counted from the
    byte after ``MPF\\0``)."""
    entries_off = 8 + 2 + 3 * 12 + 4
    ifd = struct.pack(">2sHI", b"MM", 0x2A, 8) + struct.pack(">H", 3)
    ifd += struct.pack(">HHI4s", 0xB000, 7, 4, b"0100")
    ifd += struct.pack(">HHII", 0xB001, 4, 1, 2)
    ifd += struct.pack(">HHII", 0xB002, 7, 32, entries_off)
    ifd += struct.pack(">I", 0)
    ifd += struct.pack(">IIIHH", 0x030000, primary_size, 0, 0, 0)
    ifd += struct.pack(">IIIHH", 0x000000, map_size, map_offset, 0, 0)
    return MPF_SIG + ifd


def assemble(base_jpeg: bytes, map_jpeg: bytes, meta: GainMapMetadata, *, exif: bytes | None, icc: bytes | None,
             xmp_fields: str = "", xmp_namespaces: str = "") -> bytes:
    """The Ultra HDR file: ``base_jpeg`` (an encoder's plain output) with the metadata segments, then the gain map."""
    hdr_map = map_jpeg[:_header_end(map_jpeg)] + _segment(0xE1, XMP_SIG + meta.to_xmp()) \
        + _segment(0xE2, ISO_SIG + meta.to_iso()) + map_jpeg[_header_end(map_jpeg):]
    head = []
    if exif:
        head.append(_segment(0xE1, exif if exif.startswith(b"Exif\0\0") else b"Exif\0\0" + exif))
    xmp = primary_xmp(len(hdr_map), xmp_fields, xmp_namespaces)
    if len(xmp) > 65000:                   # one APP1 segment: keep the gain-map directory, drop rawlux's fields
        xmp = primary_xmp(len(hdr_map))
    head.append(_segment(0xE1, XMP_SIG + xmp))
    head.append(_segment(0xE2, ISO_SIG + struct.pack(">HH", 0, 0)))
    pre = base_jpeg[:_header_end(base_jpeg)] + b"".join(head)
    mpf_at = len(pre)                      # the APP2 marker of the MPF segment
    mpf_len = len(_segment(0xE2, _mpf(0, 0, 0)))
    tail = b""
    if icc:
        size = 65519
        parts = [icc[i:i + size] for i in range(0, len(icc), size)]
        tail = b"".join(_segment(0xE2, ICC_SIG + bytes([i, len(parts)]) + p) for i, p in enumerate(parts, 1))
    rest = base_jpeg[_header_end(base_jpeg):]
    primary_size = mpf_at + mpf_len + len(tail) + len(rest)
    tiff_at = mpf_at + 4 + len(MPF_SIG)    # MPF offsets count from the byte after "MPF\0"
    mpf = _segment(0xE2, _mpf(primary_size, len(hdr_map), primary_size - tiff_at))
    assert len(mpf) == mpf_len
    return pre + mpf + tail + rest + hdr_map


# ---------------------------------------------------------------------------------------------- maths

def _to_output_linear(scene: np.ndarray, space: str) -> np.ndarray:
    """Working-space scene-linear → linear ``space`` primaries, negatives brought in along the hue line (the same
    smooth compression the output stage uses for scene-referred sources), unclipped above 1."""
    import cv2

    from ..colour import spaces
    m = spaces.rgb_to_rgb(spaces.WORKING, space).astype(np.float32)
    x = cv2.transform(np.ascontiguousarray(scene, np.float32), m)
    ach = x.max(axis=2, keepdims=True)
    safe = np.maximum(ach, np.float32(1e-9))
    d = (ach - x) / safe
    e = np.maximum(d - np.float32(0.8), 0)
    d2 = np.where(d > 0.8, np.float32(0.8) + e / (np.float32(1.0) + e / np.float32(0.4)), d)
    out = np.where(ach > 1e-9, ach - d2 * ach, 0.0).astype(np.float32)
    return np.maximum(out, 0.0, out=out)


def default_headroom(hdr: np.ndarray) -> float:
    """Stops above SDR white the scene needs: log2 of the 99.9th percentile of each pixel's brightest channel,
    between MIN_HEADROOM and MAX_HEADROOM."""
    mx = hdr[::2, ::2].max(axis=2)
    p = float(np.percentile(mx, 99.9)) if mx.size else 1.0
    return float(np.clip(np.log2(max(p, 1e-6)), MIN_HEADROOM, MAX_HEADROOM))


def look_ops(recipe: Any) -> tuple[tuple[str, Any], ...]:
    """The look's global colour ingredients (balance … lut) that the grade stage renders for ``recipe``."""
    if recipe is None:
        return ()
    try:
        from ..looks.ingredients import COLOUR_STAGES
    except ImportError:  # pragma: no cover - looks moved
        return ()
    params = getattr(recipe, "params", {})
    ops = []
    for n in COLOUR_STAGES:                 # the same test the stages apply (DeferredStage.applies)
        p = params.get(n)
        if p is not None and getattr(p, "enabled", True) and not p.is_identity():
            ops.append((n, p))
    return tuple(ops)


def _look_colour(x: np.ndarray, recipe: Any) -> np.ndarray:
    """The look's global colour part (balance, curve, saturation, hsl, mixer, split, lut) on HDR display-linear
    working-space colour (… × 3) without clipping above SDR white: each pixel is scaled so its brightest channel
    is at most 1, graded through the same baked table and tetrahedral lookup the SDR render uses, and scaled back."""
    ops = look_ops(recipe)
    if not ops or x.size == 0:
        return x
    from ..looks.ingredients.kernels import apply_tetra
    from ..looks.ingredients.grade import bake_padded
    g = getattr(recipe, "params", {}).get("grade")
    size = int(getattr(g, "lut_size", 33) or 33)
    flat = np.ascontiguousarray(x, np.float32).reshape(-1, 3)
    m = np.maximum(flat.max(axis=1, keepdims=True), np.float32(1.0))
    enc = np.sqrt(np.clip(flat / m, 0.0, 1.0)).astype(np.float32)
    res = np.empty_like(enc)
    apply_tetra(enc, bake_padded(ops, size), size, np.zeros(3, np.float32), np.ones(3, np.float32), res)
    return (np.maximum(res, 0.0) * m).reshape(x.shape).astype(np.float32, copy=False)


#: the highlights rendition leaves the SDR picture alone up to this display-linear level of a pixel's brightest
#: channel (SDR white = 1; 0.5 is about 73 % of the sRGB signal) and reaches the scene-linear light at KNEE_HI
KNEE_LO, KNEE_HI = 0.5, 0.95


def highlight_gain(sdr: np.ndarray, scene: np.ndarray, peak: float) -> np.ndarray:
    """Per-channel gain that turns the SDR render ``sdr`` (display-linear) into the highlights rendition: 1 where
    the SDR pixel's brightest channel is below KNEE_LO; (C/SDR)^w above, with C the scene-linear light (same
    primaries, 1.0 = SDR white) softly capped at ``peak`` (hue kept), its saturation (1 − min/max) at most the
    SDR pixel's, and w a smoothstep from KNEE_LO to KNEE_HI.
    So HDR = SDR^(1−w)·C^w: the SDR picture (look included) in shadows and midtones, the scene's own light in the
    highlights, rising monotonically in between. Any tone curve or look works: only the rendered SDR is used."""
    m = scene.max(axis=2, keepdims=True)
    n = np.float32(4.0)
    cap = scene * np.power(np.float32(1.0) + np.power(m / np.float32(peak), n), np.float32(-1.0) / n)
    # saturation at most the SDR pixel's (hue and brightness from the scene): clipped, reconstructed sensor
    # highlights carry unreliable colour that the SDR roll-off hides; the HDR must not show it
    cmax = cap.max(axis=2, keepdims=True)
    dmax = sdr.max(axis=2, keepdims=True)
    sat_c = 1.0 - cap.min(axis=2, keepdims=True) / np.maximum(cmax, np.float32(1e-9))
    sat_d = 1.0 - np.maximum(sdr.min(axis=2, keepdims=True), 0) / np.maximum(dmax, np.float32(1e-9))
    k = np.where(sat_c > sat_d, sat_d / np.maximum(sat_c, np.float32(1e-9)), np.float32(1.0))
    cap = cmax - (cmax - cap) * k
    t = np.clip((sdr.max(axis=2, keepdims=True) - np.float32(KNEE_LO)) / np.float32(KNEE_HI - KNEE_LO), 0.0, 1.0)
    w = t * t * (np.float32(3.0) - np.float32(2.0) * t)
    tiny = np.float32(1e-4)
    gain = np.power((cap + tiny) / (np.maximum(sdr, 0) + tiny), w)
    return np.clip(gain, np.float32(1.0 / 16.0), np.float32(peak)).astype(np.float32, copy=False)


def sdr_linear(frame: Any, space: str) -> np.ndarray:
    """The SDR render of ``frame`` (DISPLAY) as display-linear light in ``space`` primaries."""
    import cv2

    from ..colour import spaces
    src = frame.meta.output_space or "srgb"
    lin = spaces.decode(frame.pixels, spaces.transfer_of(src))
    if src != space:
        lin = cv2.transform(lin, spaces.rgb_to_rgb(src, space).astype(np.float32))
    return np.ascontiguousarray(lin, np.float32)


def hdr_rendition(frame: Any, headroom: float | None = None, *, space: str | None = None,
                  base_linear: np.ndarray | None = None, rendition: str = "highlights") -> tuple[np.ndarray, float]:
    """The HDR rendition of a developed frame (display-linear in ``space`` primaries, 1.0 = SDR white) and the
    headroom used (stops). Needs the scene-linear frame kept by ``develop(..., keep_scene_linear=True)``.

    ``rendition="highlights"`` (default): the SDR render with its highlights back: the SDR render
    (``base_linear``: the decoded base, else the frame's own pixels) times :func:`highlight_gain` (computed from
    the frame's own SDR pixels and the scene-linear light in ``space`` primaries). Shadows and midtones stay
    exactly the SDR picture (look, clarity and grain included) and the gain map is flat there; highlights get the
    scene's light back (1.0 = SDR white) up to the headroom.

    ``rendition="scene"``: the scene-linear render itself (1.0 = SDR white), with the look's global colour applied
    without clipping above SDR white, capped (hue kept) at 2^headroom: the literal scene, flatter than the SDR
    picture in the midtones, and a gain map that carries the whole tone curve (2–3× larger).
    """
    from ..frame import SCENE_LINEAR_KEY
    scene = frame.meta.extra.get(SCENE_LINEAR_KEY)
    if scene is None:
        src = frame.meta.source or "this frame"
        raise ParameterError(f"{src}: no HDR data: an HDR output needs a scene-referred source (a raw file, a linear "
                             "TIFF/DNG or an Ultra HDR JPEG) developed with keep_scene_linear=True; a display-referred "
                             "JPEG/PNG/TIFF has no highlights to restore")
    if scene.shape[:2] != frame.pixels.shape[:2]:
        raise ParameterError(f"the scene-linear frame ({scene.shape[1]}×{scene.shape[0]}) does not match the render "
                             f"({frame.width}×{frame.height}): HDR output cannot follow a step that changes the size "
                             "after developing (a frame/border, a resize)")
    if headroom is not None and not (0.0 < float(headroom) <= MAX_HEADROOM):
        raise ParameterError(f"--hdr-headroom {headroom}: must be above 0 and at most {MAX_HEADROOM:g} stops")
    if rendition not in ("highlights", "scene"):
        raise ParameterError(f"HDR rendition {rendition!r}: must be highlights or scene")
    space = space or frame.meta.output_space or "srgb"
    x = np.maximum(np.ascontiguousarray(scene, np.float32), 0.0)
    recipe = frame.meta.extra.get("recipe")
    if rendition == "scene":
        hdr = _to_output_linear(_look_colour(x, recipe), space)
        h = default_headroom(hdr) if headroom is None else float(headroom)
        peak = np.float32(2.0 ** h)
        mx = hdr.max(axis=2, keepdims=True)
        hdr *= np.minimum(np.float32(1.0), peak / np.maximum(mx, np.float32(1e-9)))     # cap, hue kept
        return hdr.astype(np.float32, copy=False), h
    h = default_headroom(x) if headroom is None else float(headroom)
    if look_ops(recipe):
        # the look's colour on the scene light of the pixels that can reach the highlights (SDR above the knee;
        # matrices to wider primaries only lower a pixel's brightest channel, so this is a superset)
        from ..colour import spaces
        src = frame.meta.output_space or "srgb"
        knee = float(spaces.encode(np.array([KNEE_LO], np.float32), spaces.transfer_of(src))[0])
        mask = frame.pixels.max(axis=2) > knee
        if mask.any():
            x = x.copy()
            x[mask] = _look_colour(x[mask], recipe)
    return highlights_fused(frame, x, space, 2.0 ** h, base_linear), h


def highlights_fused(frame: Any, scene: np.ndarray, space: str, peak: float,
                     base_linear: np.ndarray | None = None) -> np.ndarray:
    """``base · highlight_gain(sdr_linear(frame, space), scene in space, peak)`` in one numba pass (the numpy
    functions are the reference; a test holds the two together)."""
    from ..colour import spaces
    from ._hdr_kernels import highlights
    src = frame.meta.output_space or "srgb"
    dec = spaces.decode(np.linspace(0.0, 1.0, 4097, dtype=np.float32), spaces.transfer_of(src)).astype(np.float32)
    m = spaces.rgb_to_rgb(spaces.WORKING, space).astype(np.float32)
    m_sdr = (np.eye(3) if src == space else spaces.rgb_to_rgb(src, space)).astype(np.float32)
    sdr = np.ascontiguousarray(frame.pixels, np.float32)
    use_base = base_linear is not None
    base = np.ascontiguousarray(base_linear, np.float32) if use_base else np.zeros((1, 1, 3), np.float32)
    out = np.empty(sdr.shape, np.float32)
    highlights(np.ascontiguousarray(scene, np.float32), m, sdr, dec, m_sdr, base, use_base, np.float32(peak),
               np.float32(KNEE_LO), np.float32(KNEE_HI), out)
    return out


def _luma(space: str) -> np.ndarray:
    from ..colour import spaces
    return spaces.rgb_to_xyz(space)[1].astype(np.float32)


def compute_gain_map(hdr: np.ndarray, base_linear: np.ndarray, *, headroom: float, mode: str = "rgb",
                     scale: int = 1, gamma: float = 1.0, space: str = "srgb") -> tuple[np.ndarray, GainMapMetadata]:
    """The gain map (uint8, H/scale × W/scale × 3, or × 1 for ``mono``) and its metadata, such that
    (base + OffsetSDR)·2^L − OffsetHDR ≈ hdr."""
    import cv2
    if mode not in MAP_MODES:
        raise ParameterError(f"--hdr-map {mode!r}: must be one of {', '.join(MAP_MODES)}")
    if int(scale) != scale or not 1 <= int(scale) <= 4:
        raise ParameterError(f"gain-map scale 1/{scale}: must be 1/1, 1/2, 1/3 or 1/4")
    if not 0.1 <= gamma <= 10:
        raise ParameterError(f"gain-map gamma {gamma}: must be between 0.1 and 10")
    h, w = hdr.shape[:2]
    if scale > 1:
        size = (max(1, -(-w // scale)), max(1, -(-h // scale)))
        hdr = cv2.resize(hdr, size, interpolation=cv2.INTER_AREA)
        base_linear = cv2.resize(base_linear, size, interpolation=cv2.INTER_AREA)
    if mode == "mono":
        y = _luma(space)
        hdr = (hdr @ y)[..., None]
        base_linear = (base_linear @ y)[..., None]
    o = np.float32(OFFSET)
    lg = np.log2((hdr + o) / (base_linear + o)).astype(np.float32)
    gmin = min(float(lg.min()), 0.0)
    gmax = max(float(lg.max()), gmin + 1e-3)
    if gmin < 0 < gmax and gamma == 1.0:
        # put gain 0 (HDR = SDR, most of a picture) exactly on a code value, so flat areas reconstruct exactly
        k = int(np.ceil(255.0 * -gmin / (gmax - gmin)))
        k = min(max(k, 1), 254)
        step = max(-gmin / k, gmax / (255 - k))
        gmin, gmax = -k * step, (255 - k) * step
    gmin, gmax = _q(gmin), _q(gmax)
    meta = GainMapMetadata((gmin,) * 3, (gmax,) * 3, (_q(gamma),) * 3, capacity_min=0.0,
                           capacity_max=_q(headroom)).quantised()
    g = np.clip((lg - gmin) / (gmax - gmin), 0.0, 1.0)
    if meta.gamma[0] != 1.0:
        g = np.power(g, np.float32(meta.gamma[0]))
    q = np.rint(g * 255.0).astype(np.uint8)
    return q, meta


def apply_gain_map(base_linear: np.ndarray, gain_map: np.ndarray, meta: GainMapMetadata,
                   boost: float | None = None) -> np.ndarray:
    """Reconstruct the HDR rendition (linear, 1.0 = SDR white) from the linear base and the decoded gain map
    (uint8, any size: resized bilinearly), for a display with ``boost`` × SDR white (default: the full map)."""
    import cv2
    h, w = base_linear.shape[:2]
    g = gain_map.astype(np.float32) / 255.0
    if g.shape[:2] != (h, w):
        g = cv2.resize(g, (w, h), interpolation=cv2.INTER_LINEAR)
    if g.ndim == 2:
        g = g[..., None]
    gam = np.asarray(meta.gamma, np.float32)
    if np.any(gam != 1.0):
        g = np.power(g, 1.0 / (gam if g.shape[2] == 3 else gam[:1]))
    lo = np.asarray(meta.gain_min, np.float32)
    hi = np.asarray(meta.gain_max, np.float32)
    if g.shape[2] == 1:
        lo, hi = lo[:1], hi[:1]
    L = lo * (1 - g) + hi * g
    if boost is None:
        wgt = 1.0
    else:
        span = meta.capacity_max - meta.capacity_min
        wgt = float(np.clip((np.log2(max(boost, 1e-6)) - meta.capacity_min) / span, 0.0, 1.0)) if span > 0 else 1.0
    osdr = np.asarray(meta.offset_sdr, np.float32)
    ohdr = np.asarray(meta.offset_hdr, np.float32)
    return ((base_linear + osdr) * np.exp2(L * np.float32(wgt)) - ohdr).astype(np.float32)


# ---------------------------------------------------------------------------------------------- write

def reference_base_linear(base_jpeg: bytes, icc: bytes | None) -> np.ndarray | None:
    """The base JPEG as the reference decoder (Google's libultrahdr, bundled by imagecodecs) sees it, linear:
    decoded through a throw-away container whose gain map is flat zero. libultrahdr upsamples 4:2:0 chroma
    differently from libjpeg-turbo's RGB output (OpenCV, Pillow), so the gain map is computed against this
    decode when it is available. None when imagecodecs (or its libultrahdr) is missing."""
    try:
        import imagecodecs
        if not imagecodecs.ULTRAHDR.available:
            return None
    except (ImportError, AttributeError):
        return None
    import cv2
    ok, flat = cv2.imencode(".jpg", np.zeros((8, 8), np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 100])
    meta = GainMapMetadata((0.0,) * 3, (1e-3,) * 3, capacity_min=0.0, capacity_max=1.0)
    probe = assemble(base_jpeg, flat.tobytes(), meta, exif=None, icc=icc)
    try:
        out = imagecodecs.ultrahdr_decode(probe)
    except Exception:  # noqa: BLE001 - an old or odd libultrahdr: fall back to our own decode
        return None
    return np.ascontiguousarray(out[..., :3], dtype=np.float32)



def encode_ultrahdr(frame: Any, base_jpeg: bytes, *, exif: bytes | None, icc: bytes | None, xmp_fields: str = "",
                    xmp_namespaces: str = "", mode: str = "rgb", scale: int = 1, headroom: float | None = None,
                    map_quality: int = 90, gamma: float = 1.0,
                    rendition: str = "highlights") -> tuple[bytes, GainMapMetadata]:
    """The bytes of an Ultra HDR JPEG whose base is ``base_jpeg`` (the normal SDR JPEG of ``frame``)."""
    import cv2

    from ..colour import spaces
    space = frame.meta.output_space or "srgb"
    if space not in SPACES_OK:
        raise ParameterError(f"--hdr with a JPEG needs an sRGB or Display P3 output space (the gain-map base uses "
                             f"the sRGB transfer), not {space!r}: use --set output.space=srgb or .avif/.heic")
    if not 1 <= int(map_quality) <= 100:
        raise ParameterError(f"gain-map quality {map_quality}: must be between 1 and 100")
    dec = cv2.imdecode(np.frombuffer(base_jpeg, np.uint8), cv2.IMREAD_COLOR)
    if dec is None:  # pragma: no cover - we just encoded it
        raise ParameterError("the base JPEG does not decode")
    base_lin = reference_base_linear(base_jpeg, icc)
    if base_lin is None:
        base_lin = spaces.decode(dec[..., ::-1].astype(np.float32) / np.float32(255.0), "srgb")
    hdr, h = hdr_rendition(frame, headroom, space=space, base_linear=base_lin, rendition=rendition)
    q, meta = compute_gain_map(hdr, base_lin, headroom=h, mode=mode, scale=scale, gamma=gamma, space=space)
    img = q[..., 0] if mode == "mono" else np.ascontiguousarray(q[..., ::-1])
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(map_quality),
                                         cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444])
    if not ok:  # pragma: no cover
        from ..errors import OutputError
        raise OutputError("gain-map JPEG encoding failed")
    data = assemble(base_jpeg, buf.tobytes(), meta, exif=exif, icc=icc, xmp_fields=xmp_fields,
                    xmp_namespaces=xmp_namespaces)
    return data, meta


# ---------------------------------------------------------------------------------------------- read

@dataclass
class UltraHDR:
    """An Ultra HDR JPEG taken apart: the base's bytes and the gain map's, and the gain-map metadata."""

    primary: bytes
    gain_map: bytes
    meta: GainMapMetadata
    icc: bytes | None
    source: str | None = None


def split(data: bytes, source: str | None = None) -> UltraHDR | None:
    """Find the gain map of an Ultra HDR JPEG (by its MPF index, else by the XMP directory's Item:Length);
    None when the file has none."""
    segs = segments(data)
    primary_len = None
    map_range = None
    icc_parts: dict[int, bytes] = {}
    has_hdrgm = False
    for m, a, b in segs:
        p = data[a:b]
        if m == 0xE2 and p.startswith(MPF_SIG):
            try:
                map_range = _mpf_second(p, a + len(MPF_SIG))
            except (struct.error, InputError):
                map_range = None
        elif m == 0xE2 and p.startswith(ICC_SIG) and len(p) > 14:
            icc_parts[p[12]] = p[14:]
        elif m == 0xE1 and p.startswith(XMP_SIG):
            text = p[len(XMP_SIG):].decode("utf-8", "replace")
            if "hdrgm" in text:
                has_hdrgm = True
                mm = re.search(r'Item:Semantic="GainMap"[^>]*?Item:Length="(\d+)"', text) or \
                    re.search(r'Item:Length="(\d+)"[^>]*?Item:Semantic="GainMap"', text)
                if mm:
                    primary_len = len(data) - int(mm.group(1))
    if map_range is not None and map_range[0] + map_range[1] <= len(data) and data[map_range[0]:map_range[0] + 2] == b"\xff\xd8":
        start, length = map_range
    elif primary_len is not None and 0 < primary_len < len(data) and data[primary_len:primary_len + 2] == b"\xff\xd8":
        start, length = primary_len, len(data) - primary_len
    else:
        return None
    gm = data[start:start + length]
    meta = None
    try:
        gsegs = segments(gm)
    except InputError:
        return None
    iso = xmp = None
    for m, a, b in gsegs:
        p = gm[a:b]
        if m == 0xE2 and p.startswith(ISO_SIG):
            iso = p[len(ISO_SIG):]
        elif m == 0xE1 and p.startswith(XMP_SIG):
            xmp = p[len(XMP_SIG):]
    if iso is not None and len(iso) > 4:
        meta = GainMapMetadata.from_iso(iso)
    elif xmp is not None and b"hdrgm" in xmp:
        meta = GainMapMetadata.from_xmp(xmp)
    if meta is None:
        if not has_hdrgm:
            return None
        raise InputError("the gain map has neither ISO 21496-1 nor hdrgm metadata", path=source)
    meta = meta.validated(source)
    icc = b"".join(icc_parts[k] for k in sorted(icc_parts)) or None
    return UltraHDR(data[:start], gm, meta, icc, source)


def _mpf_second(p: bytes, tiff_at: int) -> tuple[int, int]:
    """(file offset, length) of the second image in an MPF payload (``p`` starts with ``MPF\\0``)."""
    t = p[len(MPF_SIG):]
    e = "<" if t[:2] == b"II" else ">"
    ifd = struct.unpack_from(e + "I", t, 4)[0]
    n = struct.unpack_from(e + "H", t, ifd)[0]
    count = entries = None
    for k in range(n):
        tag, _typ, cnt, val = struct.unpack_from(e + "HHII", t, ifd + 2 + 12 * k)
        if tag == 0xB001:
            count = val
        elif tag == 0xB002:
            entries = (cnt, val)
    if not count or count < 2 or entries is None:
        raise InputError("MPF index lists no second image")
    _attr, size, off, _d1, _d2 = struct.unpack_from(e + "IIIHH", t, entries[1] + 16)
    return tiff_at + off, size


def is_ultrahdr(path: str | Path) -> bool:
    """Whether ``path`` is a JPEG with a gain map (reads only the first bytes of anything else)."""
    try:
        with open(path, "rb") as fh:
            if fh.read(2) != b"\xff\xd8":
                return False
        data = Path(path).read_bytes()
        return split(data, str(path)) is not None
    except (OSError, InputError):
        return False


def read_hdr(path: str | Path, *, boost: float | None = None) -> tuple[np.ndarray, np.ndarray, GainMapMetadata, str]:
    """Decode an Ultra HDR JPEG: (SDR base as RGB float32 0..1 as encoded, HDR rendition linear float32 with
    1.0 = SDR white, gain-map metadata, the base's colour space name). ``boost`` = the display's headroom as a
    ratio (default: the full rendition)."""
    import cv2

    from ..colour import spaces
    from .images import _space_from_icc
    p = str(path)
    try:
        data = Path(p).read_bytes()
    except OSError as e:
        raise InputError(f"cannot be read: {e.strerror or e}", path=p) from None
    if data[:2] != b"\xff\xd8":
        raise InputError("not a JPEG: only Ultra HDR (gain-map) JPEGs carry HDR data here", path=p)
    try:
        u = split(data, p)
    except InputError as e:
        raise InputError(str(e), path=p) from None
    if u is None:
        raise InputError("no gain map (not an Ultra HDR JPEG): it holds no HDR data", path=p)
    base = cv2.imdecode(np.frombuffer(u.primary, np.uint8), cv2.IMREAD_COLOR)
    gm = cv2.imdecode(np.frombuffer(u.gain_map, np.uint8), cv2.IMREAD_UNCHANGED)
    if base is None or gm is None:
        raise InputError("corrupt Ultra HDR JPEG: the base or the gain map does not decode", path=p)
    if gm.ndim == 3:
        gm = gm[..., ::-1]
    sdr = base[..., ::-1].astype(np.float32) / np.float32(255.0)
    space = _space_from_icc(u.icc)
    lin = spaces.decode(sdr, "srgb" if space in SPACES_OK else spaces.transfer_of(space))
    hdr = apply_gain_map(lin, gm, u.meta, boost)
    return np.ascontiguousarray(sdr), hdr, u.meta, space


def open_hdr(path: str | Path, limit: int | None = None) -> Any:
    """An Ultra HDR JPEG as a SCENE_LINEAR frame (working-space Rec.2020, 1.0 = the base's SDR white, the gain map
    fully applied), with its EXIF; ``meta.kind = "hdr_image"``, so ``develop`` tone-maps it like a raw render.
    The SDR base itself stays readable with a plain ``open_image``."""
    import cv2

    from ..colour import spaces
    from ..errors import ImageTooLarge
    from ..frame import Frame, Metadata, State
    from .images import _orient
    from .metadata import from_pillow
    p = str(path)
    try:
        from PIL import Image
        with Image.open(p) as im:
            w, h = im.size
            exif = from_pillow(im)
    except Exception:  # noqa: BLE001 - read_hdr below says what is wrong with the file
        w = h = 0
        exif = {}
    if limit is not None and w * h > limit:
        raise ImageTooLarge(f"image is {w}×{h} = {w * h / 1e6:.1f} MP, above the limit of {limit / 1e6:.1f} MP",
                            path=p)
    _sdr, hdr, meta, space = read_hdr(p)
    o = int(exif.pop("Orientation", 1) or 1)
    hdr = _orient(hdr, o)
    m = spaces.rgb_to_rgb(space, spaces.WORKING).astype(np.float32)
    work = cv2.transform(np.ascontiguousarray(hdr, np.float32), m)
    md = Metadata(source=p, kind="hdr_image", exif=exif, orientation=1, make=exif.get("Make", ""),
                  model=exif.get("Model", ""))
    md.extra["input_space"] = space
    md.extra["gain_map"] = meta
    return Frame(np.ascontiguousarray(work, np.float32), State.SCENE_LINEAR, md)
