"""The ``serve`` command: run the local Amber server in the foreground."""

from __future__ import annotations

import argparse
import errno
import logging
import os
import sys
import threading
import time

from boonamber.local.defaults import (
    DEFAULT_DB,
    DEFAULT_HOST,
    DEFAULT_JOURNAL_MAX_OPS,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_PORT,
    DEFAULT_SYNCHRONOUS,
    DEFAULT_TOKEN_TTL,
)

log = logging.getLogger("boonamber.local")


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``serve`` to ``parser``."""
    parser.add_argument("--host", default=DEFAULT_HOST, help="interface to listen on (loopback)")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 = any)"
    )
    parser.add_argument(
        "--db", default=DEFAULT_DB, help=f"SQLite database file (default {DEFAULT_DB})"
    )
    parser.add_argument(
        "--token-ttl",
        type=float,
        default=DEFAULT_TOKEN_TTL,
        metavar="SECONDS",
        help=f"lifetime of ID tokens (default {DEFAULT_TOKEN_TTL:g})",
    )
    parser.add_argument(
        "--write-license",
        metavar="FILE",
        help="write (or update) a license profile for this server into FILE (mode 0600)",
    )
    parser.add_argument(
        "--profile", default="default", help="profile name in the license file (default)"
    )
    parser.add_argument(
        "--max-body-bytes",
        type=int,
        default=DEFAULT_MAX_BODY_BYTES,
        help=f"largest accepted request body (default {DEFAULT_MAX_BODY_BYTES})",
    )
    parser.add_argument(
        "--journal-max-ops",
        type=int,
        default=DEFAULT_JOURNAL_MAX_OPS,
        metavar="N",
        help=f"snapshot a model after at most N journaled requests (default {DEFAULT_JOURNAL_MAX_OPS})",
    )
    parser.add_argument(
        "--synchronous",
        default=DEFAULT_SYNCHRONOUS,
        type=str.upper,
        choices=["NORMAL", "FULL", "EXTRA"],
        help="SQLite synchronous setting: NORMAL survives kill -9, FULL also power loss "
        f"(default {DEFAULT_SYNCHRONOUS})",
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="server log level (default info)",
    )


def default_license_path(db: str) -> str:
    """Where ``serve`` stores the credentials of a new account without ``--write-license``."""
    return "amber-local.license" if db == ":memory:" else db + ".license"


def _credentials(service: object, args: argparse.Namespace) -> tuple[str, str | None, bool]:
    """The account to announce: ``(license_key, secret_key or None, created)``."""
    from boonamber import profiles
    from boonamber.local.service import Service

    assert isinstance(service, Service)
    if args.write_license:
        existing = profiles.read_profile(args.write_license, args.profile)
        if existing:
            lk = (profiles.find(existing, "license_key") or (None, None))[1]
            sk = (profiles.find(existing, "secret_key") or (None, None))[1]
            if (
                isinstance(lk, str)
                and isinstance(sk, str)
                and service.auth.check_credentials(lk, sk) is not None
            ):
                return lk, sk, False
        lk, sk = service.auth.create_account()
        return lk, sk, True
    with service.store.read() as tx:
        if tx.count_accounts():
            return "", None, False
    lk, sk = service.auth.create_account()
    return lk, sk, True


def _fail(message: str) -> int:
    """Report a start-up failure as the ``boonamber`` tool does (one line, exit status 1)."""
    print(f"boonamber: error: {message}", file=sys.stderr)
    return 1


def run_serve(args: argparse.Namespace) -> int:
    """Run the server until SIGINT/SIGTERM; returns the process exit code."""
    from boonamber.local.runner import amber_server, bind_socket, open_service, server_url
    from boonamber.profiles import write_profile

    logging.basicConfig(
        level=getattr(logging, str(args.log_level).upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        service = open_service(
            args.db,
            token_ttl=args.token_ttl,
            journal_max_ops=args.journal_max_ops,
            synchronous=args.synchronous,
        )
    except Exception as exc:
        return _fail(f"cannot open database {args.db}: {exc}")
    try:
        service.start()
        license_key, secret_key, created = _credentials(service, args)
        sock = bind_socket(args.host, args.port)
    except OSError as exc:
        service.close()
        if exc.errno == errno.EADDRINUSE:
            return _fail(
                f"cannot listen on {args.host}:{args.port}: the port is in use (is another "
                "server running there?); choose another with --port, or --port 0 for a free one"
            )
        return _fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
    except Exception as exc:
        service.close()
        return _fail(str(exc))
    port = sock.getsockname()[1]
    url = server_url(args.host, port)
    server = amber_server(
        service,
        max_body_bytes=args.max_body_bytes,
        log_level=args.log_level,
        access_log=args.log_level == "debug",
    )

    def announce() -> None:
        while not server.started:
            if server.should_exit:
                return
            time.sleep(0.01)
        print(f"Amber local server listening on {url} (database {args.db})", flush=True)
        if args.write_license:
            assert secret_key is not None
            try:
                write_profile(args.write_license, args.profile, license_key, secret_key, url)
            except Exception as exc:
                print(f"error: cannot write license file: {exc}", file=sys.stderr, flush=True)
                server.should_exit = True
                return
            print(
                f"License profile '{args.profile}' written to {args.write_license} "
                f"(license key {license_key})",
                flush=True,
            )
            _print_usage_hint(args.write_license, args.profile)
        elif created:
            # The secret is stored hashed, so this is the only chance to hand it out: write it
            # to a private license file rather than printing it.
            path = default_license_path(args.db)
            assert secret_key is not None
            try:
                write_profile(path, args.profile, license_key, secret_key, url)
            except Exception as exc:
                print(f"error: cannot write license file {path}: {exc}", file=sys.stderr)
                return
            print(
                f"Created account {license_key}; its license profile '{args.profile}' is in {path}",
                flush=True,
            )
            _print_usage_hint(str(path), args.profile)

    watcher = threading.Thread(target=announce, name="amber-announce", daemon=True)
    watcher.start()
    try:
        server.run(sockets=[sock])
    finally:
        server.should_exit = True
        watcher.join(5.0)
        service.close()
    return 0


def _print_usage_hint(license_file: str, profile: str) -> None:
    """Tell the user how to point any Amber client at this server."""
    print(
        f"Use it with: boonamber models list --license-file {license_file} --profile {profile}\n"
        f"         or: AMBER_LICENSE_FILE={license_file} AMBER_PROFILE_NAME={profile} "
        "python your_script.py",
        flush=True,
    )


def exit_process(code: int) -> None:
    """Exit with ``code`` once the server is closed. Request threads still running (a shutdown
    abandoned them after the grace period; nothing they do is acknowledged, and the database
    is closed) would keep the interpreter alive, so they end with the process."""
    sys.stdout.flush()
    sys.stderr.flush()
    main_thread = threading.main_thread()
    if any(t.is_alive() and not t.daemon and t is not main_thread for t in threading.enumerate()):
        os._exit(code)
    sys.exit(code)


def main(argv: list[str] | None = None) -> int:
    """``python -m boonamber.local serve ...``."""
    parser = argparse.ArgumentParser(
        prog="python -m boonamber.local", description="The offline, Amber-compatible server."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the local Amber server")
    add_serve_arguments(serve)
    args = parser.parse_args(argv)
    if args.command == "serve":
        return run_serve(args)
    return 2  # pragma: no cover - argparse enforces the choice
