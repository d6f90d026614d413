"""The ``boonamber`` command-line tool (also ``python -m boonamber``).

Subcommands: ``serve``, ``demo``, ``models``, ``config``, ``stream``, ``pretrain``,
``status``, ``version``. Each lives in its own module with a ``register(subparsers)``
function; ``main`` parses, dispatches and turns every expected error into one line on
stderr and a non-zero exit status. See ``docs/cli.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import warnings
from collections.abc import Sequence
from typing import TextIO

from boonamber._version import __version__
from boonamber.cli._common import CliError, add_connection_options, docs_url

__all__ = ["build_parser", "main"]

PROG = "boonamber"


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (exposed for the docs and the tests)."""
    from boonamber.cli import demo, manage, serve, stream

    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Amber anomaly detection from the command line: a local server, a demo, "
        "and commands to manage models and stream CSV data through them.",
        epilog=f"Run 'boonamber demo' for a one-minute tour. Docs: {docs_url('cli.md')}",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    add_connection_options(parser, top_level=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    serve.register(sub)
    demo.register(sub)
    manage.register(sub)
    stream.register(sub)
    manage.register_info(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the tool; returns the exit status (0 success, 1 error, 2 usage, 130 interrupted)."""
    for stream in (sys.stdout, sys.stderr):  # never die on "→" in a non-UTF-8 console
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):  # a detached or closed stream
                reconfigure(errors="replace")
    warnings.showwarning = _show_warning
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.func(args)
        return status
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. piped into `head`
        return 0
    except Exception as exc:
        message = _one_line(exc)
        if message is None:
            raise
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return 1


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """Warnings as one line, like errors: ``boonamber: warning: ...``."""
    text = " ".join(str(message).split())
    print(f"{PROG}: warning: {text}", file=file or sys.stderr)


def _one_line(exc: Exception) -> str | None:
    """The one-line message for an expected error, ``None`` for a bug (re-raised)."""
    from boonamber.cli.csvdata import CsvError
    from boonamber.cli.plot import PlotUnavailable

    if isinstance(exc, CliError | CsvError | PlotUnavailable):
        return str(exc)
    try:
        from boonamber.facade import AmberError
    except ImportError:  # pragma: no cover - the facade is part of the package
        AmberError = ()  # type: ignore[assignment,misc]
    if isinstance(exc, AmberError):
        return " ".join(str(exc).split())
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{exc.strerror or exc}{where}"
    return None
