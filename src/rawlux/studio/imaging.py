"""What the studio shows: preview renders as JPEG bytes, histograms, thumbnails, and the slider table."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..pipeline.preview import PROXY_LONG, PreviewRunner  # noqa: F401 - PROXY_LONG: the largest preview size

THUMB_LONG = 256

#: the sliders the page shows: (stage, field, label)
SLIDERS = [
    ("exposure", "ev", "Exposure"),
    ("whitebalance", "temp_shift", "Temperature"),
    ("whitebalance", "tint_shift", "Tint"),
    ("tone", "contrast", "Contrast"),
    ("curve", "highlights", "Highlights"),
    ("curve", "shadows", "Shadows"),
    ("saturation", "saturation", "Saturation"),
    ("saturation", "vibrance", "Vibrance"),
    ("clarity", "amount", "Clarity"),
    ("vignette", "amount", "Vignette"),
    ("grain", "amount", "Grain"),
]


def jpeg_bytes(px: Any, quality: int = 90) -> bytes:
    import cv2
    import numpy as np

    from .security import StudioError
    u8 = (np.clip(px, 0, 1) * 255.0 + 0.5).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(u8[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover
        raise StudioError(500, "JPEG encoding failed")
    return buf.tobytes()


def histogram(px: Any, bins: int = 64) -> list[list[int]]:
    import numpy as np
    q = np.minimum((px.reshape(-1, 3) * bins).astype(np.int32), bins - 1)
    return [np.bincount(q[:, c], minlength=bins).tolist() for c in range(3)]


def slider_specs() -> list[dict[str, Any]]:
    from ..pipeline.order import get_stage, stage_names
    from ..pipeline.stage import describe
    names = set(stage_names())
    out = []
    for stage, field, label in SLIDERS:
        if stage not in names:
            continue
        rows = {r["name"]: r for r in describe(get_stage(stage).Params)}
        r = rows.get(field)
        if r is None or r["min"] is None or r["max"] is None or r["type"] not in ("float", "int"):
            continue
        out.append({"stage": stage, "field": field, "label": label, "min": r["min"], "max": r["max"],
                    "default": r["default"], "doc": r["doc"]})
    return out


class Renderer(PreviewRunner):
    """The studio's preview runner: :class:`~rawlux.pipeline.preview.PreviewRunner` plus cached thumbnails."""

    def __init__(self, capacity: int = 6):
        super().__init__(capacity)
        self._thumbs: dict[tuple, bytes] = {}

    def thumb(self, path: Path) -> bytes:
        st = path.stat()
        key = (str(path), st.st_mtime_ns, st.st_size)
        with self._lock:
            if key in self._thumbs:
                return self._thumbs[key]
        data = jpeg_bytes(self.render(path, self.recipe(path, "natural", None), THUMB_LONG), 85)
        with self._lock:
            self._thumbs[key] = data
        return data

    def render_jpeg(self, path: Path, recipe: Any, size: int | None, border: str | None) -> tuple[Any, bytes]:
        """(pixels, JPEG) of the preview, with the border when one is asked."""
        import numpy as np

        fr = self.render_frame(path, recipe, size)
        if border is not None:
            from ..borders import apply_frame
            fr = apply_frame(fr, template=border)
        px = fr.pixels
        if px.ndim == 2:
            px = np.repeat(px[..., None], 3, axis=2)
        px = np.clip(px, 0.0, 1.0)
        return px, jpeg_bytes(px)
