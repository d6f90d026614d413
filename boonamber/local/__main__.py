"""``python -m boonamber.local serve --host 127.0.0.1 --port PORT --db PATH ...``."""

from __future__ import annotations

from boonamber.local.cli import exit_process, main

if __name__ == "__main__":
    exit_process(main())
