"""A memoising pipeline runner for previews (the studio's sliders; anything that re-renders one photo often).

Each photo is decoded once and the stages up to ``geometry`` run once at full resolution; the result is kept
as a downscaled proxy, and the proxies after ``colour``, ``exposure`` and ``tone`` are memoised by the params
that made them, so moving a look slider only re-runs the stages after ``tone``. See :class:`PreviewRunner`.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

#: long side of the preview proxy, pixels
PROXY_LONG = 1024


def _pkey(params) -> str:
    return repr(params)


class PreviewRunner:
    """Fast previews: each photo is decoded once, and the stages up to ``geometry`` run once at full
    resolution; the result is kept as a downscaled *camera-RGB* proxy with the white balance undone
    (divided by ``meta.wb_multipliers``), so that temperature/tint re-run ``whitebalance`` on the proxy
    (it accepts CAMERA_RGB frames) followed by ``colour`` and every later stage. The proxy's front is
    built with the recipe's white balance less its creative shifts, so moving the temperature slider
    never re-decodes. Intermediate proxies after ``colour``, ``exposure`` (which measures the image for
    auto exposure) and ``tone`` are memoised by the params that made them, so a look-slider change only
    runs the stages after ``tone`` (the fused grade and the output encoding). Display-referred inputs (no white balance) start at ``colour``."""

    #: the stages run once per photo at full resolution (then downscaled)
    FRONT_STOP = "geometry"
    #: the stages run on the proxy, memoised after each of these
    MEMO = ("colour", "exposure", "tone")

    def __init__(self, capacity: int = 6):
        self._proxies: OrderedDict[tuple, Any] = OrderedDict()
        self._memo: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._capacity = capacity
        self._building: dict[tuple, threading.Lock] = {}

    @staticmethod
    def recipe(path: Path | None, look: str, params: dict[str, dict[str, Any]] | None, sidecar: bool = False):
        """The recipe of a preview (:meth:`Recipe.for_photo`; the photo's sidecar only when asked)."""
        from .recipe import Recipe
        return Recipe.for_photo(str(path) if path else None, look, sidecar=sidecar, overrides=params or {})

    _recipe = recipe      # the name tests and benchmarks use

    def recipe_for(self, path: Path, look: str, params: dict[str, dict[str, Any]]):
        """The recipe of a preview; temperature/tint of a display-referred input (which has no sensor white
        balance) become the look's ``balance`` shift (``looks/ingredients/balance.py``)."""
        rec = self.recipe(path, look, params)
        wb = params.get("whitebalance") or {}
        if (wb.get("temp_shift") or wb.get("tint_shift")) and self.proxy(path, rec).meta.kind == "image":
            from ..looks.ingredients.balance import from_wb_shift
            params = {k: dict(v) for k, v in params.items()}
            wb = params.pop("whitebalance")
            bal = params.setdefault("balance", {})
            bal.update(from_wb_shift(float(wb.pop("temp_shift", 0.0)), float(wb.pop("tint_shift", 0.0))))
            if wb:
                params["whitebalance"] = wb
            rec = self.recipe(path, look, params)
        return rec

    def decode(self, path: Path):
        """The frame of ``path`` (a hook: tests and benchmarks may give a cropped frame)."""
        from ..io.decode import open_image
        return open_image(str(path))

    @staticmethod
    def _front_wb(recipe):
        import dataclasses
        return dataclasses.replace(recipe.params["whitebalance"], temp_shift=0.0, tint_shift=0.0)

    def proxy_key(self, path: Path, recipe) -> tuple:
        from .order import stage_names
        names = stage_names()
        front = names[:names.index(self.FRONT_STOP) + 1]
        st = path.stat()
        parts = tuple((n, _pkey(self._front_wb(recipe) if n == "whitebalance" else recipe.params[n])) for n in front)
        return (str(path), st.st_mtime_ns, st.st_size, parts)

    def proxy(self, path: Path, recipe) -> Any:
        """The cached downscaled frame after ``geometry`` (camera RGB with white balance undone, or the
        scene-linear frame of a display-referred input)."""
        key = self.proxy_key(path, recipe)
        with self._lock:
            if key in self._proxies:
                self._proxies.move_to_end(key)
                return self._proxies[key]
            build_lock = self._building.setdefault(key, threading.Lock())
        with build_lock:  # one build per photo even when the page asks for several renders at once
            with self._lock:
                if key in self._proxies:
                    return self._proxies[key]
            frame = self._build_proxy(path, recipe)
            with self._lock:
                self._proxies[key] = frame
                self._building.pop(key, None)
                while len(self._proxies) > self._capacity:
                    self._proxies.popitem(last=False)
        return frame

    def _build_proxy(self, path: Path, recipe) -> Any:
        import dataclasses

        import cv2
        import numpy as np

        from ..frame import State
        from .run import run_stages
        frame = self.decode(path)
        pre_white = frame.meta.white_xy
        front_rec = dataclasses.replace(recipe, params={**recipe.params, "whitebalance": self._front_wb(recipe)})
        frame = run_stages(frame, front_rec, stop=self.FRONT_STOP)
        px = frame.pixels
        h, w = px.shape[:2]
        s = PROXY_LONG / max(h, w)
        if s < 1:
            px = cv2.resize(px, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
        px = np.ascontiguousarray(px, dtype=np.float32)
        m = frame.meta
        if frame.state is State.CAMERA_RGB and m.wb_applied and m.wb_multipliers is not None:
            px = px / np.asarray(m.wb_multipliers, np.float32).reshape(1, 1, -1)
            out = frame.with_pixels(px)
            out.meta.wb_applied = False
            out.meta.wb_multipliers = None
            out.meta.white_xy = pre_white
            out.meta.extra.pop("neutral", None)
            return out
        return frame.with_pixels(px)

    def _memo_get(self, key: tuple):
        with self._lock:
            if key in self._memo:
                self._memo.move_to_end(key)
                return self._memo[key]
        return None

    def _memo_put(self, key: tuple, frame) -> None:
        with self._lock:
            self._memo[key] = frame
            while len(self._memo) > 2 * self._capacity:
                self._memo.popitem(last=False)

    def render_frame(self, path: Path, recipe, long_side: int | None = None):
        """The DISPLAY frame of ``path`` with ``recipe``, rendered on the proxy."""
        import cv2

        from .order import stage_names
        from .run import run_stages
        names = stage_names()
        proxy = self.proxy(path, recipe)
        pkey = (self.proxy_key(path, recipe), long_side)
        frame = proxy
        if long_side:
            h, w = frame.pixels.shape[:2]
            s = long_side / max(h, w)
            if s < 1:
                frame = frame.with_pixels(cv2.resize(frame.pixels, (max(1, round(w * s)), max(1, round(h * s))),
                                                     interpolation=cv2.INTER_AREA))
        # whitebalance (camera-RGB proxies only) then colour .. tone, memoised after the MEMO stages
        chain = ["whitebalance"] + names[names.index(self.FRONT_STOP) + 1:names.index(self.MEMO[-1]) + 1]
        keys = [pkey + tuple((n, _pkey(recipe.params[n])) for n in chain[:i + 1]) for i in range(len(chain))]
        pos = 0
        for i, name in enumerate(chain):
            if name in self.MEMO:
                hit = self._memo_get(keys[i])
                if hit is not None:
                    frame, pos = hit, i + 1
        frame = frame.with_pixels(frame.pixels.copy())  # the cached frames are never handed to a stage
        for i in range(pos, len(chain)):
            name = chain[i]
            frame = run_stages(frame, recipe, start=name, stop=name)
            if name in self.MEMO:
                self._memo_put(keys[i], frame)
                frame = frame.with_pixels(frame.pixels.copy())
        return run_stages(frame, recipe, start=names[names.index(self.MEMO[-1]) + 1])

    def render(self, path: Path, recipe, long_side: int | None = None):
        """float32 H×W×3 display-encoded pixels of ``path`` with ``recipe`` on the proxy."""
        import numpy as np
        px = self.render_frame(path, recipe, long_side).pixels
        if px.ndim == 2:
            px = np.repeat(px[..., None], 3, axis=2)
        return np.clip(px, 0.0, 1.0)


def warm_up() -> float:
    """Run the preview stages once on a small synthetic frame with every look ingredient on, so the numba
    kernels are loaded (or compiled, the first time on a machine; they are cached on disk) before the first
    slider is moved. Returns the seconds it took. Run in a background thread at server start."""
    import numpy as np

    from ..frame import Frame, Metadata, State
    from .recipe import Recipe
    from .run import run_stages
    t0 = time.perf_counter()
    yy, xx = np.mgrid[0:96, 0:128].astype(np.float32)
    px = np.stack([xx / 128, yy / 96, (xx + yy) / 224], axis=2).astype(np.float32) * 0.8 + 0.05
    frame = Frame(px, State.SCENE_LINEAR, Metadata(kind="image"))
    rec = Recipe.for_photo(None, "natural", sidecar=False, overrides={
        "grain": {"amount": 0.3}, "clarity": {"amount": 0.3}, "vignette": {"amount": -0.3},
        "curve": {"highlights": -0.2, "shadows": 0.2}, "saturation": {"vibrance": 0.2, "saturation": 1.1}})
    out = run_stages(frame, rec)
    try:
        from ..borders import apply_frame
        apply_frame(out, template="border")
    except Exception:  # the frame preview is optional; its errors are reported when it is used
        pass
    return time.perf_counter() - t0
