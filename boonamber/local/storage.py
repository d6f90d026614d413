"""SQLite storage of the local server: accounts, tokens, models, engine snapshots and their
journal, usage counters and pretrain chunks.

One connection, guarded by a lock, serves every thread (SQLite has a single writer anyway; hot
models live in memory, so reads rarely reach the database). File databases use WAL; each
transaction commits before the server answers, so a 2xx answer survives the process being
killed. With ``synchronous=NORMAL`` (the default) a commit is written to the WAL but not
fsynced: a power loss or OS crash may lose the last commits (never corrupts the file);
``FULL`` fsyncs every commit for that too, at a cost per write. The database, its WAL and lock
files are created 0600 (they hold secret hashes and data).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any, Generic, TypeVar

from boonamber.local.inflight import current_ticket

T = TypeVar("T")

SCHEMA_VERSION = 1

#: Seconds between WAL checkpoints (while there are new commits).
CHECKPOINT_EVERY = 0.5

#: Bytes the WAL file is truncated to when it is reused after a checkpoint.
WAL_SIZE_LIMIT = 64 * 2**20

log = logging.getLogger("boonamber.local")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    license_key TEXT NOT NULL UNIQUE,
    secret_hash BLOB NOT NULL,
    salt BLOB NOT NULL,
    kdf TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    digest TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    expires REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS models (
    id TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL,
    label TEXT NOT NULL,
    created TEXT NOT NULL,
    modified TEXT NOT NULL,
    config TEXT,
    seq INTEGER NOT NULL DEFAULT 0,
    last_data REAL,
    total_samples INTEGER NOT NULL DEFAULT 0,
    pretrain_status TEXT NOT NULL DEFAULT 'None',
    pretrain_message TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS models_by_account ON models (account_id, created);
CREATE TABLE IF NOT EXISTS snapshots (
    model_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS journal (
    model_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    op TEXT NOT NULL,
    payload BLOB NOT NULL,
    PRIMARY KEY (model_id, seq)
);
CREATE TABLE IF NOT EXISTS usage (
    model_id TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    total_calls INTEGER NOT NULL,
    last_called TEXT NOT NULL,
    PRIMARY KEY (model_id, endpoint)
);
CREATE TABLE IF NOT EXISTS pretrain_txns (
    txn_id TEXT PRIMARY KEY,
    model_id TEXT NOT NULL,
    n_chunks INTEGER NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS pretrain_chunks (
    txn_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    digest TEXT NOT NULL,
    data BLOB,
    PRIMARY KEY (txn_id, idx)
);
"""


@dataclass
class AccountRow:
    """An account as stored (the secret only as a salted hash)."""

    id: int
    license_key: str
    secret_hash: bytes
    salt: bytes
    kdf: str


@dataclass
class ModelRow:
    """The metadata of a model as stored (without snapshot and journal)."""

    id: str
    account_id: int
    label: str
    created: str
    modified: str
    config: str | None
    seq: int
    last_data: float | None
    total_samples: int
    pretrain_status: str
    pretrain_message: str


@dataclass
class JournalEntry:
    """One operation applied to a model after its last snapshot."""

    seq: int
    op: str
    payload: bytes


_MODEL_COLS = (
    "id, account_id, label, created, modified, config, seq, last_data, total_samples, "
    "pretrain_status, pretrain_message"
)


def _model_row(r: Any) -> ModelRow:
    return ModelRow(
        id=r[0],
        account_id=r[1],
        label=r[2],
        created=r[3],
        modified=r[4],
        config=r[5],
        seq=r[6],
        last_data=r[7],
        total_samples=r[8],
        pretrain_status=r[9],
        pretrain_message=r[10],
    )


class Tx:
    """The operations available inside one transaction (or one locked read)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    # accounts -----------------------------------------------------------------------------
    def create_account(
        self, license_key: str, secret_hash: bytes, salt: bytes, kdf: str, created: str
    ) -> int:
        cur = self.conn.execute(
            "INSERT INTO accounts (license_key, secret_hash, salt, kdf, created) "
            "VALUES (?, ?, ?, ?, ?)",
            (license_key, secret_hash, salt, kdf, created),
        )
        return int(cur.lastrowid or 0)

    def account_by_license(self, license_key: str) -> AccountRow | None:
        r = self.conn.execute(
            "SELECT id, license_key, secret_hash, salt, kdf FROM accounts WHERE license_key = ?",
            (license_key,),
        ).fetchone()
        return None if r is None else AccountRow(r[0], r[1], bytes(r[2]), bytes(r[3]), r[4])

    def count_accounts(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM accounts").fetchone()[0])

    # tokens -------------------------------------------------------------------------------
    def add_token(self, digest: str, account_id: int, kind: str, expires: float) -> None:
        self.conn.execute(
            "INSERT INTO tokens (digest, account_id, kind, expires) VALUES (?, ?, ?, ?)",
            (digest, account_id, kind, expires),
        )

    def get_token(self, digest: str) -> tuple[int, str, float] | None:
        r = self.conn.execute(
            "SELECT account_id, kind, expires FROM tokens WHERE digest = ?", (digest,)
        ).fetchone()
        return None if r is None else (int(r[0]), str(r[1]), float(r[2]))

    def delete_token(self, digest: str) -> bool:
        return self.conn.execute("DELETE FROM tokens WHERE digest = ?", (digest,)).rowcount > 0

    def prune_tokens(self, now: float) -> None:
        self.conn.execute("DELETE FROM tokens WHERE expires < ?", (now,))

    # models -------------------------------------------------------------------------------
    def insert_model(self, row: ModelRow, snapshot: bytes | None) -> None:
        self.conn.execute(
            f"INSERT INTO models ({_MODEL_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                row.id,
                row.account_id,
                row.label,
                row.created,
                row.modified,
                row.config,
                row.seq,
                row.last_data,
                row.total_samples,
                row.pretrain_status,
                row.pretrain_message,
            ),
        )
        if snapshot is not None:
            self.write_snapshot(row.id, snapshot, row.seq)

    def get_model(self, model_id: str) -> ModelRow | None:
        r = self.conn.execute(
            f"SELECT {_MODEL_COLS} FROM models WHERE id = ?", (model_id,)
        ).fetchone()
        return None if r is None else _model_row(r)

    def list_models(self, account_id: int) -> list[ModelRow]:
        rows = self.conn.execute(
            f"SELECT {_MODEL_COLS} FROM models WHERE account_id = ? ORDER BY created, id",
            (account_id,),
        ).fetchall()
        return [_model_row(r) for r in rows]

    def models_pretraining(self) -> list[ModelRow]:
        rows = self.conn.execute(
            f"SELECT {_MODEL_COLS} FROM models WHERE pretrain_status = 'Pretraining'"
        ).fetchall()
        return [_model_row(r) for r in rows]

    def update_model(self, row: ModelRow) -> None:
        """Write every metadata column of ``row`` (not the snapshot)."""
        self.conn.execute(
            "UPDATE models SET label = ?, modified = ?, config = ?, seq = ?, last_data = ?, "
            "total_samples = ?, pretrain_status = ?, pretrain_message = ? WHERE id = ?",
            (
                row.label,
                row.modified,
                row.config,
                row.seq,
                row.last_data,
                row.total_samples,
                row.pretrain_status,
                row.pretrain_message,
                row.id,
            ),
        )

    def write_snapshot(self, model_id: str, snapshot: bytes | None, seq: int) -> None:
        """Replace the snapshot (taken after journal entry ``seq``) and drop the journal.

        Snapshots live in their own table: SQLite rewrites a whole row on update, so keeping
        them beside the metadata would copy the blob on every metadata change."""
        if snapshot is None:
            self.conn.execute("DELETE FROM snapshots WHERE model_id = ?", (model_id,))
        else:
            self.conn.execute(
                "INSERT INTO snapshots (model_id, seq, data) VALUES (?, ?, ?) "
                "ON CONFLICT (model_id) DO UPDATE SET seq = excluded.seq, data = excluded.data",
                (model_id, seq, snapshot),
            )
        self.conn.execute("DELETE FROM journal WHERE model_id = ?", (model_id,))

    def append_journal(self, model_id: str, seq: int, op: str, payload: bytes) -> None:
        self.conn.execute(
            "INSERT INTO journal (model_id, seq, op, payload) VALUES (?, ?, ?, ?)",
            (model_id, seq, op, payload),
        )

    def load_state(self, model_id: str) -> tuple[bytes | None, list[JournalEntry]]:
        r = self.conn.execute(
            "SELECT data FROM snapshots WHERE model_id = ?", (model_id,)
        ).fetchone()
        snapshot = None if r is None else bytes(r[0])
        rows = self.conn.execute(
            "SELECT seq, op, payload FROM journal WHERE model_id = ? ORDER BY seq", (model_id,)
        ).fetchall()
        return snapshot, [JournalEntry(int(s), str(o), bytes(p)) for s, o, p in rows]

    def delete_model(self, model_id: str) -> None:
        self.delete_pretrain(model_id)
        tables = (("journal", "model_id"), ("usage", "model_id"), ("snapshots", "model_id"))
        for table, col in (*tables, ("models", "id")):
            self.conn.execute(f"DELETE FROM {table} WHERE {col} = ?", (model_id,))

    # usage --------------------------------------------------------------------------------
    def bump_usage(self, model_id: str, endpoint: str, when: str) -> None:
        self.conn.execute(
            "INSERT INTO usage (model_id, endpoint, total_calls, last_called) VALUES (?, ?, 1, ?) "
            "ON CONFLICT (model_id, endpoint) DO UPDATE SET "
            "total_calls = total_calls + 1, last_called = excluded.last_called",
            (model_id, endpoint, when),
        )

    def get_usage(self, model_id: str) -> dict[str, tuple[int, str]]:
        rows = self.conn.execute(
            "SELECT endpoint, total_calls, last_called FROM usage WHERE model_id = ?", (model_id,)
        ).fetchall()
        return {str(e): (int(n), str(t)) for e, n, t in rows}

    # pretrain -----------------------------------------------------------------------------
    def create_txn(self, txn_id: str, model_id: str, n_chunks: int, created: float) -> None:
        self.conn.execute(
            "INSERT INTO pretrain_txns (txn_id, model_id, n_chunks, created) VALUES (?, ?, ?, ?)",
            (txn_id, model_id, n_chunks, created),
        )

    def get_txn(self, txn_id: str) -> tuple[str, int] | None:
        r = self.conn.execute(
            "SELECT model_id, n_chunks FROM pretrain_txns WHERE txn_id = ?", (txn_id,)
        ).fetchone()
        return None if r is None else (str(r[0]), int(r[1]))

    def txns_of_model(self, model_id: str) -> list[tuple[str, int]]:
        rows = self.conn.execute(
            "SELECT txn_id, n_chunks FROM pretrain_txns WHERE model_id = ? ORDER BY created",
            (model_id,),
        ).fetchall()
        return [(str(t), int(n)) for t, n in rows]

    def chunk_digests(self, txn_id: str) -> dict[int, str]:
        """Index -> SHA-256 of every chunk received in the transaction."""
        rows = self.conn.execute(
            "SELECT idx, digest FROM pretrain_chunks WHERE txn_id = ?", (txn_id,)
        ).fetchall()
        return {int(i): str(d) for i, d in rows}

    def add_chunk(self, txn_id: str, idx: int, digest: str, data: bytes) -> None:
        self.conn.execute(
            "INSERT INTO pretrain_chunks (txn_id, idx, digest, data) VALUES (?, ?, ?, ?)",
            (txn_id, idx, digest, data),
        )

    def load_chunks(self, txn_id: str) -> list[tuple[int, bytes]]:
        """The stored chunk data, by index (chunks whose data was released are left out)."""
        rows = self.conn.execute(
            "SELECT idx, data FROM pretrain_chunks WHERE txn_id = ? AND data IS NOT NULL "
            "ORDER BY idx",
            (txn_id,),
        ).fetchall()
        return [(int(i), bytes(d)) for i, d in rows]

    def release_chunks(self, model_id: str) -> None:
        """Drop the data of a finished upload, keeping its digests (to acknowledge replays)."""
        self.conn.execute(
            "UPDATE pretrain_chunks SET data = NULL WHERE txn_id IN "
            "(SELECT txn_id FROM pretrain_txns WHERE model_id = ?)",
            (model_id,),
        )

    def release_txn(self, txn_id: str) -> None:
        """Drop the chunk data of one finished upload (keeping its digests)."""
        self.conn.execute(
            "UPDATE pretrain_chunks SET data = NULL WHERE txn_id = ? AND data IS NOT NULL",
            (txn_id,),
        )

    def release_pretrained(self) -> None:
        """Drop the chunk data left by uploads of models already Pretrained (a stop between
        the pretraining's commit and the release of its chunks)."""
        self.conn.execute(
            "UPDATE pretrain_chunks SET data = NULL WHERE data IS NOT NULL AND txn_id IN "
            "(SELECT t.txn_id FROM pretrain_txns t JOIN models m ON m.id = t.model_id "
            "WHERE m.pretrain_status = 'Pretrained')"
        )

    def delete_pretrain(self, model_id: str) -> None:
        self.conn.execute(
            "DELETE FROM pretrain_chunks WHERE txn_id IN "
            "(SELECT txn_id FROM pretrain_txns WHERE model_id = ?)",
            (model_id,),
        )
        self.conn.execute("DELETE FROM pretrain_txns WHERE model_id = ?", (model_id,))


class Flag:
    """A flag set once, which other threads may wait for (by polling: waits are rare and short,
    and a flag costs far less to make than a threading.Event)."""

    __slots__ = ("is_set",)

    def __init__(self) -> None:
        self.is_set = False

    def set(self) -> None:
        """Set the flag."""
        self.is_set = True

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the flag; whether it is set."""
        deadline = time.monotonic() + timeout
        while not self.is_set:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.0005)
        return True


@dataclass(slots=True)
class Write:
    """Writes for :meth:`Store.try_commit`. ``failed`` is called if they are not committed
    (before any later write runs); ``saved`` is set once they are committed or have failed."""

    fn: Callable[[Tx], object]
    failed: Callable[[], None] | None = None
    saved: Flag = field(default_factory=Flag)


class _Work(Generic[T]):
    """One caller's part of a group commit."""

    __slots__ = ("done", "error", "fn", "result", "ticket")

    def __init__(self, fn: Callable[[Tx], T]) -> None:
        self.fn = fn
        self.ticket = current_ticket()
        self.done = False
        self.result: T | None = None
        self.error: BaseException | None = None


def _private_files(path: str) -> None:
    """Create the database file 0600 (SQLite gives its WAL and shared-memory files the same
    mode) and tighten the mode of existing ones."""
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for name in (path, path + "-wal", path + "-shm", path + ".lock"):
        if os.path.exists(name) and os.stat(name).st_mode & 0o077:
            os.chmod(name, 0o600)


def _lock_database(path: str) -> IO[bytes] | None:
    """Take an exclusive advisory lock beside the database (``PATH.lock``), so that two servers
    never share one file (each keeps models in memory). None where ``fcntl`` is missing."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return None
    fd = os.open(path + ".lock", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    handle = os.fdopen(fd, "ab")  # held open until close()
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise RuntimeError(f"database {path} is in use by another server process") from None
    return handle


class Store:
    """The database of one server. ``path`` may be ``":memory:"`` (tests)."""

    def __init__(self, path: str = ":memory:", synchronous: str = "NORMAL") -> None:
        if synchronous.upper() not in ("FULL", "NORMAL", "EXTRA"):
            raise ValueError("synchronous must be FULL, NORMAL or EXTRA")
        self.path = path
        self._lock = threading.RLock()
        self._lockfile = _lock_database(path) if path != ":memory:" else None
        self._conn: sqlite3.Connection | None = None
        self._group: list[_Work[Any]] = []
        self._group_cond = threading.Condition()
        self._leading = False
        self._checkpointer: threading.Thread | None = None
        self._stop_checkpoints = threading.Event()
        self._commits = 0  # commits since the last checkpoint (approximate)
        try:
            if path != ":memory:":
                _private_files(path)
            self._conn = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False, timeout=30.0
            )
            conn = self._conn
            if path != ":memory:":
                mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                if str(mode).lower() != "wal":  # pragma: no cover - exotic file systems
                    raise RuntimeError(f"could not enable WAL on {path} (mode {mode})")
            conn.execute(f"PRAGMA synchronous={synchronous.upper()}")
            conn.execute("PRAGMA busy_timeout=30000")
            # Deleted rows are still zeroed in the b-tree pages, but large values freed with
            # their overflow pages (chunk data, replaced snapshots) are not rewritten with
            # zeros (builds default to ON: releasing 1M pretrain values wrote 8 MB of zeros).
            conn.execute("PRAGMA secure_delete=FAST")
            if path != ":memory:":
                # Checkpoints (copying the WAL into the database, with fsyncs) run on their
                # own thread and connection, not inside a request's COMMIT.
                conn.execute("PRAGMA wal_autocheckpoint=0")
                conn.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
                self._checkpointer = threading.Thread(
                    target=self._checkpoint_loop, name="amber-store-checkpoint", daemon=True
                )
                self._checkpointer.start()
            with self._lock:
                conn.executescript(_SCHEMA)
            with self.transaction() as tx:
                r = tx.conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
                if r is None:
                    tx.conn.execute(
                        "INSERT INTO meta (key, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),)
                    )
                elif int(r[0]) > SCHEMA_VERSION:
                    raise RuntimeError(
                        f"database {path} has schema {r[0]}, newer than this server's {SCHEMA_VERSION}"
                    )
        except BaseException:
            self.close()
            raise

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._conn is None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("the store is closed")
        return self._conn

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """Run a write transaction: committed on normal exit, rolled back on an exception.
        On behalf of a request, its ticket is claimed first (Abandoned: nothing done)."""
        ticket = current_ticket()
        with self._lock:
            conn = self._connection()
            if ticket is not None:
                ticket.claim()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield Tx(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            self._commits += 1

    def grouped(self, fn: Callable[[Tx], T]) -> T:
        """Run ``fn`` in a write transaction shared with the concurrent callers' (group commit:
        one COMMIT for all). Returns once the group is committed. ``fn`` runs in its own
        savepoint, so if it raises only its writes are undone and its caller gets the error;
        if the COMMIT fails, every caller of the group gets that error. On behalf of a request,
        its ticket is claimed first (Abandoned: ``fn`` is not run)."""
        item = _Work(fn)
        cond = self._group_cond
        with cond:
            self._group.append(item)
            while not item.done:
                if self._leading:
                    cond.wait()
                    continue
                self._leading = True
                batch, self._group = self._group, []
                cond.release()
                try:
                    self._commit_batch(batch)
                finally:
                    cond.acquire()
                    self._leading = False
                    cond.notify_all()
        if item.error is not None:
            raise item.error
        return item.result  # type: ignore[return-value]

    def _commit_batch(self, batch: list[_Work[Any]]) -> None:
        try:
            with self._lock:
                conn = self._connection()
                conn.execute("BEGIN IMMEDIATE")
                try:
                    tx = Tx(conn)
                    for item in batch:
                        conn.execute("SAVEPOINT work")
                        try:
                            if item.ticket is not None:
                                item.ticket.claim()
                            item.result = item.fn(tx)
                        except BaseException as exc:
                            conn.execute("ROLLBACK TO work")
                            item.error = exc
                        conn.execute("RELEASE work")
                    conn.execute("COMMIT")
                    self._commits += 1
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
        except BaseException as exc:
            for item in batch:
                if item.error is None:
                    item.error = exc
        finally:
            for item in batch:
                item.done = True

    def try_commit(self, writes: list[Write]) -> list[BaseException | None] | None:
        """Run ``writes`` in one transaction if the connection is free right now; None if it is
        busy (nothing done: try again later). Returns one entry per write: None, or the error
        it raised (its changes undone, ``failed`` called). Raises the COMMIT's error, after
        calling every ``failed``. Meant for the event loop, which must never wait for a lock."""
        if not self._lock.acquire(blocking=False):
            return None
        try:
            conn = self._connection()
            try:
                errors = self._run_writes(conn, writes)
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                for write in writes:
                    if write.failed is not None:
                        write.failed()
                raise
            self._commits += 1
            return errors
        finally:
            self._lock.release()

    @staticmethod
    def _run_writes(conn: sqlite3.Connection, writes: list[Write]) -> list[BaseException | None]:
        """All writes in one transaction; if one raises, each again in its own (rare)."""
        tx = Tx(conn)
        conn.execute("BEGIN IMMEDIATE")
        try:
            for write in writes:
                write.fn(tx)
        except BaseException as first:
            conn.execute("ROLLBACK")
            if len(writes) == 1:
                if writes[0].failed is not None:
                    writes[0].failed()
                return [first]
            errors: list[BaseException | None] = []
            for write in writes:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    write.fn(tx)
                except BaseException as exc:
                    conn.execute("ROLLBACK")
                    errors.append(exc)
                    if write.failed is not None:
                        write.failed()
                    continue
                conn.execute("COMMIT")
                errors.append(None)
            return errors
        conn.execute("COMMIT")
        return [None] * len(writes)

    def _checkpoint_loop(self) -> None:
        """Checkpoint the WAL (PASSIVE: never blocks the writer) every CHECKPOINT_EVERY
        seconds while there are new commits."""
        conn: sqlite3.Connection | None = None
        try:
            while not self._stop_checkpoints.wait(CHECKPOINT_EVERY):
                if self._commits == 0:
                    continue
                self._commits = 0
                if conn is None:
                    conn = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except Exception:  # pragma: no cover - the next COMMITs still work; close checkpoints
            log.exception("WAL checkpoint failed")
        finally:
            if conn is not None:
                conn.close()

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """Run reads under the connection lock (no transaction needed for one statement)."""
        with self._lock:
            yield Tx(self._connection())

    def close(self) -> None:
        """Checkpoint and close the database, release its lock (idempotent)."""
        self._stop_checkpoints.set()
        if self._checkpointer is not None and self._checkpointer is not threading.current_thread():
            self._checkpointer.join()
            self._checkpointer = None
        with self._lock:
            try:
                if self._conn is not None:
                    try:
                        if self.path != ":memory:":
                            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    finally:
                        self._conn.close()
            finally:
                self._conn = None
                if self._lockfile is not None:
                    self._lockfile.close()  # releases the advisory lock
                    self._lockfile = None
