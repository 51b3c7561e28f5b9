"""Photo frames from EXIF: a bar, a border, a blurred backdrop, an overlay or a square pad, with the shot's
story (device, lens, 35 mm focal length, aperture, shutter, ISO, date, GPS) as data-driven templates.

    >>> import rawlux
    >>> from rawlux.borders import apply_frame
    >>> framed = apply_frame(rawlux.develop("IMG.dng"), template="bar", logo="me.svg",
    ...                      overrides={"text.left": "My camera"})
    >>> rawlux.save(framed, "IMG.jpg")

Templates are TOML (``rawlux frame --list``; built-ins in ``templates/``), see :mod:`rawlux.borders.template`;
text fields are documented in :mod:`rawlux.borders.fields`. The photo's pixels are pasted unchanged.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

__all__ = ["apply_frame", "frame_pixels", "load_template", "builtin_names", "Template", "Layout"]


def __getattr__(name: str) -> Any:
    if name in ("load_template", "builtin_names", "Template"):
        from . import template
        return getattr(template, name)
    if name == "Layout":
        from .render import Layout
        return Layout
    raise AttributeError(f"module 'rawlux.borders' has no attribute {name!r}")


def split_overrides(overrides: Mapping[str, Any] | None, font: str | None = None
                    ) -> tuple[dict[str, Any], dict[str, Any]]:
    """``{"text.left": .., "field.device": .., "style.x": ..}`` → (template overrides, field overrides)."""
    tpl: dict[str, Any] = {}
    fields: dict[str, Any] = {}
    for k, v in (overrides or {}).items():
        if isinstance(v, Mapping) and k == "field":
            fields.update(v)
        elif str(k).startswith("field."):
            fields[str(k)[6:]] = v
        else:
            tpl[k] = v
    if fields:
        from ..errors import ParameterError
        from .fields import FIELD_NAMES
        bad = [k for k in fields if k not in FIELD_NAMES]
        if bad:
            raise ParameterError(f"unknown field(s) {', '.join('field.' + b for b in bad)}; known: "
                                 f"{', '.join(FIELD_NAMES)}")
    if font:
        tpl["style.font"] = font
        tpl["style.bold_font"] = font
    return tpl, fields


def frame_pixels(pixels: Any, exif: Mapping[str, Any] | None = None, template: Any = "bar",
                 logo: Any = None, overrides: Mapping[str, Any] | None = None, *, font: str | None = None):
    """Frame an H×W×3 array (uint8, uint16 or float in [0, 1], display-encoded).

    Returns ``(framed array of the same dtype, Layout)``.
    """
    import numpy as np

    from .logo import Logo
    from .render import render
    from .template import load_template

    tpl_over, field_over = split_overrides(overrides, font)
    tpl = load_template(template, tpl_over)
    lg = logo if (logo is None or isinstance(logo, Logo)) else Logo(logo)
    px = np.asarray(pixels)
    if px.ndim == 2:
        px = np.repeat(px[..., None], 3, axis=2)
    return render(np.ascontiguousarray(px), exif or {}, tpl, lg, field_over)


def apply_frame(image: Any, template: "str | Path | Any" = "bar", logo: "str | Path | None" = None,
                overrides: Mapping[str, Any] | None = None, *, font: str | None = None,
                exif: Mapping[str, Any] | None = None) -> Any:
    """Put a frame around a developed photo: the last step of develop / batch.

    ``image`` is a DISPLAY-state :class:`~rawlux.frame.Frame` (float32 H×W×3 in [0, 1], EXIF in
    ``meta.exif``) or an H×W×3 array (then pass ``exif``). ``template`` is a built-in name or a .toml path;
    ``logo`` a PNG or SVG; ``overrides`` like ``{"text.left": "...", "field.device": "...",
    "layout.bar_height": 0.1}``. Returns a new Frame (or array) with the photo's pixels unchanged inside
    it; the layout is in ``meta.extra["frame_layout"]``.
    """
    from ..errors import ParameterError
    from ..frame import Frame, State

    if isinstance(image, Frame):
        if image.state is not State.DISPLAY:
            raise ParameterError(f"frames go on a developed photo (state DISPLAY), not {image.state.name}: "
                                 f"develop it first")
        if image.pixels.ndim != 3 or image.pixels.shape[2] != 3:
            raise ParameterError(f"frames need an H×W×3 frame, got {image.shape}")
        px, layout = frame_pixels(image.pixels, exif if exif is not None else image.meta.exif, template, logo,
                                  overrides, font=font)
        out = image.with_pixels(px)
        out.meta.history.append("frame")
        out.meta.extra["frame_layout"] = layout.as_dict()
        return out
    px, _layout = frame_pixels(image, exif, template, logo, overrides, font=font)
    return px
