"""The one data type that flows through rawlux: ``Frame(pixels, state, meta)``."""
from __future__ import annotations

import copy
import enum
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np


class State(enum.Enum):
    """What the numbers in ``Frame.pixels`` mean."""

    RAW = "raw"                    # sensor values as decoded (DN), H×W mosaic or H×W×C linear raw
    CFA = "cfa"                    # mosaic, black-subtracted, normalised so 1.0 = white level
    CAMERA_RGB = "camera_rgb"      # H×W×3 camera RGB, normalised, (white-balanced if meta.wb_applied)
    SCENE_LINEAR = "scene_linear"  # H×W×3 linear Rec.2020, D65 white, 1.0 = diffuse white-ish
    DISPLAY_LINEAR = "display_linear"  # H×W×3 linear Rec.2020, display-referred (after ``tone``): 1.0 = display white
    DISPLAY = "display"            # H×W×3 display-encoded in meta.output_space, [0, 1]


#: ``frame.meta.extra`` key of the scene-linear frame kept by ``run_stages(..., keep_scene_linear=True)``
#: (read by the HDR writers in ``io/``)
SCENE_LINEAR_KEY = "scene_linear"


#: CFA patterns, as the colour (0=R, 1=G, 2=B) at (0,0), (0,1), (1,0), (1,1)
BAYER_PATTERNS = {
    "RGGB": (0, 1, 1, 2),
    "BGGR": (2, 1, 1, 0),
    "GRBG": (1, 0, 2, 1),
    "GBRG": (1, 2, 0, 1),
}


@dataclass
class Facts:
    """What stages learn and tell later stages (and the user) while a frame goes through the pipeline: typed
    fields, not loose string keys. Copied with the metadata (``Frame.with_pixels``)."""

    notes: list[str] = field(default_factory=list)  # user-facing notices, one line each (see ``Metadata.note``)
    display_referred: bool = False       # the pixels are rendered for a display (``tone`` ran, or a finished photo)

    def copy(self) -> "Facts":
        return replace(self, notes=list(self.notes))


@dataclass
class Metadata:
    """What later stages need to know about a frame. Plain data, cheap to copy."""

    source: str | None = None            # path the frame came from (None for in-memory frames)
    kind: str = "raw"                    # raw | linear_raw | image (display-referred input)
    make: str = ""
    model: str = ""
    cfa_pattern: str | None = None       # RGGB/BGGR/GRBG/GBRG for Bayer mosaics
    cfa_colors: int = 3                  # 3 for Bayer; 4 or X-Trans go through LibRaw's demosaic
    black_level: np.ndarray | None = None    # per CFA position (2×2) or per channel, in DN
    white_level: np.ndarray | float | None = None  # DN (per channel for linear raw)
    linearization_table: np.ndarray | None = None
    saturation: np.ndarray | None = None     # per colour (R,G,B) clip level in normalised units (≤1)
    as_shot_neutral: np.ndarray | None = None  # camera RGB of a neutral, G = 1
    wb_multipliers: np.ndarray | None = None   # the multipliers the white-balance stage applied
    white_xy: tuple[float, float] | None = None  # chromaticity of the scene white used
    color_matrix1: np.ndarray | None = None   # XYZ → camera (DNG ColorMatrix1)
    color_matrix2: np.ndarray | None = None
    forward_matrix1: np.ndarray | None = None  # WB'd camera → XYZ D50 (DNG ForwardMatrix1)
    forward_matrix2: np.ndarray | None = None
    camera_calibration1: np.ndarray | None = None
    camera_calibration2: np.ndarray | None = None
    analog_balance: np.ndarray | None = None
    illuminant1: int | None = None        # EXIF LightSource codes (DNG CalibrationIlluminant)
    illuminant2: int | None = None
    cct1: float | None = None             # explicit CCTs (profiles that give kelvin, not codes)
    cct2: float | None = None
    baseline_exposure: float = 0.0
    noise_profile: tuple[float, ...] | None = None  # DNG NoiseProfile (S, O) pairs
    orientation: int = 1                  # EXIF orientation of the pixels as they are now
    default_crop: tuple[int, int, int, int] | None = None  # x, y, w, h in pixel coordinates
    opcodes: dict[str, bytes] = field(default_factory=dict)  # DNG OpcodeList1/2/3 raw bytes
    exif: dict[str, Any] = field(default_factory=dict)       # normalised EXIF fields (see io.metadata)
    xmp: bytes | None = None
    icc: bytes | None = None              # ICC of display-referred input / of the output
    output_space: str | None = None       # srgb | display-p3 | rec2020 once DISPLAY
    wb_applied: bool = False
    history: list[str] = field(default_factory=list)  # stage names run so far
    facts: Facts = field(default_factory=Facts)
    extra: dict[str, Any] = field(default_factory=dict)

    def copy(self) -> "Metadata":
        return copy.deepcopy(self)

    def note(self, text: str) -> None:
        """Record a user-facing notice (shown by the CLI, recorded by batch, shown by the studio)."""
        if text and text not in self.facts.notes:
            self.facts.notes.append(str(text))


@dataclass
class Frame:
    """An image and what its numbers mean."""

    pixels: np.ndarray
    state: State
    meta: Metadata = field(default_factory=Metadata)

    def __post_init__(self) -> None:
        px = self.pixels
        if self.state is not State.RAW:
            if px.dtype != np.float32:
                px = px.astype(np.float32)
            if not px.flags.c_contiguous:
                px = np.ascontiguousarray(px)
            self.pixels = px

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.pixels.shape)

    def with_pixels(self, pixels: np.ndarray, state: State | None = None, **meta_changes: Any) -> "Frame":
        """A new frame sharing (a shallow copy of) this frame's metadata."""
        meta = replace(self.meta, **meta_changes) if meta_changes else replace(self.meta)
        meta.history = list(self.meta.history)
        meta.extra = dict(self.meta.extra)
        meta.facts = self.meta.facts.copy()
        return Frame(pixels, self.state if state is None else state, meta)

    def __repr__(self) -> str:
        return f"Frame({'×'.join(map(str, self.shape))} {self.pixels.dtype}, {self.state.name}, source={self.meta.source!r})"
