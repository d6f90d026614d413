"""``python -m boonamber.local serve --host 127.0.0.1 --port PORT --db PATH ...``."""

from __future__ import annotations

import sys

from boonamber.local.cli import main

if __name__ == "__main__":
    sys.exit(main())
