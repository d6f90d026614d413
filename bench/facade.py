"""Benchmark the facade (AmberClient) against the official boonamber==2.0.20, side by side.

    .venv/bin/python bench/facade.py [--runs 5] [--pretrain-runs 5] [--big-runs 3]

One local server (``python -m boonamber.local serve``, its own process) and two client
processes: ours, and the official package installed by this script into its own virtual
environment, bench/.venvs/boonamber-2.0.20 (gitignored; never a dependency of ours, run with
``python -I`` so our package is not importable there). Both clients get the same data as a
Python list (the path users take), runs alternate between them (interleaved), and the
figures are medians. Client CPU is the client process's CPU time, all threads included.

Cases:
  post_data   100k values through a fresh 1-feature model that answers every value.
  pretrain    1M and 10M values end to end (block until Pretrained), a fresh model per run.
  import      ``from boonamber import AmberClient`` vs ``from boonamber import AmberV2Client``
              in fresh interpreters (``python -I``).
  decode      one captured 100k-pattern postData answer (bytes) -> the client's result,
              next to ``orjson.loads`` of the same bytes in the same process.
  memory      peak resident memory a 10M-value pretrain adds to a fresh client process
              (sampled every 2 ms), against the 40 MB float32 payload.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OFFICIAL = "boonamber==2.0.20"
VENV = HERE / ".venvs" / "boonamber-2.0.20"
WORKER = HERE / "facade_worker.py"


def official_python() -> Path:
    """The interpreter of the official package's venv, created on first use."""
    python = VENV / "bin" / "python"
    marker = VENV / ".installed"
    if not marker.exists():
        print(f"creating {VENV} with {OFFICIAL} ...", file=sys.stderr)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", OFFICIAL],
            check=True,
        )
        marker.write_text(OFFICIAL + "\n")
    return python


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Worker:
    """A client process answering one JSON line per command."""

    def __init__(self, name: str, python: Path, license_file: Path, home: Path) -> None:
        self.name = name
        side = "ours" if name == "ours" else "official"
        command = [str(python), str(WORKER), "--side", side, "--license-file", str(license_file)]
        if side == "official":
            command.insert(1, "-I")
        env = {"HOME": str(home), "PATH": "/usr/bin:/bin"}
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
        )

    def ask(self, op: str, **fields: Any) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps({"op": op, **fields}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"the {self.name} client process failed (see its stderr above)")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def close(self) -> None:
        with contextlib.suppress(BrokenPipeError, SystemExit, json.JSONDecodeError):
            self.ask("quit")
        self.process.wait(timeout=60)


def start_server(tmp: Path) -> tuple[subprocess.Popen[bytes], Path]:
    license_file = tmp / "amber.license"
    command = [
        sys.executable,
        "-m",
        "boonamber.local",
        "serve",
        "--port",
        str(free_port()),
        "--db",
        str(tmp / "amber.db"),
        "--write-license",
        str(license_file),
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not license_file.exists():
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the local server did not start")
        time.sleep(0.1)
    return server, license_file


def capture_answer(license_file: Path, path: Path) -> int:
    """Write one real 100k-pattern postData answer to ``path``; return its pattern count."""
    import urllib3

    from boonamber import AmberClient

    with AmberClient(license_file=license_file) as client:
        model_id = str(client.post_model("capture")["id"])
        client.configure(
            model_id,
            [{"name": "x", "minVal": 0.0, "maxVal": 1.0}],
            streaming_window=1,
            percent_variation=0.05,
            training={"bufferingSamples": 0},
        )
        token = client._transport.tokens.get()
        text = ",".join(repr(i / 100_000) for i in range(100_000))
        answer = urllib3.PoolManager().request(
            "POST",
            f"{client.server}/models/{model_id}/data",
            body=json.dumps({"data": text}),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            timeout=600,
        )
    assert answer.status == 200, answer.data[:200]
    path.write_bytes(answer.data)
    return len(json.loads(answer.data)["analytics"]["ID"])


def interleaved(
    workers: list[Worker], runs: int, op: str, n: int, *, stream_at_once: bool
) -> dict[str, list[dict[str, Any]]]:
    """``runs`` timed calls per worker, alternating which one goes first."""
    results: dict[str, list[dict[str, Any]]] = {w.name: [] for w in workers}
    for run in range(runs):
        order = workers if run % 2 == 0 else workers[::-1]
        for worker in order:
            model = worker.ask("model", stream_at_once=stream_at_once)["model"]
            results[worker.name].append(worker.ask(op, model=model, n=n, seed=1000 + run))
    return results


def median(items: list[dict[str, Any]], key: str) -> float:
    return statistics.median(float(item[key]) for item in items)


def import_times(python: dict[str, Path], runs: int) -> dict[str, float]:
    code = {
        "ours": "from boonamber import AmberClient",
        "official": "from boonamber import AmberV2Client",
    }
    times: dict[str, list[float]] = {"ours": [], "official": []}
    env = {"PATH": "/usr/bin:/bin"}
    for run in range(runs):
        for name in ("ours", "official") if run % 2 == 0 else ("official", "ours"):
            started = time.perf_counter()
            subprocess.run([str(python[name]), "-I", "-c", code[name]], check=True, env=env)
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def row(label: str, ours: float, official: float, verdict: str) -> str:
    return f"{label:44} {ours:9.3f} {official:9.3f}   {verdict}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="post_data runs per client")
    parser.add_argument("--pretrain-runs", type=int, default=5, help="1M-value pretrain runs")
    parser.add_argument("--big-runs", type=int, default=3, help="10M-value pretrain runs")
    parser.add_argument("--import-runs", type=int, default=7, help="fresh processes per client")
    args = parser.parse_args()
    python = {"ours": Path(sys.executable), "official": official_python()}

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        server, license_file = start_server(tmp)
        workers: list[Worker] = []
        try:
            answer_path = tmp / "answer.json"
            patterns = capture_answer(license_file, answer_path)
            assert patterns == 100_000, patterns
            imports = import_times(python, args.import_runs)
            workers = [Worker(n, python[n], license_file, tmp) for n in ("ours", "official")]
            post = interleaved(workers, args.runs, "post_data", 100_000, stream_at_once=True)
            small = interleaved(
                workers, args.pretrain_runs, "pretrain", 1_000_000, stream_at_once=False
            )
            big = interleaved(workers, args.big_runs, "pretrain", 10_000_000, stream_at_once=False)
            decode = {w.name: w.ask("decode", path=str(answer_path), repeat=7) for w in workers}
            for worker in workers:
                worker.close()
            # memory: a fresh process per client, warmed up by a small pretrain first
            workers = [Worker(n, python[n], license_file, tmp) for n in ("ours", "official")]
            memory: dict[str, float] = {}
            for worker in workers:
                model = worker.ask("model", stream_at_once=False)["model"]
                worker.ask("pretrain", model=model, n=1000, seed=1)
                model = worker.ask("model", stream_at_once=False)["model"]
                memory[worker.name] = worker.ask("pretrain", model=model, n=10_000_000, seed=2)[
                    "rss_added"
                ]
        finally:
            for worker in workers:
                worker.close()
            server.terminate()
            server.wait(timeout=30)

    for case in (post, small, big):
        for name, items in case.items():
            assert all(i.get("patterns", 100_000) == 100_000 for i in items), (name, items)
            assert all(i.get("status", "Pretrained") == "Pretrained" for i in items), (name, items)

    def ratio(case: dict[str, list[dict[str, Any]]], key: str) -> float:
        return median(case["official"], key) / median(case["ours"], key)

    print(f"medians; {args.runs} post_data, {args.pretrain_runs} + {args.big_runs} pretrain runs,")
    print(f"{args.import_runs} import processes per client, interleaved; seconds\n")
    print(f"{'case':44} {'ours':>9} {'official':>9}   result (bar)")
    lines = [
        ("post_data 100k values: client CPU", post, "cpu", 5.0, "x less CPU (>= 5x)"),
        ("post_data 100k values: wall", post, "wall", 3.0, "x faster (>= 3x)"),
        ("post_pretrain 1M values: client CPU", small, "cpu", 1.0, "x less CPU (>= 1x)"),
        ("post_pretrain 1M values: wall", small, "wall", 1.5, "x faster (>= 1.5x)"),
        ("post_pretrain 10M values: client CPU", big, "cpu", 1.0, "x less CPU (>= 1x)"),
        ("post_pretrain 10M values: wall", big, "wall", 1.5, "x faster (>= 1.5x)"),
    ]
    for label, case, key, bar, words in lines:
        r = ratio(case, key)
        verdict = f"{r:.2f}{words} {'ok' if r >= bar else 'MISSED'}"
        print(row(label, median(case["ours"], key), median(case["official"], key), verdict))
    share = imports["ours"] / imports["official"]
    print(
        row(
            "import the client class (fresh process)",
            imports["ours"],
            imports["official"],
            f"{share:.2f}x the official's (<= 0.5x) {'ok' if share <= 0.5 else 'MISSED'}",
        )
    )
    ours_decode = statistics.median(decode["ours"]["times"])
    floor = statistics.median(decode["ours"]["floor"])
    built = statistics.median(decode["ours"]["with_model"])
    official_decode = statistics.median(decode["official"]["times"])
    print(
        row(
            "decode 100k-pattern answer -> result",
            ours_decode,
            official_decode,
            f"{ours_decode / floor:.2f}x orjson.loads ({floor:.3f} s; <= 2x) "
            f"{'ok' if ours_decode <= 2 * floor else 'MISSED'}",
        )
    )
    print(row("  ... and building result.model too", built, official_decode, "(asked for)"))
    payload = 10_000_000 * 4
    print(
        row(
            "peak memory added by a 10M pretrain (MB)",
            memory["ours"] / 1e6,
            memory["official"] / 1e6,
            f"{memory['ours'] / payload:.2f}x the 40 MB float32 payload (<= 2x) "
            f"{'ok' if memory['ours'] <= 2 * payload else 'MISSED'}",
        )
    )


if __name__ == "__main__":
    os.environ.pop("PYTHONPATH", None)
    main()
