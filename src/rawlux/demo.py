"""`rawlux demo`: the bundled sample raw through every built-in look, plus a contact sheet.

The sample is a 256×344 crop of a phone's 10-bit GRBG Bayer sensor (black level 50), shipped with two calibrated
colour matrices (3200 K and 7000 K) as a rawlux camera profile; MIT licence (see data/LICENSE-demo-n900-halide.txt).
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np

SAMPLE = "demo-n900-grbg-10bit.png"
PROFILE = "demo-n900-profile.toml"
CFA = "GRBG,50,1023"


def sample_paths() -> tuple[Path, Path]:
    base = resources.files("rawlux") / "data"
    return Path(str(base / SAMPLE)), Path(str(base / PROFILE))


def contact_sheet(images: list[tuple[str, np.ndarray]], cols: int = 4, label_h: int = 22) -> "object":
    from PIL import Image, ImageDraw

    h, w = images[0][1].shape[:2]
    rows = (len(images) + cols - 1) // cols
    pad = 8
    sheet = Image.new("RGB", (cols * (w + pad) + pad, rows * (h + label_h + pad) + pad), (24, 24, 24))
    draw = ImageDraw.Draw(sheet)
    for i, (name, px) in enumerate(images):
        r, c = divmod(i, cols)
        x, y = pad + c * (w + pad), pad + r * (h + label_h + pad)
        sheet.paste(Image.fromarray(np.clip(px * 255 + 0.5, 0, 255).astype(np.uint8)), (x, y))
        draw.text((x + 4, y + h + 4), name, fill=(235, 235, 235))
    return sheet


def run_demo(outdir: Path) -> tuple[list[Path], Path]:
    import rawlux
    from .io.atomic import atomic_path
    from .looks import builtin_names

    outdir.mkdir(parents=True, exist_ok=True)
    src, profile = sample_paths()
    paths, shots = [], []
    for name in builtin_names():
        frame = rawlux.develop(src, look=name, cfa=CFA, profile=str(profile))
        dst = outdir / f"demo-{name}.jpg"
        rawlux.save(frame, dst, quality=92, overwrite=True, recipe=frame.meta.extra.get("recipe"))
        paths.append(dst)
        shots.append((name, frame.pixels))
    sheet = contact_sheet(shots)
    dst = outdir / "contact-sheet.png"
    with atomic_path(dst, suffix=".png") as tmp:
        sheet.save(tmp, "PNG")  # type: ignore[attr-defined]
    return paths, dst
