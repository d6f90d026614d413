"""``boonamber serve``: the local Amber-compatible server (``boonamber.local``)."""

from __future__ import annotations

import argparse
from typing import Any

from boonamber.cli._common import CliError, docs_url

LOCAL_EXTRA_HINT = "the local server needs extra packages: pip install 'boonamber[local]'"


def register(sub: Any) -> None:
    """Add the ``serve`` subcommand (its options come from ``boonamber.local.cli``)."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "serve",
        help="run the local Amber-compatible server",
        description="Run the offline, Amber-compatible local server. On first start it "
        f"creates a local license profile and prints how to use it. See {docs_url('local-server.md')}.",
    )
    try:
        from boonamber.local.cli import add_serve_arguments
    except ImportError:
        parser.set_defaults(func=_missing)
        return
    add_serve_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Delegate to the server's own runner."""
    try:
        from boonamber.local.cli import run_serve
    except ImportError as exc:
        raise CliError(LOCAL_EXTRA_HINT) from exc
    return int(run_serve(args))


def _missing(args: argparse.Namespace) -> int:
    raise CliError(LOCAL_EXTRA_HINT)
