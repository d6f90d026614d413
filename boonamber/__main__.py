"""``python -m boonamber``: the same as the ``boonamber`` command."""

from boonamber.cli import main

raise SystemExit(main())
