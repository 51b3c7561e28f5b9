"""User logos: PNG (or any raster Pillow reads, with alpha) and SVG (rendered by resvg-py, a pip wheel)."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError


class Logo:
    """A logo file, checked when opened and rendered at any height."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise InputError("logo file does not exist; give a PNG or SVG file", path=self.path)
        self.is_svg = self.path.suffix.lower() in (".svg", ".svgz")
        self._raster = None
        if self.is_svg:
            self.aspect = self._svg_aspect()
        else:
            from PIL import Image

            try:
                with Image.open(self.path) as im:
                    im.load()
                    self._raster = im.convert("RGBA")
            except Exception as e:  # noqa: BLE001 - truncated, not an image, ...
                raise InputError(f"logo cannot be read as an image ({type(e).__name__}: {e}); give a PNG or SVG file",
                                 path=self.path) from None
            w, h = self._raster.size
            if w < 1 or h < 1:
                raise InputError(f"logo has no pixels ({w}×{h})", path=self.path)
            self.aspect = w / h

    def _render_svg(self, height: int | None = None) -> Any:
        try:
            import resvg_py
        except ImportError:
            raise InputError("SVG logos need the resvg-py package (pip install resvg-py); or give a PNG",
                             path=self.path) from None
        from PIL import Image

        try:
            png = resvg_py.svg_to_bytes(svg_path=str(self.path), height=height) if height else \
                resvg_py.svg_to_bytes(svg_path=str(self.path))
            im = Image.open(io.BytesIO(bytes(png)))
            im.load()
        except Exception as e:  # noqa: BLE001 - parse errors come back as ValueError / OSError
            raise InputError(f"logo cannot be rendered as SVG ({type(e).__name__}: {e})", path=self.path) from None
        return im.convert("RGBA")

    def _svg_aspect(self) -> float:
        im = self._render_svg()
        w, h = im.size
        if w < 1 or h < 1:
            raise InputError(f"SVG logo has no size ({w}×{h})", path=self.path)
        return w / h

    def render(self, height: int) -> tuple[np.ndarray, np.ndarray]:
        """RGB float32 h×w×3 in [0, 1] and alpha h×w, ``height`` pixels tall."""
        from PIL import Image

        height = max(1, int(height))
        width = max(1, int(round(height * self.aspect)))
        if self.is_svg:
            im = self._render_svg(height)
            if im.size != (width, height):
                im = im.resize((width, height), Image.Resampling.LANCZOS)
        else:
            im = self._raster.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
        a = np.asarray(im, dtype=np.float32) * (1.0 / 255.0)
        return np.ascontiguousarray(a[..., :3]), np.ascontiguousarray(a[..., 3])
