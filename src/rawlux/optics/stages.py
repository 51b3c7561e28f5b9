"""The optics stages: DNG opcode lists 1 and 2, lens correction (+ list 3, reprojection), crop.

The bokeh stage lives in :mod:`rawlux.optics.bokeh_stage`.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError
from ..frame import Frame, State
from ..pipeline.stage import Params, Stage, param
from . import opcodes as oc
from .warp import PROJECTIONS


# ----------------------------------------------------------------------------- opcode lists 1 and 2

@dataclass(frozen=True)
class OpcodesParams(Params):
    pass


class _OpcodeListStage(Stage):
    list_name = ""
    Params = OpcodesParams

    def applies(self, frame: Frame, p: Params) -> bool:
        return bool(p.enabled) and frame.state in self.takes and bool(frame.meta.opcodes.get(self.list_name))

    def run(self, frame: Frame, p: OpcodesParams) -> Frame:
        ops = oc.opcode_lists(frame.meta).get(self.list_name, [])
        ops = oc.check_supported(ops, self.list_name, frame.meta, oc.PIXEL_OPS)
        meta = frame.meta.copy()
        if self.list_name == "OpcodeList2" and _lossy_dng(meta.source):
            # LibRaw's lossy-DNG decoder already maps samples through OpcodeList2's MapPolynomial /
            # MapTable curves while decoding the JPEG tiles; applying them again would square them
            done = [o for o in ops if o.name in ("MapPolynomial", "MapTable")]
            if done:
                oc.notice(meta, "OpcodeList2: MapPolynomial/MapTable already applied by the lossy-DNG decoder")
                ops = [o for o in ops if o not in done]
        cfa = frame.pixels.ndim == 2 and frame.meta.cfa_pattern is not None
        out = oc.apply_pixel_opcodes(frame.pixels, ops, cfa=cfa, meta=meta)
        meta.extra[f"{self.list_name}_applied"] = [o.name for o in ops]
        return Frame(out, frame.state, meta)


def _lossy_dng(path: str | None) -> bool:
    """Whether the full-resolution raw IFD of a DNG uses lossy JPEG compression (34892)."""
    if not path:
        return False
    try:
        import tifffile

        from ..io.dng import _pick_raw_page

        with tifffile.TiffFile(path) as tif:
            raw, _ = _pick_raw_page(tif)
            return int(raw.compression) == 34892
    except Exception:  # noqa: BLE001 - not a TIFF/DNG: nothing was applied by a decoder
        return False


class Opcodes1(_OpcodeListStage):
    """DNG OpcodeList1: on the raw values as stored, before linearisation."""

    name = "opcodes1"
    list_name = "OpcodeList1"
    takes = frozenset({State.RAW})
    doc = "DNG OpcodeList1 (bad pixels, stored-value maps) on the raw data as read"


class Opcodes2(_OpcodeListStage):
    """DNG OpcodeList2: on linear reference values (after levels), e.g. phone lens-shading GainMaps."""

    name = "opcodes2"
    list_name = "OpcodeList2"
    takes = frozenset({State.CFA, State.CAMERA_RGB})
    doc = "DNG OpcodeList2 (GainMap lens shading, MapPolynomial, ...) on linear sensor values"


# ----------------------------------------------------------------------------- lens correction

@dataclass(frozen=True)
class LensParams(Params):
    dng: bool = param(True, doc="apply the file's OpcodeList3 (WarpRectilinear, WarpFisheye, "
                                "FixVignetteRadial, GainMap)")
    profile: str = param("auto", choices=("auto", "on", "off"),
                         doc="lensfun correction: auto = when a profile matches and the file carries no "
                             "warp of its own; on = required (error when nothing matches); off")
    camera: str = param("", doc="lensfun camera ('Maker Model' as lensfun spells it) to use instead of EXIF Make/Model")
    lens: str = param("", doc="lensfun lens to use instead of EXIF LensModel")
    focal_length: float = param(0.0, min=0.0, max=2000.0, doc="real focal length in mm (0: from EXIF)")
    aperture: float = param(0.0, min=0.0, max=128.0, doc="f-number for vignetting (0: from EXIF)")
    distance: float = param(1000.0, min=0.01, max=1e6, doc="focus distance in metres (vignetting)")
    distortion: bool = param(True, doc="correct distortion")
    tca: bool = param(True, doc="correct lateral chromatic aberration")
    vignetting: bool = param(True, doc="correct vignetting")
    scale: float = param(0.0, min=0.0, max=4.0,
                         doc="extra magnification after correction (0: automatic, no empty borders; 1: none)")
    projection: str = param("keep", choices=("keep", *PROJECTIONS),
                            doc="reproject to this geometry (e.g. fisheye → rectilinear or equisolid)")
    fisheye: str = param("auto", choices=("auto", *PROJECTIONS[1:]),
                         doc="projection of the source lens when reprojecting (auto: from the lens profile, "
                             "else equisolid)")
    fov: float = param(0.0, min=0.0, max=360.0,
                       doc="source field of view across the frame diagonal in degrees (0: from the focal length)")
    zoom: float = param(1.0, min=0.1, max=10.0, doc="output focal length / source focal length when reprojecting")
    interpolation: str = param("cubic", choices=("linear", "cubic", "lanczos"), doc="resampling filter")


class Lens(Stage):
    """Distortion, TCA and vignetting from lensfun and OpcodeList3, resampled once."""

    name = "lens"
    Params = LensParams
    takes = frozenset({State.CAMERA_RGB})
    doc = "lens correction (lensfun + DNG OpcodeList3) and fisheye reprojection, one resample"

    def run(self, frame: Frame, p: LensParams) -> Frame:
        from . import lensfun as lf
        from .warp import Coords, apply_dense, dng_warp_fisheye, dng_warp_rectilinear, remap, reproject

        meta = frame.meta.copy()
        img = frame.pixels            # copied before the first change (most files need none)
        owned = False
        h, w = img.shape[:2]
        done: list[str] = []

        # --- OpcodeList3: pixel ops before the first warp, the warps, pixel ops after
        pre, warps, post = [], [], []
        if p.dng and meta.opcodes.get("OpcodeList3"):
            ops = oc.opcode_lists(meta)["OpcodeList3"]
            ops = oc.check_supported(ops, "OpcodeList3", meta, oc.PIXEL_OPS | oc.GEOMETRIC)
            for op in ops:
                if op.name in oc.GEOMETRIC:
                    warps.append(op)
                else:
                    (post if warps else pre).append(op)
        if pre:
            img = oc.apply_pixel_opcodes(img, pre, meta=meta)
            owned = True
            h, w = img.shape[:2]
            done += [o.name for o in pre]

        # --- lensfun profile
        profile = None
        if p.profile != "off":
            profile, why = lf.match(meta, camera=p.camera, lens=p.lens, focal=p.focal_length,
                                    aperture=p.aperture, distance=p.distance)
            if profile is None:
                if p.profile == "on":
                    raise ParameterError(f"lens.profile=on but {why}", path=meta.source)
                oc.notice(meta, f"lens: {why}; no lens-profile correction applied", level=logging.INFO)
            elif warps and p.profile == "auto":
                oc.notice(meta, f"lens: the file corrects its own lens geometry (OpcodeList3); lensfun profile "
                                f"{profile.describe()} used for vignetting only (lens.profile=on forces it)")
        use_geom = profile is not None and (p.profile == "on" or not warps)
        if profile is not None and p.vignetting and profile.lens.calib_vignetting:
            if not owned:
                img, owned = np.array(img, dtype=np.float32, copy=True), True
            if lf.devignette(img, profile):
                done.append("vignetting")

        # --- coordinates, from the output side to the source
        needs_warp = p.projection != "keep" or (use_geom and (p.distortion or p.tca)) or bool(warps)
        if not needs_warp and not post and not owned:
            meta.extra["lens_applied"] = done
            if profile is not None:
                meta.extra["lens_profile"] = profile.describe()
            return Frame(frame.pixels, frame.state, meta)
        coords = Coords.identity(h, w) if needs_warp else None
        identity = True
        if p.projection != "keep":
            src = p.fisheye if p.fisheye != "auto" else (profile.projection if profile is not None
                                                         and profile.projection != "rectilinear" else "equisolid")
            f_src = self._focal_px(meta, h, w, p, profile, src)
            coords = reproject(coords, h, w, src=src, dst=p.projection, f_src=f_src, f_dst=f_src * p.zoom)
            identity = False
            done.append(f"reproject {src}→{p.projection}")
        if use_geom and (p.distortion or p.tca):
            scale = p.scale if p.projection == "keep" else 1.0
            maps, _ = lf.correction_maps(profile, w, h, distortion=p.distortion, tca=p.tca, scale=scale)
            if maps is not None:
                coords = apply_dense(coords, maps, identity)
                identity = False
                done.append(f"lensfun {profile.describe()}")
        for op in reversed(warps):
            fn = dng_warp_rectilinear if op.name == "WarpRectilinear" else dng_warp_fisheye
            coords = fn(coords, op.args, h, w)
            identity = False
            done.append(op.name)
        if not identity:
            img = remap(img, coords, interpolation=p.interpolation)
            np.maximum(img, 0.0, out=img)       # cubic overshoot below black
        if post:
            img = oc.apply_pixel_opcodes(img, post, meta=meta)
            done += [o.name for o in post]
        meta.extra["lens_applied"] = done
        if profile is not None:
            meta.extra["lens_profile"] = profile.describe()
        return Frame(img, frame.state, meta)

    @staticmethod
    def _focal_px(meta, h: int, w: int, p: LensParams, profile, model: str) -> float:
        """Source focal length in pixels: from the field of view, else from the focal length."""
        from .crop import FULL_FRAME_DIAGONAL, equivalent_focal
        from .warp import project

        diag = math.hypot(w, h)
        if p.fov:
            half = math.radians(min(p.fov, 359.0)) / 2
            return float(diag / 2 / float(project(model, np.array(half))))
        f35 = 0.0
        if profile is not None:
            f35 = profile.focal * profile.crop_factor
        if not f35:
            f35, _ = equivalent_focal(meta)
        if not f35:
            raise ParameterError("lens.projection needs the source focal length or field of view: "
                                 "set lens.fov (degrees across the diagonal) or lens.focal_length",
                                 path=meta.source)
        return float(f35 / FULL_FRAME_DIAGONAL * diag)


# ----------------------------------------------------------------------------- crop

@dataclass(frozen=True)
class CropParams(Params):
    focal: float = param(0.0, min=0.0, max=1200.0,
                         doc="35 mm-equivalent focal length to crop to (23, 28, 35, 50, 75, 90; 0: keep)")
    aspect: str = param("", choices=("", "3:2", "4:3", "16:9", "1:1", "65:24", "2.39:1"),
                        doc="aspect ratio, long:short, in the displayed orientation ('' keeps it)")
    crop_factor: float = param(0.0, min=0.0, max=20.0,
                               doc="sensor crop factor when the file has no 35 mm-equivalent focal length")
    source_focal: float = param(0.0, min=0.0, max=1200.0,
                                doc="the frame's own 35 mm-equivalent focal length when the file does not say")
    center: tuple[float, ...] = param((0.5, 0.5), min=0.0, max=1.0, doc="crop centre (x, y), relative")


class Crop(Stage):
    """Focal-length and aspect crops, with EXIF focal length updated."""

    name = "crop"
    Params = CropParams
    takes = frozenset({State.CAMERA_RGB, State.SCENE_LINEAR})
    doc = "35 mm-equivalent focal-length crop and aspect-ratio crop"

    def applies(self, frame: Frame, p: Params) -> bool:
        return bool(p.enabled) and frame.state in self.takes and bool(p.focal or p.aspect)

    def run(self, frame: Frame, p: CropParams) -> Frame:
        from .crop import plan

        if len(p.center) != 2:
            raise ParameterError(f"crop.center must be two numbers (x, y), not {list(p.center)}")
        h, w = frame.height, frame.width
        (t, l, ch, cw), changes = plan(frame.meta, h, w, focal=p.focal, aspect=p.aspect,
                                       crop_factor=p.crop_factor, center=(p.center[0], p.center[1]),
                                       source_focal=p.source_focal)
        meta = frame.meta.copy()
        meta.exif.update(changes)
        meta.extra["crop_box"] = (t, l, ch, cw)
        meta.extra["crop_from"] = (h, w)          # so a full-frame depth map can follow the crop
        return Frame(np.ascontiguousarray(frame.pixels[t:t + ch, l:l + cw]), frame.state, meta)
