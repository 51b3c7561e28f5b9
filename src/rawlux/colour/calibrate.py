"""Camera profile calibration from a photographed colour chart.

The fit follows the DNG model: white-balanced camera RGB (the chart's neutral → 1, 1, 1) is mapped to XYZ
relative to D50 by a *forward matrix* whose rows are constrained so that (1, 1, 1) lands exactly on the D50
white (neutrals stay neutral). The six remaining degrees of freedom are chosen to minimise CIEDE2000 over the
patches (starting from the constrained least-squares solution in XYZ); a free exposure scale is fitted with
them and discarded. Optionally a smooth hue/saturation table (the DNG HueSatMap model, see :mod:`.dcp`) is
fitted on top of the matrix with smoothness penalties, so that it stays well behaved between the patches.

The resulting profile is written as rawlux profile TOML (one ``[[calibration]]`` with ``color_matrix``,
``forward_matrix`` and the chart's illuminant), which :meth:`CameraProfile.from_file` loads.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import OutputError, ParameterError
from . import spaces, temperature

D50_XYZ = spaces.xy_to_XYZ(spaces.D50_XY)
NEUTRAL_PATCHES = (19, 20, 21, 22)    # 0-based: neutral 8 … neutral 3.5 (white and black left out)
MIDDLE_GREY = 21                      # neutral 5


# ----------------------------------------------------------------------------- colour maths

from .difference import delta_e00, xyz_to_lab  # noqa: E402,F401 - the one ΔE00 (colour/difference.py)


def _spectral_setup(shape_step: float = 5.0) -> tuple[Any, np.ndarray, np.ndarray]:
    import colour

    shape = colour.SpectralShape(380, 780, shape_step)
    refl = colour.SDS_COLOURCHECKERS["BabelColor Average"]
    R = np.array([sd.copy().align(shape).values for sd in refl.values()])
    cmfs = colour.MSDS_CMFS["CIE 1931 2 Degree Standard Observer"].copy().align(shape).values
    return shape, R, cmfs


def illuminant_spd(xy: tuple[float, float], shape: Any) -> np.ndarray:
    """A plausible spectrum for a light of chromaticity ``xy``: CIE A at its point, CIE daylight from
    4000 K up, Planckian radiation below."""
    import colour

    if abs(xy[0] - 0.44757) + abs(xy[1] - 0.40745) < 2e-3:
        return colour.SDS_ILLUMINANTS["A"].copy().align(shape).values
    cct = temperature.xy_to_temp_tint(xy)[0]
    if cct >= 4000:
        sd = colour.sd_CIE_illuminant_D_series(np.asarray(temperature.daylight_xy(cct)))
        return sd.copy().align(shape).values
    return colour.sd_blackbody(float(cct), shape).values


def reference_lab(chart: str = "colorchecker24", xy: tuple[float, float] | None = None) -> tuple[np.ndarray, list[str]]:
    """Reference XYZ (D50, Y of the perfect white = 1) and names of the chart's patches.

    ColorChecker 24: BabelColor's average spectral reflectances (as colour-science ships them), rendered
    under the light on the chart (``xy``; D50 when None) and adapted to D50 with Bradford, so the target is
    what the chart looks like to an observer adapted to that light.
    """
    if chart != "colorchecker24":
        raise ParameterError(f"unknown chart {chart!r} (supported: colorchecker24)")
    import colour  # heavy; only the calibrate command pays for it

    names = list(colour.SDS_COLOURCHECKERS["BabelColor Average"].keys())
    shape, R, cmfs = _spectral_setup()
    E = illuminant_spd(xy or spaces.D50_XY, shape)
    k = 1.0 / float(E @ cmfs[:, 1])
    xyz = (R * E) @ cmfs * k
    white = E @ cmfs * k
    xyz = xyz @ spaces.adaptation(spaces.XYZ_to_xy(white), spaces.D50_XY).T
    return xyz, names


# ----------------------------------------------------------------------------- matrix fit

def _rows_from_params(p: np.ndarray, white: np.ndarray) -> np.ndarray:
    """3×3 matrix whose rows sum to ``white`` from 6 free numbers."""
    m = np.empty((3, 3))
    for i in range(3):
        a, b = p[2 * i], p[2 * i + 1]
        m[i] = (a, b, white[i] - a - b)
    return m


def fit_forward_matrix_ls(cam_wb: np.ndarray, ref_xyz: np.ndarray, white: np.ndarray = D50_XYZ,
                          weights: np.ndarray | None = None) -> np.ndarray:
    """Least squares (XYZ) 3×3 matrix with the white-preserving constraint ``M @ 1 = white``."""
    cam = np.asarray(cam_wb, np.float64)
    ref = np.asarray(ref_xyz, np.float64)
    w = np.ones(len(cam)) if weights is None else np.asarray(weights, np.float64)
    sw = np.sqrt(w)[:, None]
    # row i: a*(r - b) + b*(g - b) = X - w_i*b   with c = w_i - a - b
    A = np.stack([cam[:, 0] - cam[:, 2], cam[:, 1] - cam[:, 2]], 1) * sw
    p = []
    for i in range(3):
        y = (ref[:, i] - white[i] * cam[:, 2]) * sw[:, 0]
        sol, *_ = np.linalg.lstsq(A, y, rcond=None)
        p += list(sol)
    return _rows_from_params(np.array(p), white)


def fit_forward_matrix(cam_wb: np.ndarray, ref_xyz: np.ndarray, *, white: np.ndarray = D50_XYZ,
                       metric: str = "de2000", exclude: tuple[int, ...] = ()) -> tuple[np.ndarray, float]:
    """White-preserving 3×3 matrix (white-balanced camera RGB → XYZ D50) minimising ΔE00 over the patches.

    Returns the matrix (``M @ 1 = white``) and the exposure scale fitted with it.
    """
    from scipy.optimize import least_squares

    cam = np.asarray(cam_wb, np.float64)
    ref = np.asarray(ref_xyz, np.float64)
    keep = np.array([i not in exclude for i in range(len(cam))])
    cam, ref = cam[keep], ref[keep]
    m0 = fit_forward_matrix_ls(cam, ref, white, weights=1.0 / np.maximum(ref[:, 1], 0.02))
    p0 = np.array([m0[0, 0], m0[0, 1], m0[1, 0], m0[1, 1], m0[2, 0], m0[2, 1]])
    scale0 = float(np.sum((cam @ m0.T)[:, 1] * ref[:, 1]) / np.sum((cam @ m0.T)[:, 1] ** 2))
    if metric == "ls":
        return m0, scale0
    ref_lab = xyz_to_lab(ref, white)

    def resid(q: np.ndarray) -> np.ndarray:
        m = _rows_from_params(q[:6], white)
        return delta_e00(xyz_to_lab(q[6] * cam @ m.T, white), ref_lab)

    r = least_squares(resid, np.r_[p0, scale0], method="lm", x_scale="jac")
    return _rows_from_params(r.x[:6], white), float(r.x[6])


def color_matrix_from_forward(fm: np.ndarray, neutral: np.ndarray, xy: tuple[float, float]) -> np.ndarray:
    """The DNG ColorMatrix (XYZ at illuminant ``xy`` → camera) consistent with a forward matrix and neutral.

    Scaled as DNG writers do: the illuminant's XYZ (Y = 1) maps to camera values whose largest is 1.
    """
    cam_to_xyz = spaces.adaptation(spaces.D50_XY, xy) @ fm @ np.diag(1.0 / np.asarray(neutral, np.float64))
    cm = np.linalg.inv(cam_to_xyz)
    n = cm @ spaces.xy_to_XYZ(xy)
    return cm / float(np.max(n))


# ----------------------------------------------------------------------------- the result

@dataclass
class Calibration:
    """What ``calibrate`` found: the profile and the per-patch errors before and after."""

    forward_matrix: np.ndarray
    color_matrix: np.ndarray
    neutral: np.ndarray
    xy: tuple[float, float]
    names: list[str]
    ref_xyz: np.ndarray
    before_lab: np.ndarray            # the chart after white balance only (camera RGB read as sRGB)
    after_lab: np.ndarray             # the chart through the fitted matrix (and table)
    matrix_lab: np.ndarray            # through the matrix alone
    hue_sat_map: Any = None           # dcp.HueSatMap or None
    notes: list[str] = field(default_factory=list)

    @property
    def ref_lab(self) -> np.ndarray:
        return xyz_to_lab(self.ref_xyz)

    def delta_e(self, which: str = "after") -> np.ndarray:
        lab = {"before": self.before_lab, "after": self.after_lab, "matrix": self.matrix_lab}[which]
        return delta_e00(lab, self.ref_lab)

    @property
    def cct(self) -> tuple[float, float]:
        return temperature.xy_to_temp_tint(self.xy)

    def to_toml(self, name: str = "calibrated") -> str:
        def mat(m: np.ndarray) -> str:
            return "[" + ", ".join("[" + ", ".join(f"{v:.6f}" for v in row) + "]" for row in m) + "]"
        t, tint = self.cct
        de_b, de_a = self.delta_e("before"), self.delta_e("after")
        lines = [
            "# rawlux camera profile, fitted by `rawlux calibrate` on a ColorChecker 24",
            f"# mean ΔE00: white balance only {de_b.mean():.2f}, matrix {self.delta_e('matrix').mean():.2f}, "
            f"this profile {de_a.mean():.2f} (max {de_a.max():.2f})",
            "schema_version = 1",
            f'name = "{_toml_escape(name)}"',
            "",
            "[[calibration]]",
            f"xy = [{self.xy[0]:.5f}, {self.xy[1]:.5f}]   # the chart's light: {t:.0f} K, tint {tint:+.1f}",
            f"color_matrix = {mat(self.color_matrix)}",
            f"forward_matrix = {mat(self.forward_matrix)}",
        ]
        if self.hue_sat_map is not None:
            lines += ["", self.hue_sat_map.to_toml()]
        return "\n".join(lines) + "\n"

    def write(self, path: str | Path, name: str | None = None, overwrite: bool = True, camera: str = "") -> Path:
        """Write the profile: rawlux TOML, or a DCP when ``path`` ends in ``.dcp`` (``camera`` is its
        UniqueCameraModel)."""
        from ..io.atomic import EXISTS, write_text

        out = Path(path)
        if out.exists() and not overwrite:
            raise OutputError(EXISTS, path=out)
        if not (out.parent if str(out.parent) else Path(".")).is_dir():
            raise OutputError(f"folder {out.parent} does not exist", path=out)
        if out.suffix.lower() == ".dcp":
            from .dcpfile import from_calibration, nearest_illuminant, write_dcp
            code, off = nearest_illuminant(self.xy)
            if off > 300:
                self.notes.append(f"a DCP names its light by an EXIF code: written as {temperature.ILLUMINANT_NAMES.get(code, code)} "
                                  f"({off:.0f} K from the chart's light; with one calibration the matrix is used "
                                  "under every light)")
            return write_dcp(out, from_calibration(self, name or out.stem, camera), overwrite=overwrite)
        return write_text(out, self.to_toml(name or out.stem), overwrite=overwrite)


def _toml_escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"')


def fit_profile(cam: np.ndarray, chart: str = "colorchecker24", *, xy: tuple[float, float] | None = None,
                table: bool = True, metric: str = "de2000") -> Calibration:
    """Fit a profile to the camera RGB (not white-balanced, linear, black-subtracted) of the chart's patches.

    ``xy`` is the chromaticity of the light on the chart (it selects the spectral reference and the
    ColorMatrix's illuminant); D50 is assumed when None.
    """
    from . import dcp

    cam = np.asarray(cam, np.float64)
    if cam.shape != (24, 3) or not np.all(np.isfinite(cam)):
        raise ParameterError(f"expected 24 finite patch colours, got an array of shape {cam.shape}")
    greys = cam[list(NEUTRAL_PATCHES)]
    if np.any(greys <= 0):
        raise ParameterError("the neutral patches read zero or negative: the chart is underexposed "
                             "or the black level is wrong")
    # the neutral: camera RGB of the greys, each normalised to its green, averaged (weights by level)
    neutral = np.sum(greys, 0) / np.sum(greys[:, 1])
    cam_wb = cam / neutral
    notes: list[str] = []
    if xy is None:
        xy = spaces.D50_XY
        notes.append("the light on the chart is unknown: D50 assumed (pass --illuminant to set it)")
    ref, names = reference_lab(chart, xy)
    fm, scale = fit_forward_matrix(cam_wb, ref, metric=metric)
    cm = color_matrix_from_forward(fm, neutral, xy)
    matrix_xyz = scale * cam_wb @ fm.T
    matrix_lab = xyz_to_lab(matrix_xyz)
    hsm = None
    after_lab = matrix_lab
    if table:
        hsm = dcp.fit_hue_sat_map(matrix_xyz, ref)
        after_lab = xyz_to_lab(dcp.apply_hue_sat_map_xyz(matrix_xyz, hsm))
    # "before": white balance only: balanced camera RGB read as if it were linear sRGB, exposed on the grey
    srgb_xyz = spaces.adaptation(spaces.D65_XY, spaces.D50_XY) @ spaces.rgb_to_xyz("srgb")
    before = cam_wb @ srgb_xyz.T
    before *= ref[MIDDLE_GREY, 1] / before[MIDDLE_GREY, 1]
    return Calibration(forward_matrix=fm, color_matrix=cm, neutral=neutral, xy=(float(xy[0]), float(xy[1])),
                       names=names, ref_xyz=ref, before_lab=xyz_to_lab(before), after_lab=after_lab,
                       matrix_lab=matrix_lab, hue_sat_map=hsm, notes=notes)


def camera_patches_to_lab(cam_wb: np.ndarray, fm: np.ndarray, scale: float) -> np.ndarray:
    return xyz_to_lab(scale * np.asarray(cam_wb) @ fm.T)
