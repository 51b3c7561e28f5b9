"""The rawlux error tree.

Every failure a user can cause is one of these, with a message that names the file and the
value and says what would work::

    RawluxError                 base; never raised directly
    ├── InputError              the input cannot be read: missing, a directory, unsupported
    │   │                       format or codec, corrupt or truncated, degenerate metadata
    │   └── ImageTooLarge       pixel count above the configured limit (checked before allocating)
    ├── ParameterError          a recipe, --set key, CLI option or keyword argument is wrong
    │   └── LookError           a look file or name is wrong (unknown look, bad TOML, bad LUT)
    └── OutputError             the output cannot be written (exists, read-only, disk full, ...)

The CLI maps them to exit codes (see ``EXIT_CODES``) and prints one line, no traceback
unless ``--debug``.
"""
from __future__ import annotations


class RawluxError(Exception):
    """Base of every error rawlux raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, *, path: object | None = None):
        self.path = None if path is None else str(path)
        super().__init__(message)

    def __str__(self) -> str:  # "file: message" when the file is known and not already named; one line
        msg = " ".join(super().__str__().split())
        if self.path and self.path not in msg:
            return f"{self.path}: {msg}"
        return msg


class InputError(RawluxError):
    """The input cannot be decoded (missing, unsupported, corrupt, degenerate)."""

    exit_code = 3


class ImageTooLarge(InputError):
    """The image's pixel count is above the configured limit."""


class ParameterError(RawluxError, ValueError):
    """A parameter, recipe key or option value is invalid."""

    exit_code = 2


class LookError(ParameterError):
    """A look (name, TOML file or LUT) is invalid."""


class OutputError(RawluxError):
    """The output cannot be written."""

    exit_code = 4


#: exit codes used by the CLI: 0 ok, 1 unexpected, 2 usage/parameter, 3 input, 4 output
EXIT_CODES = {"ok": 0, "internal": 1, "parameter": 2, "input": 3, "output": 4}
