"""``rawlux calibrate``: fit a camera profile from a raw photo of a ColorChecker 24.

    rawlux calibrate CHART.dng -o camera.toml
    rawlux calibrate chart.raw --raw 1920x1080,12,BGGR,16 --corners 982,731,2756,740,2702,1884,1020,1848 -o cam.toml

Prints ΔE00 per patch before (white balance only) and after (the fitted profile) and writes a picture of
reference vs measured swatches beside the profile (``camera-swatches.png``) unless ``--no-picture``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import numpy as np

from ..cli.common import guarded
from ..errors import InputError, ParameterError

CHARTS = ("colorchecker24",)
#: the white patch may reach this fraction of the clip level; the chart is "underexposed" below the other bound
SATURATED, UNDEREXPOSED = 0.98, 0.04


def parse_illuminant(value: str | None) -> tuple[float, float] | None:
    """--illuminant A | D50 | D65 | … (EXIF names) | 3200K[,tint] | x,y."""
    from . import temperature

    if value is None:
        return None
    v = value.strip()
    names = {n.lower(): k for k, n in temperature.ILLUMINANT_NAMES.items()}
    if v.lower() in names:
        return temperature.illuminant_xy(names[v.lower()])
    import re

    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*[kK](?:\s*,\s*([+-]?\d+(?:\.\d+)?))?", v)
    if m:
        return temperature.temp_tint_to_xy(float(m.group(1)), float(m.group(2) or 0.0))
    m = re.fullmatch(r"(0?\.\d+)\s*,\s*(0?\.\d+)", v)
    if m:
        return (float(m.group(1)), float(m.group(2)))
    raise ParameterError(f"--illuminant {value!r}: unknown illuminant; use a name "
                         f"({', '.join(sorted(set(temperature.ILLUMINANT_NAMES.values())))}), "
                         "a temperature like 3200K[,tint], or chromaticity x,y")


def check_exposure(reading: Any, where: str, names: list[str]) -> None:
    """Refuse charts whose patches are clipped or too dark to measure."""
    # reading.clipped: the share of each patch's pixels with a channel at the sensor's clip level, as the
    # decoder found it in the data (a real ceiling, not merely the brightest values): only those are refused
    clipped = [k for k in range(24) if reading.clipped[k] > 0.02]
    if clipped:
        lst = ", ".join(f"{k + 1} ({names[k]}, {reading.clipped[k] * 100:.0f}% of it)" for k in clipped)
        verb = "patch {} reaches" if len(clipped) == 1 else "patches {} reach"
        raise InputError(f"the chart is saturated: {verb.format(lst)} the clip level; "
                         "expose about one stop less and shoot it again", path=where)
    white = float(np.max(reading.rgb[18]))
    if white < UNDEREXPOSED:
        raise InputError(f"the chart is underexposed: its white patch reaches only {white * 100:.1f}% of the "
                         f"raw range (need ≥ {UNDEREXPOSED * 100:.0f}%); expose it brighter", path=where)
    if np.any(reading.rgb[19:23] <= 0):
        raise InputError("the grey patches read zero or below after black subtraction: the black level "
                         "is wrong (check --raw …,BLACK)", path=where)


def run_calibration(chart_path: str, *, out: str | None = None, chart: str = "colorchecker24",
                    raw: str | None = None, cfa: str | None = None, corners: str | None = None,
                    illuminant: str | None = None, table: bool = True, picture: str | None = None,
                    name: str | None = None) -> Any:
    """Library entry of ``rawlux calibrate``: read the chart, fit, write the profile; returns the Calibration."""
    from ..io.decode import open_image
    from . import calibrate as cal
    from .chart import parse_corners, read_chart

    if chart not in CHARTS:
        raise ParameterError(f"--chart {chart!r}: unknown chart (supported: {', '.join(CHARTS)})")
    xy = parse_illuminant(illuminant)
    quad = parse_corners(corners) if corners else None
    frame = open_image(chart_path, raw=raw, cfa=cfa)
    if frame.meta.kind != "raw" or frame.meta.cfa_pattern is None:
        raise InputError("calibration needs a Bayer raw photo of the chart (a DNG/raw file, or --raw/--cfa)",
                         path=chart_path)
    reading = read_chart(frame, quad)
    if xy is None and any(getattr(frame.meta, f"color_matrix{i}") is not None for i in (1, 2)):
        # the file's own matrices say which light makes the chart's greys neutral
        from .profile import CameraProfile
        neutral = reading.rgb[19:23].sum(0) / reading.rgb[19:23, 1].sum()
        xy = CameraProfile.from_metadata(frame.meta).neutral_to_xy(neutral)
    _, names = cal.reference_lab(chart)
    check_exposure(reading, chart_path, names)
    result = cal.fit_profile(reading.rgb, chart, xy=xy, table=table)
    if out:
        make, model = frame.meta.make.strip(), frame.meta.model.strip()
        camera = model if not make or model.lower().startswith(make.lower()) else f"{make} {model}"
        result.write(out, name=name, camera=camera)
    if picture:
        swatch_picture(result, picture)
    result.corners = reading.corners  # type: ignore[attr-defined]
    return result


def swatch_picture(result: Any, path: str, size: int = 72) -> Path:
    """Reference (top-left triangle… left half) vs measured (right half) swatches, before and after, as sRGB."""
    from PIL import Image, ImageDraw

    from . import spaces
    from .difference import delta_e00

    def lab_to_srgb(lab: np.ndarray) -> np.ndarray:
        L, a, b = lab[:, 0], lab[:, 1], lab[:, 2]
        fy = (L + 16) / 116
        f = np.stack([fy + a / 500, fy, fy - b / 200], 1)
        t = np.where(f > 6 / 29, f ** 3, 3 * (6 / 29) ** 2 * (f - 4 / 29))
        xyz = t * spaces.xy_to_XYZ(spaces.D50_XY)
        m = spaces.xyz_to_rgb("srgb") @ spaces.adaptation(spaces.D50_XY, spaces.D65_XY)
        return (spaces.encode(xyz @ m.T, "srgb") * 255 + 0.5).astype(np.uint8)

    ref = lab_to_srgb(result.ref_lab)
    before = lab_to_srgb(result.before_lab)
    after = lab_to_srgb(result.after_lab)
    de_b = delta_e00(result.before_lab, result.ref_lab)
    de_a = delta_e00(result.after_lab, result.ref_lab)
    pad = 8
    w = pad + 6 * (size + pad)
    h = 2 * (pad + 4 * (size + pad)) + 24
    img = Image.new("RGB", (w, h), (40, 40, 40))
    d = ImageDraw.Draw(img)
    for block, (meas, de, title) in enumerate(((before, de_b, "white balance only"), (after, de_a, "calibrated"))):
        y0 = block * (pad + 4 * (size + pad) + 12)
        d.text((pad, y0 + 1), f"{title}: left half reference, right half measured; mean dE00 {de.mean():.2f}",
               fill=(230, 230, 230))
        for k in range(24):
            x = pad + (k % 6) * (size + pad)
            y = y0 + 12 + pad + (k // 6) * (size + pad)
            d.rectangle([x, y, x + size // 2 - 1, y + size - 1], fill=tuple(int(v) for v in ref[k]))
            d.rectangle([x + size // 2, y, x + size - 1, y + size - 1], fill=tuple(int(v) for v in meas[k]))
            lum = result.ref_lab[k, 0]
            d.text((x + 3, y + size - 12), f"{de[k]:.1f}", fill=(0, 0, 0) if lum > 55 else (255, 255, 255))
    out = Path(path)
    img.save(out)
    return out


def table_text(result: Any) -> str:
    de_b, de_m, de_a = result.delta_e("before"), result.delta_e("matrix"), result.delta_e("after")
    lines = [f"| {'#':>2} | {'patch':22s} | WB only | matrix | profile |", f"|---:|{'-' * 24}|--------:|-------:|--------:|"]
    for k, n in enumerate(result.names):
        lines.append(f"| {k + 1:2d} | {n[:22]:22s} | {de_b[k]:7.2f} | {de_m[k]:6.2f} | {de_a[k]:7.2f} |")
    lines.append(f"|    | {'mean':22s} | {de_b.mean():7.2f} | {de_m.mean():6.2f} | {de_a.mean():7.2f} |")
    lines.append(f"|    | {'max':22s} | {de_b.max():7.2f} | {de_m.max():6.2f} | {de_a.max():7.2f} |")
    return "\n".join(lines)


@click.command("calibrate")
@click.argument("chart_file", metavar="CHART")
@click.option("--chart", "chart", type=click.Choice(CHARTS), default="colorchecker24", show_default=True,
              help="Which chart is in the photo.")
@click.option("-o", "--out", "out", required=True, help="Profile to write (.toml, or .dcp for other raw developers), for `rawlux develop --profile`.")
@click.option("--raw", "raw", default=None, metavar="WxH,BITS,PATTERN[,BLACK][,le|be]", help="Read CHART as a headerless sensor dump.")
@click.option("--cfa", default=None, metavar="PATTERN[,BLACK[,WHITE]]", help="Read CHART as a mosaic stored in a greyscale PNG/TIFF.")
@click.option("--corners", default=None, metavar="x1,y1,...,x4,y4",
              help="The patch grid's corners in pixels, clockwise from the dark-skin corner (skips detection).")
@click.option("--illuminant", default=None, help="The light on the chart: A, D50, D65, ..., 3200K[,tint] or x,y (default: from the file's matrices, else D50).")
@click.option("--no-table", is_flag=True, help="Fit the matrix only (no hue/saturation table).")
@click.option("--picture", default=None, help="Swatch picture to write (default: OUT's name + -swatches.png).")
@click.option("--no-picture", is_flag=True, help="Do not write the swatch picture.")
@click.option("--overwrite", is_flag=True, help="Replace an existing profile.")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@guarded
def calibrate(chart_file: str, chart: str, out: str, raw: str | None, cfa: str | None, corners: str | None,
              illuminant: str | None, no_table: bool, picture: str | None, no_picture: bool, overwrite: bool,
              debug: bool) -> int:
    """Fit a camera profile from a raw photo of a ColorChecker 24 and report ΔE00 per patch."""
    from ..errors import OutputError

    if raw and cfa:
        raise ParameterError("--raw and --cfa exclude each other")
    if raw:
        from ..io.decode import RawSpec
        RawSpec.parse(raw)
    if cfa:
        from ..io.decode import CfaSpec
        CfaSpec.parse(cfa)
    parse_illuminant(illuminant)
    if Path(out).exists() and not overwrite:
        raise OutputError("exists (use --overwrite to replace it)", path=out)
    pic = None if no_picture else (picture or str(Path(out).with_name(Path(out).stem + "-swatches.png")))
    res = run_calibration(chart_file, out=out, chart=chart, raw=raw, cfa=cfa, corners=corners,
                          illuminant=illuminant, table=not no_table, picture=pic)
    click.echo(table_text(res))
    t, tint = res.cct
    for n in res.notes:
        click.echo(f"note: {n}")
    click.echo(f"light on the chart: {t:.0f} K, tint {tint:+.1f}; profile → {out}" + (f"; swatches → {pic}" if pic else ""))
    return 0
