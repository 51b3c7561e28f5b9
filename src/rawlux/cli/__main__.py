"""``python -m rawlux.cli ARGS``: the same as the ``rawlux`` command."""
import sys

from . import main

sys.exit(main())
