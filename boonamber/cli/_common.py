"""Shared pieces of the ``boonamber`` commands: options, the client, output, progress."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from boonamber.cli.report import jsonable

if TYPE_CHECKING:
    from boonamber.facade import AmberClient

#: Where the documentation lives (the docs/ folder is not part of an installed wheel).
DOCS_URL = "https://github.com/boonlogic/amber-python-sdk/blob/main/docs"


def docs_url(page: str) -> str:
    """The URL of a documentation page (``"cli.md"``)."""
    return f"{DOCS_URL}/{page}"


LOCAL_HINT = (
    "use --local for the embedded local server, or see 'boonamber --help' and "
    f"{docs_url('credentials.md')}"
)


class CliError(Exception):
    """A problem to report as one line on stderr (exit status 1)."""


def add_connection_options(parser: argparse.ArgumentParser, *, top_level: bool) -> None:
    """Credential/connection options, accepted before and after the subcommand.

    On subcommands the defaults are suppressed so that a value given before the
    subcommand is not overwritten by the subcommand's default.
    """

    def dflt(value: Any) -> Any:
        return value if top_level else argparse.SUPPRESS

    group = parser.add_argument_group("connection (as for AmberClient)")
    group.add_argument(
        "--profile",
        metavar="NAME",
        default=dflt(None),
        help="profile in the license file (default: $AMBER_PROFILE_NAME or 'default')",
    )
    group.add_argument(
        "--license-file",
        metavar="PATH",
        default=dflt(None),
        help="license file (default: $AMBER_LICENSE_FILE or ~/.Amber.license)",
    )
    group.add_argument(
        "--server",
        metavar="URL",
        default=dflt(None),
        help="Amber server URL including /v2 (default: from the profile or $AMBER_SERVER)",
    )
    group.add_argument(
        "--local",
        action="store_true",
        default=dflt(False),
        help="start an embedded local server in this process (no credentials needed)",
    )
    group.add_argument(
        "--timeout",
        metavar="S",
        type=float,
        default=dflt(None),
        help="per-request timeout in seconds",
    )
    out = parser.add_argument_group("output")
    out.add_argument(
        "--json",
        action="store_true",
        default=dflt(False),
        help="print machine-readable JSON instead of text",
    )


def make_client(args: argparse.Namespace) -> AmberClient:
    """An ``AmberClient`` from the connection options (only the options given are passed)."""
    from boonamber.facade import AmberClient, AmberUserError

    if getattr(args, "local", False):
        if args.server or args.profile or args.license_file:
            raise CliError("--local cannot be combined with --server, --profile or --license-file")
        return AmberClient.local(**_timeout(args))
    kwargs: dict[str, Any] = _timeout(args)
    if args.profile:
        kwargs["profile_name"] = args.profile
    if args.license_file:
        kwargs["license_file"] = args.license_file
    if args.server:
        kwargs["server"] = args.server
    try:
        return AmberClient(**kwargs)
    except AmberUserError as exc:
        raise CliError(f"{exc} ({LOCAL_HINT})") from exc


def _timeout(args: argparse.Namespace) -> dict[str, Any]:
    timeout = getattr(args, "timeout", None)
    return {} if timeout is None else {"timeout": timeout}


@contextmanager
def client_from(args: argparse.Namespace) -> Iterator[AmberClient]:
    """``make_client`` as a context manager (closes the client and any embedded server)."""
    client = make_client(args)
    try:
        yield client
    finally:
        client.close()


def print_json(data: Any) -> None:
    """Print ``data`` as indented JSON (facade results become their wire form)."""
    print(json.dumps(jsonable(data), indent=2, ensure_ascii=False))


def emit(args: argparse.Namespace, data: Any, text: str) -> None:
    """Print ``data`` as JSON with ``--json``, else ``text``."""
    if getattr(args, "json", False):
        print_json(data)
    else:
        print(text)


def progress_enabled(args: argparse.Namespace) -> bool:
    """Progress bars go to stderr, only when it is a terminal or asked for, never with --json."""
    choice = getattr(args, "progress", None)
    if choice is not None:
        return bool(choice)
    return not getattr(args, "json", False) and sys.stderr.isatty()


def add_progress_option(parser: argparse.ArgumentParser) -> None:
    """``--progress/--no-progress`` (default: on when stderr is a terminal)."""
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar on stderr (default: when stderr is a terminal)",
    )
