"""rawlux: an open computational camera.

    >>> import rawlux
    >>> frame = rawlux.develop("IMG_0001.dng", look="natural")
    >>> rawlux.save(frame, "IMG_0001.jpg", quality=92)

Heavy modules (numpy, numba, OpenCV, rawpy) are imported when first used.
"""
from __future__ import annotations

TYPE_CHECKING = False   # typing.TYPE_CHECKING without importing typing (CLI start-up counts)

from ._version import __version__

__all__ = ["__version__", "develop", "open_image", "save", "Frame", "State", "Metadata", "Recipe",
           "RawluxError", "InputError", "ParameterError", "LookError", "OutputError", "ImageTooLarge"]

from .errors import ImageTooLarge, InputError, LookError, OutputError, ParameterError, RawluxError

if TYPE_CHECKING:  # pragma: no cover
    from .frame import Frame, Metadata, State
    from .pipeline.recipe import Recipe

from ._lazy import lazy_getattr  # noqa: E402

_LAZY = {
    "develop": ("rawlux.pipeline.run", "develop"),
    "open_image": ("rawlux.io.decode", "open_image"),
    "save": ("rawlux.io.encode", "save"),
    "Frame": ("rawlux.frame", "Frame"),
    "State": ("rawlux.frame", "State"),
    "Metadata": ("rawlux.frame", "Metadata"),
    "Recipe": ("rawlux.pipeline.recipe", "Recipe"),
}


__getattr__ = lazy_getattr(__name__, _LAZY, globals())
