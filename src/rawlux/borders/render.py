"""Lay out and draw a frame around a photo: one function per template kind.

Every size is a fraction of a reference side of the photo (``layout.reference``), so a 200 px and a
50 MP photo get the same proportions. The photo is pasted unchanged (same dtype, same values); the
layout of every drawn element is returned, so tests and callers know where the photo and each line is.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from ..errors import ParameterError
from .canvas import Canvas
from .fields import compute_fields, render_text
from .fonts import TextBlock, fit, resolve_font
from .logo import Logo
from .template import Template

Box = tuple[int, int, int, int]  # x, y, w, h


@dataclass
class Layout:
    """Where things are on the framed image."""

    template: str
    kind: str
    size: tuple[int, int]                      # canvas width, height
    photo: Box                                 # where the photo was pasted
    text: dict[str, str] = field(default_factory=dict)      # slot → the text drawn
    boxes: dict[str, Box] = field(default_factory=dict)     # slot/logo/divider → its box
    font_px: dict[str, int] = field(default_factory=dict)   # slot → font size in pixels
    corner_radius: int = 0                     # blur: photo corners inside this radius are rounded

    def as_dict(self) -> dict[str, Any]:
        return {"template": self.template, "kind": self.kind, "size": self.size, "photo": self.photo,
                "text": dict(self.text), "boxes": dict(self.boxes), "font_px": dict(self.font_px),
                "corner_radius": self.corner_radius}


class _Ctx:
    def __init__(self, t: Template, w: int, h: int, fields: Mapping[str, Any]):
        self.t, self.w, self.h = t, w, h
        ref = t.layout["reference"]
        self.ref = {"height": h, "width": w, "short": min(w, h), "long": max(w, h)}[ref]
        self.shrink = bool(t.layout["scale_to_fit"])
        self.font = resolve_font(t.style["font"], False)
        self.bold_font = resolve_font(t.style["bold_font"], True)
        where = t.path or f"template {t.name!r}"
        self.lines = {k: render_text(v, fields, f"{where}: text.{k}") for k, v in t.text.items()}

    def px(self, frac: float) -> int:
        return int(round(frac * self.ref))

    def block(self, slot: str, size: float, bold: bool, max_w: float) -> TextBlock | None:
        s = self.lines.get(slot, "")
        if not s:
            return None
        return fit(s, self.bold_font if bold else self.font, size, bold, max_w, self.shrink,
                   where=f"template {self.t.name!r} text.{slot}")


def _draw(canvas: Canvas, layout: Layout, slot: str, tb: TextBlock | None, x: int, baseline_top: int,
          colour: tuple[float, float, float]) -> None:
    if tb is None:
        return
    canvas.blend(tb.mask(), x, baseline_top, colour)
    layout.text[slot] = tb.text
    layout.boxes[slot] = (x, baseline_top, tb.width, tb.height)
    layout.font_px[slot] = tb.size


def _stack(blocks: list[TextBlock | None], gap: int) -> tuple[int, list[int]]:
    """Total height of lines stacked with ``gap`` and each line's top offset."""
    tops, y = [], 0
    for b in blocks:
        if b is None:
            tops.append(0)
            continue
        if y:
            y += gap
        tops.append(y)
        y += b.height
    return y, tops


def _centered_lines(c: _Ctx, canvas: Canvas, layout: Layout, band: Box, unit: float,
                    colours: tuple[tuple[float, float, float], tuple[float, float, float]]) -> None:
    """line1 (bold) and line2 centred in ``band``, sized in units of ``unit`` pixels, fitting the band."""
    st = c.t.style
    bx, by, bw, bh = band
    max_w = max(8, bw - 2 * c.px(c.t.layout["padding"]))
    size1, size2 = st["primary_size"] * unit, st["secondary_size"] * unit
    for _ in range(4):  # shrink until the stack fits the band's height
        b1 = c.block("line1", size1, bool(st["primary_bold"]), max_w)
        b2 = c.block("line2", size2, False, max_w)
        gap = int(round(st["line_gap"] * (b1.size if b1 else size2)))
        total, tops = _stack([b1, b2], gap)
        if total <= 0.9 * bh or not c.shrink or total == 0:
            break
        k = 0.9 * bh / total
        size1, size2 = size1 * k, size2 * k
    y0 = by + (bh - total) // 2
    for slot, b, top, col in (("line1", b1, tops[0], colours[0]), ("line2", b2, tops[1], colours[1])):
        if b is not None:
            _draw(canvas, layout, slot, b, bx + (bw - b.width) // 2, y0 + top, col)


# ----------------------------------------------------------------------------- kinds

def _bar(c: _Ctx, photo: np.ndarray, logo: Logo | None, name: str) -> tuple[Canvas, Layout]:
    t, st = c.t, c.t.style
    two = bool(c.lines.get("left2") or c.lines.get("right2"))
    bar_h = max(8, c.px(t.layout["bar_height_two_lines" if two else "bar_height"]))
    W, H = c.w, c.h
    canvas = Canvas(H + bar_h, W, photo.dtype, None)
    canvas.fill_around(0, 0, W, H, t.colour("background"))
    canvas.paste(photo, 0, 0)
    layout = Layout(name, t.kind, (W, H + bar_h), (0, 0, W, H))
    layout.boxes["bar"] = (0, H, W, bar_h)
    pad = c.px(t.layout["padding"])
    inner = max(8, W - 2 * pad)
    s1, s2 = st["primary_size"] * bar_h, st["secondary_size"] * bar_h
    if two:
        s1, s2 = s1 * 0.9, s2 * 0.9
    k = 1.0
    for _ in range(6):
        lb1 = c.block("left", s1 * k, bool(st["primary_bold"]), inner)
        lb2 = c.block("left2", s2 * k, False, inner)
        rb1 = c.block("right", s1 * k, bool(st["right_bold"]), inner)
        rb2 = c.block("right2", s2 * k, False, inner)
        left_w = max([b.width for b in (lb1, lb2) if b] or [0])
        right_w = max([b.width for b in (rb1, rb2) if b] or [0])
        gap = int(round(0.22 * bar_h * k))
        logo_h = int(round(st["logo_height"] * bar_h * k))
        logo_w = int(round(logo_h * logo.aspect)) if logo else 0
        div_w = max(1, int(round(st["divider_width"] * bar_h * k))) if logo else 0
        right_block = right_w + ((logo_w + 2 * gap + div_w) if logo else 0)
        between = int(round(0.5 * bar_h * k)) if left_w and right_block else 0
        total = left_w + between + right_block
        if total <= inner:
            break
        if not c.shrink:
            raise ParameterError(f"template {name!r}: the text does not fit the {W}px wide bar; shorten it or "
                                 f"set layout.scale_to_fit = true")
        k *= 0.97 * inner / total
    col1, col2 = t.colour("primary_color"), t.colour("secondary_color")
    line_gap = int(round(st["line_gap"] * (lb1.size if lb1 else (rb1.size if rb1 else s2))))
    # left column: centred vertically as a group
    total_l, tops_l = _stack([lb1, lb2], line_gap)
    total_r, tops_r = _stack([rb1, rb2], line_gap)
    yl, yr = H + (bar_h - total_l) // 2, H + (bar_h - total_r) // 2
    _draw(canvas, layout, "left", lb1, pad, yl + tops_l[0], col1)
    _draw(canvas, layout, "left2", lb2, pad, yl + tops_l[1], col2)
    xr = W - pad - right_w
    if rb1 is not None:
        _draw(canvas, layout, "right", rb1, xr, yr + tops_r[0], col1)
    if rb2 is not None:
        _draw(canvas, layout, "right2", rb2, xr, yr + tops_r[1], col2)
    if logo is not None:
        # divider, then the logo, left of the right column
        div_h = int(round(0.5 * bar_h))
        dx = xr - gap - div_w if right_w else W - pad - div_w
        dy = H + (bar_h - div_h) // 2
        canvas.fill(dx, dy, div_w, div_h, t.colour("divider_color"))
        layout.boxes["divider"] = (dx, dy, div_w, div_h)
        rgb, alpha = logo.render(max(1, logo_h))
        lx = dx - gap - rgb.shape[1]
        ly = H + (bar_h - rgb.shape[0]) // 2
        canvas.blend(alpha, lx, ly, rgb)
        layout.boxes["logo"] = (lx, ly, rgb.shape[1], rgb.shape[0])
    return canvas, layout


def _border(c: _Ctx, photo: np.ndarray, logo: Logo | None, name: str) -> tuple[Canvas, Layout]:
    t = c.t
    m = c.px(t.layout["margin"])
    has_text = any(c.lines.values())
    ts = c.px(t.layout["text_space"]) if has_text else 0
    W, H = c.w + 2 * m, c.h + 2 * m + ts
    canvas = Canvas(H, W, photo.dtype, None)
    canvas.fill_around(m, m, c.w, c.h, t.colour("background"))
    canvas.paste(photo, m, m)
    layout = Layout(name, t.kind, (W, H), (m, m, c.w, c.h))
    band = (0, m + c.h, W, H - m - c.h)
    _centered_lines(c, canvas, layout, band, max(1, ts), (t.colour("primary_color"), t.colour("secondary_color")))
    _logo_below(canvas, layout, logo, band, c)
    return canvas, layout


def _logo_below(canvas: Canvas, layout: Layout, logo: Logo | None, band: Box, c: _Ctx) -> None:
    """Centred kinds put a logo in the band's left margin, vertically centred."""
    if logo is None:
        return
    bx, by, bw, bh = band
    h = max(1, int(round(c.t.style["logo_height"] * bh * 0.8)))
    rgb, alpha = logo.render(h)
    x = bx + c.px(c.t.layout["padding"]) + c.px(c.t.layout["margin"])
    left_edge = min([b[0] for k, b in layout.boxes.items() if k.startswith("line")] or [bx + bw])
    if x + rgb.shape[1] > left_edge - 4:
        return  # no room beside the text: a logo never covers text
    y = by + (bh - h) // 2
    canvas.blend(alpha, x, y, rgb)
    layout.boxes["logo"] = (x, y, rgb.shape[1], rgb.shape[0])


def _rounded_mask(h: int, w: int, r: float) -> np.ndarray:
    """Anti-aliased coverage of a w×h rectangle with corners of radius r (float32)."""
    yy = np.arange(h, dtype=np.float32)[:, None] + 0.5
    xx = np.arange(w, dtype=np.float32)[None, :] + 0.5
    dx = np.maximum(np.maximum(r - xx, xx - (w - r)), 0)
    dy = np.maximum(np.maximum(r - yy, yy - (h - r)), 0)
    d = np.sqrt(dx * dx + dy * dy) - r
    return np.clip(0.5 - d, 0.0, 1.0).astype(np.float32)


def _blur(c: _Ctx, photo: np.ndarray, logo: Logo | None, name: str) -> tuple[Canvas, Layout]:
    import cv2

    t = c.t
    m = c.px(t.layout["margin"])
    has_text = any(c.lines.values())
    ts = c.px(t.layout["text_space"]) if has_text else 0
    W, H = c.w + 2 * m, c.h + 2 * m + ts
    canvas = Canvas(H, W, photo.dtype, None)
    # the background is computed small (it is blurred anyway) and scaled up once
    s = min(1.0, 640.0 / max(W, H))
    sw, sh = max(2, int(round(W * s))), max(2, int(round(H * s)))
    cover = max(sw / c.w, sh / c.h)
    cw, ch = max(sw, int(np.ceil(c.w * cover))), max(sh, int(np.ceil(c.h * cover)))
    small = cv2.resize(photo, (cw, ch), interpolation=cv2.INTER_AREA)
    ox, oy = (cw - sw) // 2, (ch - sh) // 2
    bg = canvas.decode(small[oy:oy + sh, ox:ox + sw])
    sigma = max(0.5, t.layout["blur"] * c.ref * s)
    bg = cv2.GaussianBlur(bg, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    bg *= np.float32(1.0 - t.layout["darken"])
    r = c.px(t.layout["radius"])
    sh_px = c.px(t.layout["shadow"])
    if sh_px > 0:
        # soft shadow: the photo's rounded shape, offset down, blurred, darkening the background
        pm = np.zeros((sh, sw), np.float32)
        x0, y0 = int(round(m * s)), int(round((m + 0.35 * sh_px) * s))
        mw, mh = max(1, int(round(c.w * s))), max(1, int(round(c.h * s)))
        rmask = _rounded_mask(mh, mw, r * s)[: max(0, sh - y0), : max(0, sw - x0)]
        pm[y0:y0 + rmask.shape[0], x0:x0 + rmask.shape[1]] = rmask
        pm = cv2.GaussianBlur(pm, (0, 0), max(0.5, sh_px * s))
        bg *= (1.0 - 0.65 * pm)[..., None]
    big = cv2.resize(canvas.encode(bg), (W, H), interpolation=cv2.INTER_LINEAR)
    canvas.px = np.ascontiguousarray(big.reshape(H, W, 3))
    r = min(r, c.w // 2, c.h // 2)
    corners_bg = {(qy, qx): canvas.decode(canvas.px[m + (c.h - r if qy else 0):m + (c.h if qy else r),
                                                    m + (c.w - r if qx else 0):m + (c.w if qx else r)])
                  for qy in (0, 1) for qx in (0, 1)}
    canvas.paste(photo, m, m)
    layout = Layout(name, t.kind, (W, H), (m, m, c.w, c.h), corner_radius=r)
    if r > 0:
        # rounded corners: only the four r×r corner squares are blended with the background
        rm = _rounded_mask(2 * r, 2 * r, r)
        for (qy, qx) in ((0, 0), (0, 1), (1, 0), (1, 1)):
            y, x = m + (c.h - r if qy else 0), m + (c.w - r if qx else 0)
            a = 1.0 - rm[qy * r:(qy + 1) * r, qx * r:(qx + 1) * r]
            canvas.blend(a, x, y, corners_bg[(qy, qx)])
    band = (0, m + c.h, W, H - m - c.h)
    _centered_lines(c, canvas, layout, band, max(1, ts), ((1.0, 1.0, 1.0), (0.82, 0.82, 0.82)))
    _logo_below(canvas, layout, logo, band, c)
    return canvas, layout


def _overlay(c: _Ctx, photo: np.ndarray, logo: Logo | None, name: str) -> tuple[Canvas, Layout]:
    import cv2

    t, st = c.t, c.t.style
    canvas = Canvas(c.h, c.w, photo.dtype, None)
    canvas.paste(photo, 0, 0)
    layout = Layout(name, t.kind, (c.w, c.h), (0, 0, c.w, c.h))
    unit = 0.09 * c.ref
    pad = c.px(t.layout["padding"])
    max_w = max(8, c.w - 2 * pad)
    b1 = c.block("line1", st["primary_size"] * unit, bool(st["primary_bold"]), max_w)
    b2 = c.block("line2", st["secondary_size"] * unit, False, max_w)
    gap = int(round(st["line_gap"] * (b1.size if b1 else st["secondary_size"] * unit)))
    total, tops = _stack([b1, b2], gap)
    if total == 0:
        return canvas, layout
    width = max(b.width for b in (b1, b2) if b)
    corner = t.layout["corner"]
    x0 = pad if corner.endswith("left") else c.w - pad - width
    y0 = pad if corner.startswith("top") else c.h - pad - total
    if st["overlay_color"] == "auto":
        # adaptive contrast: light text on a dark area, dark text on a light one
        bright = canvas.mean_luma(x0, y0, width, total) > 0.55
        fg, shadow = ((0.07, 0.07, 0.07), (1.0, 1.0, 1.0)) if bright else ((1.0, 1.0, 1.0), (0.0, 0.0, 0.0))
    else:
        fg = t.colour("overlay_color")
        shadow = (0.0, 0.0, 0.0) if sum(fg) > 1.5 else (1.0, 1.0, 1.0)
    for slot, b, top in (("line1", b1, tops[0]), ("line2", b2, tops[1])):
        if b is None:
            continue
        x = x0 if corner.endswith("left") else c.w - pad - b.width
        mk = b.mask()
        blur = max(1.0, b.size * 0.06)
        pd = int(3 * blur) + 1
        halo = cv2.GaussianBlur(np.pad(mk, pd), (0, 0), blur)
        canvas.blend(np.clip(halo * 0.55, 0, 1), x - pd, y0 + top - pd, shadow)
        _draw(canvas, layout, slot, b, x, y0 + top, fg)
    return canvas, layout


def _square(c: _Ctx, photo: np.ndarray, logo: Logo | None, name: str) -> tuple[Canvas, Layout]:
    t = c.t
    long_side = max(c.w, c.h)
    m = int(round(t.layout["margin"] * long_side))
    has_text = any(c.lines.values())
    ts = c.px(t.layout["text_space"]) if has_text else 0
    # a square that holds the photo with its margin and, below it, a band for the text
    S = max(c.w + 2 * m, c.h + m + max(m, ts))
    canvas = Canvas(S, S, photo.dtype, None)
    x = (S - c.w) // 2
    free = S - c.h
    y = free // 2 if (not has_text or free - free // 2 >= ts) else max(0, free - max(m, ts))
    canvas.fill_around(x, y, c.w, c.h, t.colour("background"))
    canvas.paste(photo, x, y)
    layout = Layout(name, t.kind, (S, S), (x, y, c.w, c.h))
    band = (0, y + c.h, S, S - y - c.h)
    _centered_lines(c, canvas, layout, band, max(1, ts), (t.colour("primary_color"), t.colour("secondary_color")))
    _logo_below(canvas, layout, logo, band, c)
    return canvas, layout


KINDS = {"bar": _bar, "border": _border, "blur": _blur, "overlay": _overlay, "square": _square}


def render(photo: np.ndarray, exif: Mapping[str, Any], template: Template, logo: Logo | None = None,
           fields: Mapping[str, Any] | None = None) -> tuple[np.ndarray, Layout]:
    """Frame ``photo`` (H×W×3 uint8/uint16/float32, display-encoded) with ``template``.

    ``fields`` override or add EXIF-derived fields (e.g. ``{"device": "My camera"}``).
    Returns the framed pixels (same dtype) and the layout.
    """
    if photo.ndim != 3 or photo.shape[2] != 3:
        raise ParameterError(f"frames need an H×W×3 RGB image, got shape {photo.shape}")
    if photo.dtype.kind == "f" and photo.dtype != np.float32:
        photo = photo.astype(np.float32)
    h, w = photo.shape[:2]
    if h < 16 or w < 16:
        raise ParameterError(f"image is {w}×{h}: too small to frame (at least 16×16)")
    fl = compute_fields(exif or {}, (w, h))
    if fields:
        for k, v in fields.items():
            if v in (None, ""):
                fl.pop(k, None)
            else:
                fl[k] = v
    ctx = _Ctx(template, w, h, fl)
    canvas, layout = KINDS[template.kind](ctx, photo, logo, template.name)
    return canvas.px, layout
