"""Camera profiles in the DNG model: camera RGB → XYZ, blended between two calibration illuminants.

Follows the DNG specification's "Mapping Camera Color Space to CIE XYZ Space": ColorMatrix
(XYZ → camera), CameraCalibration, AnalogBalance and ForwardMatrix per illuminant, blended with a
weight linear in inverse CCT; the white is found by iterating white xy → CCT → matrix → white.

A profile file is TOML (``rawlux develop --profile camera.toml``)::

    schema_version = 1
    name = "Nokia N900"
    [[calibration]]
    cct = 3200                          # or illuminant = "A" / 17, or xy = [0.4476, 0.4074]
    color_matrix = [[...], [...], [...]]   # XYZ → camera, as DNG ColorMatrix
    # forward_matrix = [...]               # optional: white-balanced camera → XYZ D50
    # camera_to_srgb = [...]               # instead of color_matrix: an ISP matrix that maps
    #                                      # raw camera RGB (white balance included) to linear sRGB
    [[calibration]]
    cct = 7000
    ...
"""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, ParameterError
from . import spaces, temperature

D50 = spaces.D50_XY


def check_matrix(m: Any, what: str, *, exc: type = ParameterError, where: str = "") -> np.ndarray:
    a = np.asarray(m, dtype=np.float64)
    pre = f"{where}: " if where else ""
    if a.shape != (3, 3):
        raise exc(f"{pre}{what} must be 3×3, not shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise exc(f"{pre}{what} contains NaN or infinite values")
    det = np.linalg.det(a)
    if not math.isfinite(det) or abs(det) < 1e-9 * max(1e-12, float(np.abs(a).max()) ** 3):
        raise exc(f"{pre}{what} is singular (determinant {det:.3g})")
    return a


@dataclass
class Calibration:
    xy: tuple[float, float]                   # chromaticity of the calibration illuminant
    color_matrix: np.ndarray                  # XYZ → camera
    forward_matrix: np.ndarray | None = None  # WB'd camera → XYZ D50
    camera_calibration: np.ndarray | None = None

    @property
    def cct(self) -> float:
        return temperature.xy_to_temp_tint(self.xy)[0]


@dataclass
class CameraProfile:
    """One or two calibrations plus the analog balance of the file."""

    calibrations: list[Calibration]
    analog_balance: np.ndarray = field(default_factory=lambda: np.ones(3))
    name: str = ""
    assumed: bool = False   # True when no matrix was known and sRGB primaries were assumed
    hue_sat_map: Any = None  # colour.dcp.HueSatMap applied after the matrix (from `rawlux calibrate`)
    dng: Any = None          # colour.dcpfile.DngProfile: the DCP/DNG profile's tables (HueSatMap, LookTable, ...)
    explicit: bool = False   # chosen by the user (--profile): its HueSatMap is part of its colour in every look

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_metadata(cls, meta: Any) -> "CameraProfile":
        """From a Frame's Metadata (DNG tags or LibRaw's matrix); sRGB primaries if nothing is known."""
        cals = []
        for i in (1, 2):
            cm = getattr(meta, f"color_matrix{i}")
            if cm is None:
                continue
            cm = check_matrix(cm, f"ColorMatrix{i}", exc=InputError, where=meta.source or "")
            ill, cct = getattr(meta, f"illuminant{i}"), getattr(meta, f"cct{i}")
            if cct:
                xy = temperature.temp_tint_to_xy(float(cct))
            elif ill in temperature.ILLUMINANTS:
                xy = temperature.illuminant_xy(int(ill))
            else:
                xy = spaces.D65_XY if i == 2 or meta.color_matrix2 is None else temperature.illuminant_xy(17)
            fm = getattr(meta, f"forward_matrix{i}")
            cc = getattr(meta, f"camera_calibration{i}")
            if fm is not None:
                try:
                    fm = check_matrix(fm, f"ForwardMatrix{i}", exc=InputError, where=meta.source or "")
                except InputError:
                    fm = None
            if cc is not None:
                try:
                    cc = check_matrix(cc, f"CameraCalibration{i}", exc=InputError, where=meta.source or "")
                except InputError:
                    cc = None
            cals.append(Calibration(xy=xy, color_matrix=cm, forward_matrix=fm, camera_calibration=cc))
        ab = np.ones(3)
        if meta.analog_balance is not None:
            a = np.asarray(meta.analog_balance, dtype=np.float64).ravel()[:3]
            if a.size == 3 and np.all(np.isfinite(a)) and np.all(a > 0):
                ab = a
        if not cals:
            return cls([Calibration(xy=spaces.D65_XY, color_matrix=spaces.xyz_to_rgb("srgb").copy())],
                       ab, name="assumed sRGB primaries", assumed=True)
        # order by temperature: calibration 0 = lower CCT
        cals.sort(key=lambda c: c.cct)
        return cls(cals, ab, name=meta.model or "")

    @classmethod
    def from_dng_profile(cls, p: Any, *, explicit: bool = False) -> "CameraProfile":
        """From a parsed DCP (or a DNG's embedded profile): colour/dcpfile.DngProfile."""
        where = p.source
        cals = []
        for i in (1, 2):
            cm = getattr(p, f"color_matrix{i}")
            if cm is None:
                continue
            cm = check_matrix(cm, f"ColorMatrix{i}", exc=InputError, where=where)
            ill = getattr(p, f"illuminant{i}")
            if ill in temperature.ILLUMINANTS:
                xy = temperature.illuminant_xy(int(ill))
            else:
                xy = spaces.D65_XY if i == 2 or p.color_matrix2 is None else temperature.illuminant_xy(17)
            fm = getattr(p, f"forward_matrix{i}")
            if fm is not None:
                fm = check_matrix(fm, f"ForwardMatrix{i}", exc=InputError, where=where)
            cals.append(Calibration(xy=xy, color_matrix=cm, forward_matrix=fm))
        if not cals:
            raise InputError("the profile has no ColorMatrix", path=where)
        tables = (p.hue_sat_map1, p.hue_sat_map2 or p.hue_sat_map1)
        if len(cals) == 2 and abs(cals[0].cct - cals[1].cct) < 1.0:
            cals = cals[:1]                     # two calibrations under the same light: the first is used
        if len(cals) == 2 and cals[0].cct > cals[1].cct:   # calibration 0 = lower CCT; tables follow matrices
            cals.reverse()
            tables = (tables[1], tables[0])
        prof = cls(cals, name=p.profile_name or p.unique_camera_model or Path(where).stem, dng=p, explicit=explicit)
        prof._hsm_pair = tables
        return prof

    @classmethod
    def from_file(cls, path: str | Path) -> "CameraProfile":
        """A profile file: rawlux TOML, a DCP (``.dcp``), or a DNG (its embedded profile)."""
        where = str(path)
        from . import dcpfile

        if dcpfile.is_dcp(path):
            return cls.from_dng_profile(dcpfile.read_dcp(path), explicit=True)
        if str(path).lower().endswith(".dng"):
            return cls.from_dng_profile(dcpfile.read_dng_profile(path), explicit=True)
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8-sig"))
        except FileNotFoundError:
            raise ParameterError(f"profile {where} does not exist") from None
        except (OSError, UnicodeDecodeError) as e:
            raise ParameterError(f"profile {where} cannot be read: {e}") from None
        except tomllib.TOMLDecodeError as e:
            raise ParameterError(f"profile {where}: invalid TOML: {e}") from None
        raw = data.get("calibration")
        if not isinstance(raw, list) or not 1 <= len(raw) <= 2:
            raise ParameterError(f"profile {where}: needs one or two [[calibration]] tables")
        cals = []
        for i, c in enumerate(raw, 1):
            if not isinstance(c, dict):
                raise ParameterError(f"profile {where}: calibration {i} must be a table")
            xy = _calibration_xy(c, f"{where}: calibration {i}")
            if "color_matrix" in c:
                cm = check_matrix(c["color_matrix"], f"calibration {i} color_matrix", where=where)
            elif "camera_to_srgb" in c:
                m = check_matrix(c["camera_to_srgb"], f"calibration {i} camera_to_srgb", where=where)
                cam_to_xyz_l = spaces.adaptation(spaces.D65_XY, xy) @ spaces.rgb_to_xyz("srgb") @ m
                cm = np.linalg.inv(cam_to_xyz_l)
            else:
                raise ParameterError(f"profile {where}: calibration {i} needs color_matrix or camera_to_srgb")
            fm = check_matrix(c["forward_matrix"], f"calibration {i} forward_matrix", where=where) if "forward_matrix" in c else None
            cals.append(Calibration(xy=xy, color_matrix=cm, forward_matrix=fm))
        cals.sort(key=lambda c: c.cct)
        name = data.get("name", Path(path).stem)
        hsm = None
        if "hue_sat_map" in data:
            from .dcp import HueSatMap
            hsm = HueSatMap.from_dict(data["hue_sat_map"], where)
        return cls(cals, name=str(name), hue_sat_map=hsm)

    # ------------------------------------------------------------------ DNG profile tables
    def hue_sat_table(self, xy: tuple[float, float]) -> Any:
        """The DNG HueSatMap for the scene white ``xy`` (tables 1/2 blended like the matrices), or None."""
        pair = getattr(self, "_hsm_pair", None)
        if pair is None or pair[0] is None:
            return None
        t = pair[0].blend(pair[1], self._weight(xy)) if len(self.calibrations) == 2 else pair[0]
        return None if t.is_identity() else t

    def check_camera(self, meta: Any, allow_any: bool = False) -> str | None:
        """Refuse a DCP made for another camera (ParameterError) unless ``allow_any``; a note when unknown."""
        p = self.dng
        if p is None or p.kind != "dcp" or not p.unique_camera_model:
            return None
        want = _norm_model(p.unique_camera_model)
        have = {_norm_model(m) for m in _camera_names(meta) if m}
        if not have:
            return f"the photo names no camera: profile for {p.unique_camera_model!r} used as given"
        if want in have or allow_any:
            return None if want in have else f"profile for {p.unique_camera_model!r} used on another camera"
        cam = max(_camera_names(meta), key=len)
        raise ParameterError(f"profile {p.source} is for the camera {p.unique_camera_model!r}, not this photo's "
                             f"{cam!r}; pass --profile-any-camera (colour.profile_any_camera=true) to use it anyway")

    # ------------------------------------------------------------------ the DNG maths
    def _weight(self, xy: tuple[float, float]) -> float:
        """Weight of calibration 0 (the lower CCT), linear in inverse CCT, clamped to [0, 1]."""
        if len(self.calibrations) == 1:
            return 1.0
        t = temperature.xy_to_temp_tint(xy)[0]
        t0, t1 = self.calibrations[0].cct, self.calibrations[1].cct
        if t1 <= t0 + 1e-6:
            return 1.0
        if t <= t0:
            return 1.0
        if t >= t1:
            return 0.0
        return (1.0 / t - 1.0 / t1) / (1.0 / t0 - 1.0 / t1)

    def _blend(self, attr: str, w: float) -> np.ndarray | None:
        a = getattr(self.calibrations[0], attr)
        if len(self.calibrations) == 1:
            return a
        b = getattr(self.calibrations[1], attr)
        if a is None or b is None:
            return a if b is None else b
        return w * a + (1.0 - w) * b

    def _cc(self, w: float) -> np.ndarray:
        cc = self._blend("camera_calibration", w)
        return np.eye(3) if cc is None else cc

    def xyz_to_camera(self, xy: tuple[float, float]) -> np.ndarray:
        w = self._weight(xy)
        cm = self._blend("color_matrix", w)
        return np.diag(self.analog_balance) @ self._cc(w) @ cm

    def neutral_to_xy(self, neutral: np.ndarray, iterations: int = 30) -> tuple[float, float]:
        """Chromaticity of the light whose camera response is ``neutral`` (DNG iteration)."""
        n = np.asarray(neutral, dtype=np.float64)
        xy = D50
        for _ in range(iterations):
            try:
                XYZ = np.linalg.solve(self.xyz_to_camera(xy), n)
            except np.linalg.LinAlgError:
                return xy
            new = spaces.XYZ_to_xy(XYZ)
            new = (float(np.clip(new[0], 0.2, 0.6)), float(np.clip(new[1], 0.2, 0.6)))
            if abs(new[0] - xy[0]) + abs(new[1] - xy[1]) < 1e-7:
                return new
            xy = (0.5 * (xy[0] + new[0]), 0.5 * (xy[1] + new[1])) if _ > 10 else new
        return xy

    def xy_to_neutral(self, xy: tuple[float, float]) -> np.ndarray:
        """Camera response to a light of chromaticity ``xy``, normalised to G = 1."""
        n = self.xyz_to_camera(xy) @ spaces.xy_to_XYZ(xy)
        if not np.all(np.isfinite(n)) or n[1] <= 0:
            raise ParameterError(f"the camera profile gives no valid neutral for white xy={xy}")
        n = n / n[1]
        return np.maximum(n, 1e-4)

    def camera_to_xyz_d50(self, xy: tuple[float, float], neutral: np.ndarray) -> np.ndarray:
        """Matrix from *white-balanced* camera RGB (neutral → 1,1,1) to XYZ D50, Y(white) = 1."""
        n = np.asarray(neutral, dtype=np.float64)
        w = self._weight(xy)
        fm = self._blend("forward_matrix", w)
        abcc = np.diag(self.analog_balance) @ self._cc(w)
        if fm is not None:
            ref = np.linalg.solve(abcc, n)
            m = fm @ np.diag(1.0 / ref) @ np.linalg.inv(abcc)
        else:
            cam_to_xyz = np.linalg.inv(self.xyz_to_camera(xy))
            m = spaces.adaptation(xy, D50) @ cam_to_xyz
        m = m @ np.diag(n)      # the data are already divided by the neutral
        y = (m @ np.ones(3))[1]
        if not math.isfinite(y) or y <= 0:
            raise ParameterError("the camera profile maps white to a non-positive luminance")
        return m / y

    def camera_to_working(self, xy: tuple[float, float], neutral: np.ndarray, working: str = spaces.WORKING) -> np.ndarray:
        """White-balanced camera RGB → linear working RGB (D65); white → (1, 1, 1)."""
        m = spaces.xyz_to_rgb(working) @ spaces.adaptation(D50, spaces.SPACES[working][1]) @ self.camera_to_xyz_d50(xy, neutral)
        return m


def with_embedded_tables(prof: "CameraProfile", meta: Any) -> "CameraProfile":
    """The profile with its DNG tables attached: for the file's own profile (not one the user chose), the
    HueSatMap/LookTable/ProfileToneCurve the DNG embeds are read from ``meta.source`` once, when a look asks
    for the camera's own rendering."""
    if prof.dng is not None or prof.explicit or prof.assumed or getattr(prof, "_embedded_read", False):
        return prof
    prof._embedded_read = True  # type: ignore[attr-defined]
    src = getattr(meta, "source", None)
    if not src or meta.kind == "image":
        return prof
    from . import dcpfile

    try:
        with open(src, "rb") as f:
            head = f.read(4)
        if head[:2] not in (b"II", b"MM"):
            return prof
        p = dcpfile.read_dng_profile(src)
    except (InputError, ParameterError, OSError):
        return prof
    prof.dng = p
    pair = (p.hue_sat_map1, p.hue_sat_map2 or p.hue_sat_map1)
    if len(prof.calibrations) == 2 and p.illuminant1 in temperature.ILLUMINANTS \
            and p.illuminant2 in temperature.ILLUMINANTS \
            and temperature.illuminant_cct(int(p.illuminant1)) > temperature.illuminant_cct(int(p.illuminant2)):
        pair = (pair[1], pair[0])
    prof._hsm_pair = pair  # type: ignore[attr-defined]
    return prof


def _norm_model(s: str) -> str:
    return "".join(ch for ch in s.lower() if ch.isalnum())


def _camera_names(meta: Any) -> list[str]:
    """The names a photo gives its camera: DNG UniqueCameraModel, EXIF Model, Make + Model."""
    make, model = (getattr(meta, "make", "") or "").strip(), (getattr(meta, "model", "") or "").strip()
    names = [meta.extra.get("unique_camera_model", "") if hasattr(meta, "extra") else "", model]
    if make and model and not model.lower().startswith(make.split()[0].lower()):
        names.append(f"{make} {model}")
    return [n for n in names if n]


def _calibration_xy(c: dict[str, Any], where: str) -> tuple[float, float]:
    if "xy" in c:
        v = c["xy"]
        if not (isinstance(v, list) and len(v) == 2 and all(isinstance(x, (int, float)) for x in v)) or not (0 < v[1] < 1 and 0 < v[0] < 1):
            raise ParameterError(f"{where}: xy must be [x, y] with 0 < x, y < 1, not {v!r}")
        return (float(v[0]), float(v[1]))
    if "cct" in c:
        v = c["cct"]
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ParameterError(f"{where}: cct must be a number of kelvin, not {v!r}")
        return temperature.temp_tint_to_xy(float(v), float(c.get("tint", 0.0)))
    if "illuminant" in c:
        v = c["illuminant"]
        if isinstance(v, int) and not isinstance(v, bool):
            return temperature.illuminant_xy(v)
        names = {n.lower(): k for k, n in temperature.ILLUMINANT_NAMES.items()}
        if isinstance(v, str) and v.lower() in names:
            return temperature.illuminant_xy(names[v.lower()])
        raise ParameterError(f"{where}: unknown illuminant {v!r} (use an EXIF code or one of: "
                             f"{', '.join(sorted(temperature.ILLUMINANT_NAMES.values()))})")
    raise ParameterError(f"{where}: give the illuminant as cct, xy or illuminant")
