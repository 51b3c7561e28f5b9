"""``python -m rawlux.batch`` = ``rawlux batch``."""
from .cli import batch

if __name__ == "__main__":  # pragma: no cover
    batch(prog_name="rawlux batch")
