"""Fonts for frames, and text drawn with per-character fallback.

Built in: Inter (SIL OFL 1.1, static Regular and Bold instances subset to Latin, Greek and
punctuation, ~80 kB each, ``fonts/Inter-OFL.txt``). CJK and anything else Inter lacks falls back, character
by character, to Noto Sans CJK (SIL OFL 1.1), installed as the pip packages ``noto-cjk-sans-jp-regular`` and
``noto-cjk-sans-jp-bold`` (the "jp" files carry the full CJK glyph set: Chinese, Japanese, Korean), then to
system fonts. A user font (any .ttf/.otf/.ttc path) replaces Inter and falls back the same way.
"""
from __future__ import annotations

import functools
import glob
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from ..errors import ParameterError

_BUILTIN = {"sans": "Inter-Regular.ttf", "sans-bold": "Inter-Bold.ttf"}
_CJK_PACKAGES = {False: "noto_cjk_sans_jp_regular", True: "noto_cjk_sans_jp_bold"}
_SYSTEM_FALLBACK_GLOBS = (
    "/usr/share/fonts/**/NotoSansCJK*-{w}.tt[cf]", "/usr/share/fonts/**/NotoSansCJK*-{w}.otf",
    "/usr/share/fonts/**/SourceHanSans*-{w}.otf", "/usr/share/fonts/**/wqy-*.tt[cf]",
    "/usr/share/fonts/**/DejaVuSans{b}.ttf", "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh{bd}.ttc",
)


def builtin_font_path(name: str) -> Path:
    return Path(str(resources.files(__package__) / "fonts" / _BUILTIN[name]))


def resolve_font(spec: str, bold: bool) -> Path:
    """'sans' / 'sans-bold' (built in) or a font file path → the file."""
    if spec in _BUILTIN:
        return builtin_font_path(spec)
    p = Path(os.path.expanduser(spec))
    if not p.is_file():
        raise ParameterError(f"font {spec!r} does not exist; give a .ttf/.otf/.ttc file or 'sans' / 'sans-bold'")
    return p


@functools.lru_cache(maxsize=32)
def _cmap(path: str) -> frozenset[int]:
    """Code points a font file has glyphs for."""
    from fontTools.ttLib import TTFont

    try:
        kw = {"fontNumber": 0} if path.lower().endswith((".ttc", ".otc")) else {}
        f = TTFont(path, lazy=True, **kw)
        cm = f.getBestCmap() or {}
        f.close()
    except Exception as e:  # noqa: BLE001 - not a font
        raise ParameterError(f"font {path} cannot be read as TrueType/OpenType ({type(e).__name__}: {e})") from None
    return frozenset(cm)


@functools.lru_cache(maxsize=4)
def fallback_paths(bold: bool) -> tuple[str, ...]:
    """Fallback fonts in the order they are tried: the CJK font package, then system fonts."""
    out: list[str] = []
    for b in (bold, not bold):
        try:
            import importlib
            mod = importlib.import_module(_CJK_PACKAGES[b])
            out.append(str(mod.FONT_PATH))
        except Exception:  # noqa: BLE001 - the package is optional at run time
            pass
    w, bb, bd = ("Bold", "-Bold", "bd") if bold else ("Regular", "", "")
    for pat in _SYSTEM_FALLBACK_GLOBS:
        out.extend(sorted(glob.glob(pat.format(w=w, b=bb, bd=bd), recursive=True))[:2])
    seen: dict[str, None] = {}
    for p in out:
        if os.path.isfile(p):
            seen.setdefault(p)
    return tuple(seen)


@functools.lru_cache(maxsize=64)
def _pil_font(path: str, size: int):
    from PIL import ImageFont

    try:
        idx = 0
        return ImageFont.truetype(path, size=max(1, int(size)), index=idx)
    except OSError as e:
        raise ParameterError(f"font {path} cannot be loaded ({e})") from None


@dataclass
class Run:
    text: str
    path: str


def split_runs(text: str, primary: Path, bold: bool) -> list[Run]:
    """Split ``text`` into runs, each drawn with the first font that has its characters."""
    prim = str(primary)
    have = _cmap(prim)
    runs: list[Run] = []
    fallbacks: tuple[str, ...] | None = None
    for ch in text:
        cp = ord(ch)
        if ch.isspace() and runs:   # a space keeps the font of the run it is in
            runs[-1].text += ch
            continue
        path = prim
        if cp not in have and not ch.isspace():
            if fallbacks is None:
                fallbacks = fallback_paths(bold)
            for fp in fallbacks:
                if cp in _cmap(fp):
                    path = fp
                    break
            else:
                raise ParameterError(
                    f"no font has the character {ch!r} (U+{cp:04X}) in {text!r}: install the CJK font package "
                    f"(pip install noto-cjk-sans-jp-regular noto-cjk-sans-jp-bold) or give a font that has it "
                    f"(style.font / --font)")
        if runs and runs[-1].path == path:
            runs[-1].text += ch
        else:
            runs.append(Run(ch, path))
    return runs


@dataclass
class TextBlock:
    """A line of text measured at a pixel size: draw it with :meth:`mask`."""

    text: str
    runs: list[Run]
    size: int          # font size in pixels (em)
    width: int
    ascent: int        # above the baseline, of the tallest run
    descent: int       # below the baseline

    @property
    def height(self) -> int:
        return self.ascent + self.descent

    def mask(self) -> np.ndarray:
        """Coverage of the text, float32 H×W in [0, 1], baseline at ``ascent``."""
        from PIL import Image, ImageDraw

        w, h = max(1, self.width), max(1, self.height)
        img = Image.new("L", (w, h), 0)
        d = ImageDraw.Draw(img)
        x = 0.0
        for r in self.runs:
            f = _pil_font(r.path, self.size)
            d.text((x, self.ascent), r.text, font=f, fill=255, anchor="ls")
            x += f.getlength(r.text)
        return np.asarray(img, dtype=np.float32) * (1.0 / 255.0)


def measure(text: str, font: Path, size: int, bold: bool) -> TextBlock:
    """Measure ``text`` at ``size`` pixels with ``font`` and its fallbacks."""
    size = max(4, int(round(size)))
    runs = split_runs(text, font, bold)
    width = 0.0
    asc = desc = 0
    for r in runs:
        f = _pil_font(r.path, size)
        width += f.getlength(r.text)
        if r.text.strip():
            l, t, rr, b = f.getbbox(r.text, anchor="ls")
            asc, desc = max(asc, -t), max(desc, b)
    # ascent/descent from the whole font, not the ink, so lines with and without descenders align
    f0 = _pil_font(str(font), size)
    a0, d0 = f0.getmetrics()
    cap = -f0.getbbox("H", anchor="ls")[1]
    asc = max(asc, cap)
    desc = max(desc, int(round(0.22 * size)) if d0 else 0)
    return TextBlock(text, runs, size, int(np.ceil(width)) + 2, int(asc) + 1, int(desc) + 1)


def fit(text: str, font: Path, size: float, bold: bool, max_width: float, allow_shrink: bool = True,
        where: str = "text") -> TextBlock:
    """Measure, shrinking the size so the line fits ``max_width`` (or fail if shrinking is off)."""
    tb = measure(text, font, int(round(size)), bold)
    if tb.width <= max_width:
        return tb
    if not allow_shrink:
        raise ParameterError(f"{where}: {text!r} is {tb.width}px wide at {tb.size}px, wider than the "
                             f"{int(max_width)}px available; shorten it or set layout.scale_to_fit = true")
    new = max(4, int(size * max_width / tb.width))
    tb = measure(text, font, new, bold)
    while tb.width > max_width and tb.size > 4:
        tb = measure(text, font, tb.size - 1, bold)
    return tb
