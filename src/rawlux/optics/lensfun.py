"""Lens profiles from the lensfun database (shipped with lensfunpy): matching and correction maps.

Matching uses EXIF Make/Model/LensMake/LensModel/FocalLength/FNumber, with ``camera`` and ``lens``
overrides. EXIF is matched strictly (a near miss, e.g. a newer model of the same line, is *not*
used silently: it is offered in the notice); an override is matched loosely but must contain the
words the user gave. Fixed-lens cameras (phones, compacts) are matched from the camera alone.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from ..errors import ParameterError

_LENS_TYPES = {"RECTILINEAR": "rectilinear", "FISHEYE": "equidistant", "FISHEYE_EQUISOLID": "equisolid",
               "FISHEYE_STEREOGRAPHIC": "stereographic", "FISHEYE_ORTHOGRAPHIC": "orthographic",
               "FISHEYE_THOBY": "equisolid"}


@lru_cache(maxsize=1)
def database() -> Any:
    import lensfunpy

    return lensfunpy.Database()


@dataclass
class Profile:
    """A matched camera + lens with the shooting parameters lensfun needs."""

    camera: Any
    lens: Any
    focal: float
    aperture: float
    distance: float

    @property
    def crop_factor(self) -> float:
        return float(self.camera.crop_factor)

    @property
    def projection(self) -> str:
        return _LENS_TYPES.get(self.lens.type.name, "rectilinear")

    def describe(self) -> str:
        return (f"{self.camera.maker} {self.camera.model} + {self.lens.maker} {self.lens.model} "
                f"at {self.focal:g} mm f/{self.aperture:g}")

    def has(self) -> dict[str, bool]:
        return {"distortion": bool(self.lens.calib_distortion), "tca": bool(self.lens.calib_tca),
                "vignetting": bool(self.lens.calib_vignetting)}


def _words_in(query: str, text: str) -> bool:
    t = text.lower()
    return all(w in t for w in query.lower().replace("-", " ").split() if w)


def _names(items: list[Any], n: int = 4) -> str:
    return "; ".join(f"{x.maker} {x.model}" for x in items[:n])


def find_camera(make: str, model: str, override: str = "") -> tuple[Any | None, str]:
    """(camera, reason): the lensfun camera, or None and a sentence saying why."""
    db = database()
    if override:
        strict = [c for c in db.cameras if f"{c.maker} {c.model}".lower() == override.lower()
                  or c.model.lower() == override.lower()]
        if strict:
            return strict[0], ""
        loose = db.find_cameras(None, override, True)
        good = [c for c in loose if _words_in(override, f"{c.maker} {c.model}")]
        if good:
            return good[0], ""
        raise ParameterError(f"lens.camera={override!r} is not in the lensfun database"
                             + (f"; closest: {_names(loose)}" if loose else "")
                             + " (give the maker and model as lensfun spells them)")
    if not make and not model:
        return None, "the file names no camera (EXIF Make/Model are empty); set lens.camera"
    found = db.find_cameras(make or None, model or None, False)
    if found:
        return found[0], ""
    near = db.find_cameras(make or None, model or None, True)
    near = [c for c in near if not make or c.maker.lower().startswith(make.lower()[:4])]
    hint = f"; near matches: {_names(near)} (choose one with lens.camera=...)" if near else ""
    return None, f"no lensfun profile for camera {make} {model!s}".rstrip() + hint


def find_lens(camera: Any, lens_make: str, lens_model: str, override: str = "") -> tuple[Any | None, str]:
    db = database()
    name = override or lens_model
    if name:
        found = db.find_lenses(camera, None, name, True)
        good = [x for x in found if _words_in(name.replace("f/", " "), f"{x.maker} {x.model}".replace("f/", " "))
                or (not override and x.score >= 40)]
        if good:
            return good[0], ""
        if override:
            raise ParameterError(f"lens.lens={override!r} matches no lens for {camera.maker} {camera.model} "
                                 f"in the lensfun database" + (f"; closest: {_names(found)}" if found else ""))
        return None, (f"no lensfun profile for lens {lens_model!r} on {camera.maker} {camera.model}"
                      + (f"; near matches: {_names(found)} (set lens.lens=...)" if found else ""))
    found = db.find_lenses(camera)
    if 1 <= len(found) <= 2:                     # a fixed-lens camera: its lens is known
        return found[0], ""
    if not found:
        return None, f"the file names no lens and lensfun knows none for {camera.maker} {camera.model}"
    return None, (f"the file names no lens and {camera.maker} {camera.model} takes interchangeable lenses; "
                  f"set lens.lens=... (e.g. one of: {_names(found, 3)})")


def match(meta: Any, *, camera: str = "", lens: str = "", focal: float = 0.0, aperture: float = 0.0,
          distance: float = 1000.0) -> tuple[Profile | None, str]:
    """Find the profile for a frame. Returns (profile, "") or (None, reason)."""
    exif = meta.exif or {}
    cam, why = find_camera(exif.get("Make", meta.make or ""), exif.get("Model", meta.model or ""), camera)
    if cam is None:
        return None, why
    ln, why = find_lens(cam, exif.get("LensMake", ""), exif.get("LensModel", ""), lens)
    if ln is None:
        return None, why
    f = focal or float(exif.get("FocalLength") or 0.0)
    if not f and ln.min_focal and ln.min_focal == ln.max_focal:
        f = float(ln.min_focal)
    if not f:
        return None, (f"no focal length for {ln.maker} {ln.model} (EXIF FocalLength missing); "
                      f"set lens.focal_length")
    a = aperture or float(exif.get("FNumber") or 0.0) or float(ln.min_aperture or 0.0) or 8.0
    return Profile(cam, ln, f, a, distance), ""


def correction_maps(profile: Profile, w: int, h: int, *, distortion: bool, tca: bool, scale: float,
                    reverse: bool = False) -> tuple[list[np.ndarray] | None, Any]:
    """Per-plane source coordinate maps (list of 1 or 3 H×W×2) and the lensfun modifier."""
    import lensfunpy

    mod = lensfunpy.Modifier(profile.lens, profile.crop_factor, w, h)
    flags = 0
    if distortion:
        flags |= lensfunpy.ModifyFlags.DISTORTION
    if tca:
        flags |= lensfunpy.ModifyFlags.TCA
    if scale != 1.0:
        flags |= lensfunpy.ModifyFlags.SCALE
    mod.initialize(profile.focal, profile.aperture, profile.distance, scale, profile.lens.type,
                   pixel_format=np.float32, flags=flags, reverse=reverse)
    maps: list[np.ndarray] | None = None
    if tca and profile.lens.calib_tca:
        sub = mod.apply_subpixel_geometry_distortion() if distortion else mod.apply_subpixel_distortion()
        if sub is not None:
            maps = [np.ascontiguousarray(sub[:, :, c, :]) for c in range(3)]
    if maps is None and (distortion and profile.lens.calib_distortion or scale != 1.0):
        g = mod.apply_geometry_distortion()
        if g is not None:
            maps = [np.ascontiguousarray(g)]
    return maps, mod


def devignette(img: np.ndarray, profile: Profile) -> bool:
    """Correct vignetting in place (pa model) on linear H×W×3 float32; False when the lens has no data."""
    import lensfunpy

    if not profile.lens.calib_vignetting:
        return False
    h, w = img.shape[:2]
    mod = lensfunpy.Modifier(profile.lens, profile.crop_factor, w, h)
    mod.initialize(profile.focal, profile.aperture, profile.distance, 1.0, pixel_format=np.float32,
                   flags=lensfunpy.ModifyFlags.VIGNETTING)
    return bool(mod.apply_color_modification(img))
