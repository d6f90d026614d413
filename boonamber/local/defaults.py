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

#: SQLite ``synchronous`` setting: NORMAL (in WAL mode) writes every commit to the WAL before
#: the answer, so acknowledged writes survive the server process being killed (``kill -9``);
#: a power loss or OS crash may lose the last commits. FULL fsyncs each commit (slower).
DEFAULT_SYNCHRONOUS = "NORMAL"

#: Threads of the BLAS library in a ``serve`` process (the engine's matrix products are small;
#: more threads only add CPU contention with the request threads).
BLAS_THREADS = 1

#: Threads running requests (parsing, the model's work, the answer). Models have their own
#: locks, so requests on different models run side by side; the work mostly holds Python's
#: GIL, so more threads would only contend for it.
WORKER_THREADS = 8

#: Cheap operations (getVersion, getModel, getConfig, getStatus, getPretrain, postOutage, and
#: postData/putData with a body of at most this many bytes) run on the event loop instead of
#: a worker thread, when their model is loaded and free; their commits go to the database's
#: writer thread and are awaited before the answer.
INLINE_MAX_BODY_BYTES = 16 * 2**10

#: ... and postData/putData only while the model is Learning or Monitoring and the request's
#: patterns x the model's template values (clusters x pattern length) stay within this
#: (about a millisecond of matching).
INLINE_MAX_WORK = 2_000_000

#: Failed logins allowed per license key, and per client address, within the window below;
#: beyond them logins are answered 429 with Retry-After (before the secret is checked).
LOGIN_MAX_FAILURES_PER_KEY = 5
LOGIN_MAX_FAILURES_PER_ADDRESS = 30
LOGIN_FAILURE_WINDOW = 60.0

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
#: An upload's background job waits this long for its next chunk before it ends (freeing its
#: memory; the chunks stay stored and the next one starts a job from them).
PRETRAIN_IDLE = 300.0

#: Idle keep-alive connections are closed after this many seconds.
DEFAULT_KEEP_ALIVE = 30

#: How long SIGTERM/SIGINT waits for in-flight requests, in seconds; then those that have not
#: begun to commit are answered 503 and never applied.
DEFAULT_SHUTDOWN_GRACE = 3
#: ... and how much longer the requests already committing get to answer before they are cut.
SHUTDOWN_FINISH = 2

# ---------------------------------------------------------------- model limits
# Checked when a configuration (postConfig) or new training values (postLearning) are parsed:
# a larger value is a 400 naming the field and the limit, and the model is left as it was.
# With them, the memory of a model is bounded and grows with what it holds, not with what
# it was configured to allow.

#: Most features per model.
MAX_FEATURES = 1_000

#: Longest streamingWindow.
MAX_STREAMING_WINDOW = 10_000

#: Longest pattern: featureCount x streamingWindow values.
MAX_PATTERN_LENGTH = 10_000

#: Most clusters (training.learningMaxClusters).
MAX_CLUSTERS = 100_000

#: Most template values a model may hold: learningMaxClusters x pattern length (three float64
#: copies of each: about 240 MB at the limit).
MAX_TEMPLATE_VALUES = 10_000_000

#: Largest training.bufferingSamples (vectors kept before autotuning) ...
MAX_BUFFERING_SAMPLES = 1_000_000

#: ... and most buffered values: bufferingSamples x featureCount (80 MB of float64).
MAX_BUFFER_VALUES = 10_000_000

#: Largest training.historyWindow (an anomaly-history ring of this many entries).
MAX_HISTORY_WINDOW = 1_000_000
