"""The one table of file formats rawlux reads and writes, their extensions, and the pixel limit.

Everything that needs to know "is this a photo?", "which format does this name mean?" or "how big may an
image be?" reads it here: ``rawlux.save``, the CLI, batch scanning, borders, look fitting and the studio.
Formats are told by magic bytes when reading (``io/decode.py``); extensions only choose what to list and
how to name outputs.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import ParameterError

# ----------------------------------------------------------------------------- writing

#: output extension → format written by ``rawlux.save``
FORMATS = {".jpg": "jpeg", ".jpeg": "jpeg", ".png": "png", ".tif": "tiff", ".tiff": "tiff",
           ".heic": "heif", ".heif": "heif", ".hif": "heif", ".avif": "avif"}
#: format → the extension given to new files
EXTENSIONS = {"jpeg": ".jpg", "png": ".png", "tiff": ".tif", "heif": ".heic", "avif": ".avif"}
#: formats with an HDR form (``save(..., hdr=True)``): gain-map JPEG, 10-bit PQ/HLG HEIF and AVIF
HDR_FORMATS = ("jpeg", "heif", "avif")
_ALIASES = {"jpg": "jpeg", "tif": "tiff", "heic": "heif"}


def format_for(path: str | os.PathLike[str], fmt: str | None = None) -> str:
    """The output format named by ``fmt`` (jpeg, jpg, png, tiff, heif, avif) or else by ``path``'s extension."""
    if fmt:
        f = _ALIASES.get(fmt.lower(), fmt.lower())
        if f not in EXTENSIONS:
            raise ParameterError(f"unknown output format {fmt!r} (valid: jpeg, png, tiff, heif, avif)")
        return f
    ext = Path(path).suffix.lower()
    if ext not in FORMATS:
        raise ParameterError(f"cannot tell the output format from {str(path)!r}: use .jpg, .png, .tif, .heic or .avif, or --format")
    return FORMATS[ext]


# ----------------------------------------------------------------------------- reading

#: display-referred images (finished photos) → format
DISPLAY_EXTENSIONS = {".jpg": "jpeg", ".jpeg": "jpeg", ".png": "png", ".tif": "tiff", ".tiff": "tiff",
                      ".heic": "heif", ".heif": "heif", ".hif": "heif"}
#: finished photos a look can be fitted from or the studio can list (Pillow also reads WebP)
PHOTO_EXTENSIONS = frozenset({*DISPLAY_EXTENSIONS, ".webp"})
#: camera raw and DNG extensions LibRaw reads (lower case, no dot)
RAW_EXTENSIONS = frozenset("""
3fr ari arw bay cap cr2 cr3 crw dcr dcs dng drf eip erf fff gpr iiq k25 kdc mdc mef mos mrw nef nrw orf
pef ptx pxn r3d raf raw rw2 rwl rwz sr2 srf srw sti x3f""".split())
#: mosaics stored in greyscale images (``--cfa``) and headerless sensor dumps (``--raw``), no dot
MOSAIC_IMAGE_EXTENSIONS = frozenset({"png", "tif", "tiff"})
DUMP_EXTENSIONS = frozenset({"raw", "bin"})
#: everything ``open_image`` develops, with the dot
INPUT_EXTENSIONS = frozenset({*PHOTO_EXTENSIONS, *(f".{e}" for e in RAW_EXTENSIONS)})

# ----------------------------------------------------------------------------- limits

#: largest image decoded (pixels); raise with ``--max-pixels`` or ``RAWLUX_MAX_PIXELS``
DEFAULT_MAX_PIXELS = 250_000_000


def max_pixels_default() -> int:
    """``RAWLUX_MAX_PIXELS`` when set to a positive number, else :data:`DEFAULT_MAX_PIXELS`."""
    v = os.environ.get("RAWLUX_MAX_PIXELS")
    if v:
        try:
            n = int(float(v))
            if n > 0:
                return n
        except ValueError:
            pass
    return DEFAULT_MAX_PIXELS
