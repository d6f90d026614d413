"""Load on one local server: request rate and latency, and the cost of a long anomalous stream.

    .venv/bin/python bench/server_load.py [--rounds 3] [--requests 3000] [--seconds 3]

Starts ``python -m boonamber.local serve`` on 127.0.0.1 (a free port, a temporary database) and
drives it from this process with asyncio clients, each on its own keep-alive connection (raw
HTTP/1.1, so the client's own cost stays small next to the server's).

Part 1, rate: ``GET /version`` and a 10-value ``postData`` (each client on its own model, in
Monitoring) at 1, 16 and 32 clients. Each phase stops after ``--requests`` requests or
``--seconds`` seconds; the phases are interleaved over ``--rounds`` rounds and the medians are
printed: requests/s, p50 and p99 latency (ms), and the server's CPU time per request (ms, from
/proc: steadier than the rates on a machine shared with other jobs).

Part 2, ghosts: a model that has seen 400,000 anomalous values (each an unmatched pattern kept
for root cause) against a fresh one in the same state: 10-value posts alternating between the
two (medians and means), the server's RSS growth over the anomalous stream and the size of the
model's snapshot.

Everything is bounded in count and time; only loopback is used.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
CONFIG = {
    "streamingWindow": 25,
    "features": [{"name": "x"}],
    "training": {"bufferingSamples": 1000, "learningMaxSamples": 4000},
}
CLIENTS = (1, 16, 32)


def _sine(start: int, n: int) -> list[float]:
    return [round(math.sin((start + i) / 8.0), 6) for i in range(n)]


def _csv(values: list[float]) -> str:
    return ",".join(repr(v) for v in values)


class Conn:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, port: int, token: str) -> None:
        self.port, self.token = port, token
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> Conn:
        self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        return self

    async def request(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        assert self.reader is not None and self.writer is not None
        data = b"" if body is None else json.dumps(body).encode()
        head = (
            f"{method} /v2{path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n"
            f"Authorization: Bearer {self.token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n\r\n"
        )
        self.writer.write(head.encode() + data)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        payload = await self.reader.readexactly(length)
        return status, payload

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _start_server(tmp: Path) -> tuple[subprocess.Popen[bytes], int, str, str]:
    lic = tmp / "load.license"
    command = [sys.executable, "-m", "boonamber.local", "serve", "--host", HOST, "--port", "0"]
    command += ["--db", str(tmp / "load.db"), "--write-license", str(lic), "--profile", "load"]
    command += ["--log-level", "warning"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not lic.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the server did not start")
        time.sleep(0.05)
    prof = json.loads(lic.read_text())["load"]
    port = int(prof["server"].rsplit(":", 1)[1].split("/")[0])
    return proc, port, prof["license-key"], prof["secret-key"]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _login(port: int, key: str, secret: str) -> str:
    conn = await Conn(port, "").open()
    status, body = await conn.request(
        "POST", "/oauth2/access", {"licenseKey": key, "secretKey": secret}
    )
    await conn.close()
    assert status == 200, body
    token: str = json.loads(body)["idToken"]
    return token


async def _model_in_monitoring(conn: Conn) -> str:
    status, body = await conn.request("POST", "/models", {"label": "load"})
    assert status == 200, body
    model_id: str = json.loads(body)["id"]
    status, body = await conn.request("POST", f"/models/{model_id}/config", CONFIG)
    assert status == 200, body
    status, body = await conn.request(
        "POST", f"/models/{model_id}/data", {"data": _csv(_sine(0, 6000))}
    )
    assert status == 200 and json.loads(body)["status"]["state"] == "Monitoring", body
    return model_id


async def _phase(
    conns: list[Conn],
    models: list[str],
    kind: str,
    n_clients: int,
    limit: int,
    seconds: float,
    pid: int,
) -> tuple[float, float, float, float]:
    """Run one phase; returns (requests/s, p50 ms, p99 ms, server CPU ms per request)."""
    latencies: list[float] = []
    counter = {"left": limit}
    stop_at = time.perf_counter() + seconds
    body = {"data": _csv(_sine(6000, 10))}

    async def client(i: int) -> None:
        conn = conns[i]
        path = "/version" if kind == "version" else f"/models/{models[i]}/data"
        method = "GET" if kind == "version" else "POST"
        while counter["left"] > 0 and time.perf_counter() < stop_at:
            counter["left"] -= 1
            t0 = time.perf_counter()
            status, payload = await conn.request(method, path, None if kind == "version" else body)
            latencies.append(time.perf_counter() - t0)
            if status != 200:
                raise RuntimeError(f"{kind}: {status} {payload[:200]!r}")

    t0, cpu0 = time.perf_counter(), _cpu_seconds(pid)
    await asyncio.gather(*(client(i) for i in range(n_clients)))
    elapsed, cpu = time.perf_counter() - t0, _cpu_seconds(pid) - cpu0
    latencies.sort()
    p50 = latencies[len(latencies) // 2] * 1000
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    return len(latencies) / elapsed, p50, p99, cpu * 1000 / len(latencies)


async def _rate(port: int, token: str, pid: int, args: argparse.Namespace) -> None:
    conns = [await Conn(port, token).open() for _ in range(max(CLIENTS))]
    models = [await _model_in_monitoring(c) for c in conns]
    results: dict[tuple[str, int], list[tuple[float, float, float, float]]] = {}
    for _ in range(args.rounds):
        for n in CLIENTS:
            for kind in ("version", "post_data"):
                res = await _phase(conns, models, kind, n, args.requests, args.seconds, pid)
                results.setdefault((kind, n), []).append(res)
    print("part 1: rate (medians over rounds)")
    print(f"{'case':<22}{'clients':>8}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'CPU ms':>9}")
    rate: dict[tuple[str, int], float] = {}
    for (kind, n), runs in results.items():
        rps = statistics.median(r[0] for r in runs)
        p50 = statistics.median(r[1] for r in runs)
        p99 = statistics.median(r[2] for r in runs)
        cpu = statistics.median(r[3] for r in runs)
        rate[(kind, n)] = rps
        print(f"{kind:<22}{n:>8}{rps:>10.0f}{p50:>9.2f}{p99:>9.2f}{cpu:>9.2f}")
    for n in CLIENTS:
        ratio = rate[("post_data", n)] / rate[("version", n)]
        print(f"post_data / version at {n} clients: {ratio:.2f}")
    for c in conns:
        await c.close()


async def _ghosts(port: int, token: str, pid: int, args: argparse.Namespace) -> None:
    import random

    conn = await Conn(port, token).open()
    fresh, seen = await _model_in_monitoring(conn), await _model_in_monitoring(conn)
    rng = random.Random(7)
    rss0 = _rss_mb(pid)
    for _ in range(40):  # 400,000 anomalous values, 10,000 per post
        values = [round(rng.uniform(-1.0, 1.0), 4) for _ in range(10_000)]
        status, body = await conn.request("POST", f"/models/{seen}/data", {"data": _csv(values)})
        assert status == 200, body
    rss1 = _rss_mb(pid)
    times: dict[str, list[float]] = {fresh: [], seen: []}
    body10 = {"data": _csv(_sine(6000, 10))}
    for _ in range(args.ghost_posts):
        for model_id in (fresh, seen):
            t0 = time.perf_counter()
            status, payload = await conn.request("POST", f"/models/{model_id}/data", body10)
            times[model_id].append((time.perf_counter() - t0) * 1000)
            assert status == 200, payload
    status, summary = await conn.request("GET", f"/models/{seen}/summary")
    info = json.loads(summary)
    status, tar = await conn.request("GET", f"/models/{seen}/diagnostic")
    await conn.close()
    print("part 2: a model after 400,000 anomalous values vs a fresh one (10-value posts)")
    for label, model_id in (("fresh", fresh), ("after 400k", seen)):
        t = times[model_id]
        print(
            f"  {label:<11} median {statistics.median(t):6.2f} ms  mean {statistics.mean(t):6.2f} ms"
        )
    ratio = statistics.median(times[seen]) / statistics.median(times[fresh])
    mean_ratio = statistics.mean(times[seen]) / statistics.mean(times[fresh])
    print(f"  ratio median {ratio:.2f}, mean {mean_ratio:.2f}")
    print(
        f"  unmatched patterns {info['unmatchedPatterns']}, ghosts kept {info['ghostsKept']}, "
        f"diagnostic tar {len(tar) / 1e6:.1f} MB"
    )
    print(f"  server RSS {rss0:.0f} MB -> {rss1:.0f} MB (growth {rss1 - rss0:.0f} MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=3000, help="per phase, at most")
    parser.add_argument("--seconds", type=float, default=3.0, help="per phase, at most")
    parser.add_argument("--ghost-posts", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, port, key, secret = _start_server(Path(tmp))
        try:
            token = asyncio.run(_login(port, key, secret))
            print(f"server pid {proc.pid}, cores {os.cpu_count()}")
            asyncio.run(_rate(port, token, proc.pid, args))
            asyncio.run(_ghosts(port, token, proc.pid, args))
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
