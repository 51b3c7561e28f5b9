"""Write frames: JPEG, PNG 8/16, TIFF 8/16/32-float, HEIF; ICC embedded, EXIF kept (orientation 1), XMP with
the rawlux version and the recipe. Always written to a temporary file in the target folder, then renamed."""
from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import OutputError, ParameterError
from ..frame import Frame, State
from .atomic import atomic_path, check_output_target

from .formats import EXTENSIONS, FORMATS, HDR_FORMATS, format_for  # noqa: E402,F401 - the one table (io/formats.py)
from .metadata import xmp_packet  # noqa: E402,F401



def _quantise(px: np.ndarray, bits: int, bgr: bool = False) -> np.ndarray:
    from ..isp.kernels import quantise

    out = np.empty(px.shape, np.uint8 if bits == 8 else np.uint16)
    quantise(np.ascontiguousarray(px, dtype=np.float32), np.float32(255.0 if bits == 8 else 65535.0), bgr, out)
    return out


def _jpeg_segment(marker: int, payload: bytes) -> bytes:
    if len(payload) + 2 > 0xFFFF:
        raise OutputError(f"metadata segment too large for JPEG ({len(payload)} bytes)")
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def _jpeg_insert(jpg: bytes, *, icc: bytes | None, exif: bytes | None, xmp: bytes | None) -> bytes:
    """Put EXIF (APP1), XMP (APP1) and ICC (APP2, split in chunks) right after SOI (and a JFIF APP0)."""
    segs = []
    if exif:
        segs.append(_jpeg_segment(0xE1, exif if exif.startswith(b"Exif\0\0") else b"Exif\0\0" + exif))
    if xmp and len(xmp) < 65000:
        segs.append(_jpeg_segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0" + xmp))
    if icc:
        size = 65519
        parts = [icc[i:i + size] for i in range(0, len(icc), size)]
        for i, part in enumerate(parts, 1):
            segs.append(_jpeg_segment(0xE2, b"ICC_PROFILE\0" + bytes([i, len(parts)]) + part))
    pos = 2
    if jpg[2:4] == b"\xff\xe0":  # keep JFIF APP0 first
        pos = 4 + struct.unpack(">H", jpg[4:6])[0]
    return jpg[:pos] + b"".join(segs) + jpg[pos:]


def _jpeg_bytes(px: np.ndarray, quality: int) -> bytes:
    """The JPEG stream of BGR uint8 pixels (the SDR JPEG and the Ultra HDR base use exactly this). Large images
    are encoded in horizontal strips on several threads and joined with restart markers (:func:`_jpeg_strips`)."""
    import cv2
    sampling = cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444 if quality >= 95 else cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420
    params = [cv2.IMWRITE_JPEG_QUALITY, quality, cv2.IMWRITE_JPEG_SAMPLING_FACTOR, sampling]
    mcu = 8 if quality >= 95 else 16
    threads = _encode_threads()
    if threads > 1 and px.ndim == 3 and px.shape[0] * px.shape[1] >= _STRIP_MIN_PIXELS:
        data = _jpeg_strips(px, params, mcu, threads)
        if data is not None:
            return data
    ok, buf = cv2.imencode(".jpg", px, params)
    if not ok:
        raise OutputError("JPEG encoding failed")
    return buf.tobytes()


#: images from this size up are JPEG-encoded in strips on several threads
_STRIP_MIN_PIXELS = 2_000_000


def _encode_threads() -> int:
    """Threads for encoders: NUMBA_NUM_THREADS when set (the develop's own thread budget), else the CPUs."""
    v = os.environ.get("NUMBA_NUM_THREADS", "")
    n = int(v) if v.isdigit() else (os.cpu_count() or 1)
    return max(1, min(n, 8))


def _jpeg_strips(px: np.ndarray, params: list[int], mcu: int, threads: int) -> bytes | None:
    """Encode ``px`` as horizontal strips of whole MCU rows in parallel (libjpeg releases the GIL) and join them
    into one baseline JPEG with a restart interval of one strip: each strip's scan starts with the DC predictors
    at zero and ends byte-aligned, exactly what a restart marker marks, so the result is the same stream a single
    encoder writes with that restart interval (tested byte for byte). None when a strip would exceed the
    largest restart interval (65 535 MCUs)."""
    import cv2
    from concurrent.futures import ThreadPoolExecutor

    h, w = px.shape[:2]
    per_row = -(-w // mcu)
    rows = -(-(-(-h // mcu)) // threads)                # MCU rows per strip
    if per_row * rows > 0xFFFF:
        rows = 0xFFFF // per_row
    if rows < 1 or rows * mcu >= h:
        return None
    bands = [px[y:y + rows * mcu] for y in range(0, h, rows * mcu)]

    def one(band: np.ndarray) -> bytes:
        ok, buf = cv2.imencode(".jpg", band, params)
        if not ok:
            raise OutputError("JPEG encoding failed")
        return buf.tobytes()

    with ThreadPoolExecutor(min(threads, len(bands))) as pool:
        parts = list(pool.map(one, bands))
    head, sof, scan0 = _jpeg_layout(parts[0])
    out = bytearray(parts[0][:head])
    out[sof + 5:sof + 7] = struct.pack(">H", h)                 # SOF: the whole image's height
    out += b"\xff\xdd" + struct.pack(">HH", 4, per_row * rows)   # DRI: one strip per interval
    out += parts[0][head:scan0]                                 # SOS
    for i, part in enumerate(parts):
        if i:
            out += bytes([0xFF, 0xD0 + (i - 1) % 8])            # RSTn
        start = scan0 if i == 0 else _jpeg_layout(part)[2]
        out += part[start:-2]                                   # the entropy-coded scan, without EOI
    out += b"\xff\xd9"
    return bytes(out)


def _jpeg_layout(jpg: bytes) -> tuple[int, int, int]:
    """Offsets in a baseline JPEG from one encoder: of its SOS marker, of its SOF marker, and of the scan data."""
    pos, sof = 2, -1
    while pos + 4 <= len(jpg):
        if jpg[pos] != 0xFF:
            break
        marker = jpg[pos + 1]
        length = struct.unpack(">H", jpg[pos + 2:pos + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            sof = pos
        if marker == 0xDA:
            if sof < 0 or jpg[-2:] != b"\xff\xd9":
                break
            return pos, sof, pos + 2 + length
        pos += 2 + length
    raise OutputError("JPEG encoding failed (unexpected stream layout)")


def xmp_fields(recipe_toml: str | None) -> tuple[str, str]:
    """rawlux's XMP fields as XML elements and their namespace declarations (for XMP packets built elsewhere)."""
    pkt = xmp_packet(recipe_toml).decode("utf-8")
    body = pkt[pkt.index('xmlns:rawlux="https://rawlux.invalid/ns/1.0/">') + len('xmlns:rawlux="https://rawlux.invalid/ns/1.0/">'):
               pkt.index("</rdf:Description>")].rstrip()
    return "\n    " + body.strip(), ' xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:rawlux="https://rawlux.invalid/ns/1.0/"'


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _png_insert(png: bytes, chunks: list[bytes]) -> bytes:
    # after the IHDR chunk (8-byte signature + 25-byte IHDR)
    ihdr_end = 8 + 8 + struct.unpack(">I", png[8:12])[0] + 4
    return png[:ihdr_end] + b"".join(chunks) + png[ihdr_end:]


def save(frame: Frame, path: str | os.PathLike[str], *, format: str | None = None, bits: int = 8,
         quality: int = 92, overwrite: bool = True, recipe: Any = None, exif: bool = True,
         hdr: bool = False, hdr_map: str = "rgb", hdr_scale: int = 1, hdr_headroom: float | None = None,
         hdr_transfer: str = "pq", hdr_rendition: str = "highlights", hdr_map_quality: int = 90) -> Path:
    """Write ``frame`` to ``path`` atomically and return the path.

    A DISPLAY frame is quantised to ``bits`` (8 or 16); a SCENE_LINEAR frame with ``bits=32`` and TIFF gives a
    linear float TIFF (any other combination is encoded by the output stage first).

    ``hdr=True`` (the frame from ``develop(..., keep_scene_linear=True)``): a JPEG becomes an Ultra HDR JPEG (the
    same SDR JPEG plus a gain map: ``hdr_map`` "rgb" or "mono", at 1/``hdr_scale`` size, up to ``hdr_headroom``
    stops over SDR white, default from the scene, at most 4; see :mod:`rawlux.io.ultrahdr`); a HEIF/AVIF becomes a
    10-bit BT.2020 image with the PQ or HLG transfer (``hdr_transfer``; see :mod:`rawlux.io.hdr_heif`).
    ``hdr_rendition``: "highlights" (the SDR picture with its highlights back) or "scene" (the scene-linear render);
    ``hdr_map_quality``: JPEG quality of the gain map (higher: a closer HDR, a larger file).
    """
    out = Path(path)
    fmt = format_for(out, format)
    if hdr:
        if fmt not in HDR_FORMATS:
            raise ParameterError(f"--hdr cannot be written as {fmt.upper()} ({out.name}): use .jpg (Ultra HDR gain "
                                 "map), .avif or .heic (10-bit PQ/HLG)")
        if bits not in ((8,) if fmt == "jpeg" else (8, 10)):
            raise ParameterError(f"--bits {bits} with --hdr: the Ultra HDR JPEG base is 8-bit; HEIF/AVIF HDR is always "
                                 "10-bit (leave --bits at 8 or give 10)")
        if frame.state is not State.DISPLAY:
            raise ParameterError(f"save needs a developed (DISPLAY) frame, not {frame.state.name}: call rawlux.develop first")
        from ..frame import SCENE_LINEAR_KEY
        if SCENE_LINEAR_KEY not in frame.meta.extra:
            from .ultrahdr import hdr_rendition
            hdr_rendition(frame)              # raises the one-line "no HDR data" ParameterError
        bits = 8
    if bits not in (8, 16, 32):
        raise ParameterError(f"--bits {bits}: must be 8, 16 or 32 (32 = linear float TIFF)")
    if bits == 16 and fmt == "jpeg":
        raise ParameterError("JPEG is 8-bit only: use --bits 8, or PNG/TIFF for 16 bits")
    if bits == 32 and fmt != "tiff":
        raise ParameterError("--bits 32 (linear float) needs TIFF output")
    check_output_target(out, quality, overwrite, (frame.meta.source,))

    if hdr and fmt in ("heif", "avif"):
        from .hdr_heif import save_hdr
        return save_hdr(frame, out, fmt=fmt, quality=int(quality), overwrite=overwrite, recipe=recipe,
                        exif=exif, headroom=hdr_headroom, transfer=hdr_transfer, rendition=hdr_rendition)
    if fmt == "avif":
        raise ParameterError(f"{out.name}: AVIF is written for HDR output only (--hdr); use .heic or .jpg for SDR")
    if bits == 32:
        px = _linear_for_float(frame)
    else:
        if frame.state is not State.DISPLAY:
            raise ParameterError(f"save needs a developed (DISPLAY) frame, not {frame.state.name}: call rawlux.develop first")
        px = _quantise(frame.pixels, bits, bgr=fmt in ("jpeg", "png"))   # OpenCV encoders take BGR
    icc = frame.meta.icc
    if bits == 32:
        from .icc import icc_profile
        icc = icc_profile(frame.meta.output_space or "rec2020", linear=True)
    h, w = px.shape[:2]
    from .._version import __version__
    from .metadata import to_exif_bytes
    exif_bytes = to_exif_bytes(frame.meta.exif, width=w, height=h, software=f"rawlux {__version__}") if exif else None
    recipe_toml = recipe.to_toml() if recipe is not None and hasattr(recipe, "to_toml") else (recipe if isinstance(recipe, str) else None)
    xmp = xmp_packet(recipe_toml)

    if hdr:                                # Ultra HDR JPEG: the same base JPEG bytes, then the gain map
        from .ultrahdr import encode_ultrahdr
        fields, ns = xmp_fields(recipe_toml)
        data, _meta = encode_ultrahdr(frame, _jpeg_bytes(px, int(quality)), exif=exif_bytes, icc=icc,
                                      xmp_fields=fields, xmp_namespaces=ns, mode=hdr_map, scale=hdr_scale,
                                      headroom=hdr_headroom, rendition=hdr_rendition, map_quality=hdr_map_quality)
        from .atomic import write_bytes
        write_bytes(out, data, overwrite=overwrite)
        return out
    with atomic_path(out, overwrite=overwrite) as tmp:
        _write(fmt, px, tmp, bits=bits, quality=int(quality), icc=icc, exif=exif_bytes, xmp=xmp, meta=frame.meta)
    return out


def _linear_for_float(frame: Frame) -> np.ndarray:
    """Pixels for a linear float TIFF in the frame's output space: a DISPLAY frame has its transfer function
    undone (values stay in 0…1); a SCENE_LINEAR frame (``develop(..., linear=True)``) is used unclipped."""
    from ..colour import spaces

    if frame.state is State.DISPLAY:
        space = frame.meta.output_space or "srgb"
        return spaces.decode(frame.pixels, spaces.transfer_of(space))
    if frame.state is State.SCENE_LINEAR:
        return np.ascontiguousarray(frame.pixels, dtype=np.float32)
    raise ParameterError(f"a float TIFF needs a developed frame, not {frame.state.name}")


def _write(fmt: str, px: np.ndarray, tmp: str, *, bits: int, quality: int, icc: bytes | None,
           exif: bytes | None, xmp: bytes, meta: Any) -> None:
    if fmt == "jpeg":
        jpg = _jpeg_bytes(px, quality)
        with open(tmp, "wb") as fh:
            fh.write(_jpeg_insert(jpg, icc=icc, exif=exif, xmp=xmp))
    elif fmt == "png":
        import cv2
        ok, buf = cv2.imencode(".png", px, [cv2.IMWRITE_PNG_COMPRESSION, 3])
        if not ok:
            raise OutputError("PNG encoding failed", path=tmp)
        chunks = []
        if icc:
            chunks.append(_png_chunk(b"iCCP", b"ICC\0\0" + zlib.compress(icc)))
        if exif:
            chunks.append(_png_chunk(b"eXIf", exif[6:] if exif.startswith(b"Exif\0\0") else exif))
        chunks.append(_png_chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0" + xmp))
        with open(tmp, "wb") as fh:
            fh.write(_png_insert(buf.tobytes(), chunks))
    elif fmt == "tiff":
        import tifffile
        extratags = [(700, 1, len(xmp), xmp, True)]
        tifffile.imwrite(tmp, px, photometric="rgb", compression=None if bits == 32 else "zlib",
                         iccprofile=icc, extratags=extratags, metadata=None, software=False)
        if exif:
            _exiv2_exif(tmp, meta.exif, px.shape[1], px.shape[0])
    elif fmt == "heif":
        import pillow_heif
        if bits == 16:
            hf = pillow_heif.from_bytes(mode="RGB;16", size=(px.shape[1], px.shape[0]), data=(px.astype(np.uint16) >> 6 << 6).tobytes())
        else:
            hf = pillow_heif.from_bytes(mode="RGB", size=(px.shape[1], px.shape[0]), data=px.tobytes())
        kw = dict(quality=quality, xmp=xmp)
        if icc:
            kw["icc_profile"] = icc
        if exif:
            kw["exif"] = exif
        hf.save(tmp, format="HEIF", **kw)
    else:  # pragma: no cover - format_for validated it
        raise ParameterError(f"unknown format {fmt}")


def _exiv2_exif(path: str, ex: dict[str, Any], width: int, height: int) -> None:
    """EXIF for TIFF via exiv2 (tifffile cannot write EXIF sub-IFDs)."""
    import pyexiv2
    from fractions import Fraction

    from .._version import __version__

    def rat(v: float, lim: int = 10000) -> str:
        f = Fraction(float(v)).limit_denominator(lim)
        return f"{f.numerator}/{f.denominator}"
    d: dict[str, str] = {"Exif.Image.Orientation": "1", "Exif.Image.Software": f"rawlux {__version__}"}
    for k, key in (("Make", "Exif.Image.Make"), ("Model", "Exif.Image.Model"), ("LensModel", "Exif.Photo.LensModel"),
                   ("LensMake", "Exif.Photo.LensMake"), ("DateTimeOriginal", "Exif.Photo.DateTimeOriginal"),
                   ("Artist", "Exif.Image.Artist"), ("Copyright", "Exif.Image.Copyright")):
        if ex.get(k):
            d[key] = str(ex[k])
    if ex.get("ExposureTime"):
        t = float(ex["ExposureTime"])
        d["Exif.Photo.ExposureTime"] = f"1/{round(1 / t)}" if t < 1 and abs(1 / round(1 / t) - t) / t < 0.01 else rat(t)
    if ex.get("FNumber"):
        d["Exif.Photo.FNumber"] = rat(ex["FNumber"], 100)
    if ex.get("FocalLength"):
        d["Exif.Photo.FocalLength"] = rat(ex["FocalLength"], 100)
    if ex.get("FocalLengthIn35mmFormat"):
        d["Exif.Photo.FocalLengthIn35mmFilm"] = str(int(round(float(ex["FocalLengthIn35mmFormat"]))))
    if ex.get("ISO"):
        d["Exif.Photo.ISOSpeedRatings"] = str(int(ex["ISO"]))
    if ex.get("GPSLatitude") is not None and ex.get("GPSLongitude") is not None:
        def dms(v: float) -> str:
            v = abs(v)
            deg = int(v)
            mi = int((v - deg) * 60)
            s = (v - deg - mi / 60) * 3600
            return f"{deg}/1 {mi}/1 {rat(s)}"
        lat, lon = float(ex["GPSLatitude"]), float(ex["GPSLongitude"])
        d.update({"Exif.GPSInfo.GPSLatitudeRef": "S" if lat < 0 else "N", "Exif.GPSInfo.GPSLatitude": dms(lat),
                  "Exif.GPSInfo.GPSLongitudeRef": "W" if lon < 0 else "E", "Exif.GPSInfo.GPSLongitude": dms(lon)})
    with pyexiv2.Image(path) as im:
        im.modify_exif(d)
