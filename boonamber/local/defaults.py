"""Every default setting of the local server, in one place (a light module: no heavy imports).

Used by the ``serve`` command, :class:`~boonamber.local.embedded.EmbeddedServer`, the service
and the application."""

from __future__ import annotations

#: Interface the server listens on: loopback only, unless told otherwise.
DEFAULT_HOST = "127.0.0.1"

#: Port of ``serve`` (the embedded server picks a free port: 0).
DEFAULT_PORT = 5007

#: SQLite database file of ``serve`` (the embedded server keeps its data in memory).
DEFAULT_DB = "amber-local.db"

#: Largest accepted request body, in bytes (larger bodies are answered 413).
DEFAULT_MAX_BODY_BYTES = 64 * 2**20

#: Lifetime of ID tokens, in seconds.
DEFAULT_TOKEN_TTL = 3600.0

#: Models kept loaded in memory (least recently used ones are dropped beyond it).
DEFAULT_CACHE_SIZE = 32

#: A model is snapshotted after at most this many journaled requests ...
DEFAULT_JOURNAL_MAX_OPS = 256

#: ... or once its journal holds this many bytes (or half its snapshot's size, if larger).
DEFAULT_JOURNAL_MIN_BYTES = 1 << 20

#: How long the request carrying the last pretrain chunk waits for the job before answering 202.
DEFAULT_PRETRAIN_WAIT = 1.0

#: Idle keep-alive connections are closed after this many seconds.
DEFAULT_KEEP_ALIVE = 30
