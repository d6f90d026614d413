"""Fidelity to Amber's published single-sensor results (window 25 and 100).

Run: ``.venv/bin/python bench/fidelity.py [REFERENCE_DIR]`` (default
``../shared/reference/single-sensor`` relative to the repository). The folder holds Boon
Logic's published example: ``spliced_data.csv`` (the input trace, one value a row) and
``SWS25_Results.csv`` / ``SWS100_Results.csv`` (the service's per-row ID, SI, AD, AH, AM, AW).
Without it the script says so and exits 0.

The trace is streamed 10 values per request (as the published example did) through a local
server started in this process, over HTTP with AmberClient, configured as the service was:
bufferingSamples 1000, historyWindow 10000, learningMaxClusters 1000, learningMaxSamples
1000000, learning rate 1/1000, range and percentVariation autotuned.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from boonamber import AmberClient

REPO = Path(__file__).resolve().parents[1]
DEFAULT_REF = REPO.parent / "shared" / "reference" / "single-sensor"
BATCH = 10
WINDOWS = (25, 100)
TRAINING = {
    "bufferingSamples": 1000,
    "historyWindow": 10000,
    "learningMaxClusters": 1000,
    "learningMaxSamples": 1000000,
    "learningRateNumerator": 1,
    "learningRateDenominator": 1000,
}
DEFINITIONS = """\
Definitions (over ALL rows of the trace, the service's leading zeros included):
  in-model agreement  share of rows where both say in-model (ID > 0), both say out of model
                      (ID < 0) or both give no answer yet (ID 0: Buffering / Autotuning)
  AD / AH / AW        share of rows with the same value
  negative-id share   rows with ID < 0 over all rows of the trace
  first answer        first row with a non-zero ID (the end of Autotuning)
  learning ended      ours: last row of the request after which status said Monitoring.
                      The service's is not published: its last new cluster id first shows
                      at the row given (created by then, in the replay or live), and its
                      first negative id says it was in Monitoring by then
  clusters            ours: clusterCount at the end; service: its highest cluster id
  implied PV          the service's PV is not published; its accept/reject decisions on our
                      templates point to about 0.06 (window 25) and 0.037 (window 100)
The "rows >= N only" line repeats the agreement figures over the rows from
the service's first non-zero ID on only (a secondary view, not the bar)."""
IMPLIED_PV = {25: "~0.06", 100: "~0.037"}

I64 = npt.NDArray[np.int64]


def stream(client: AmberClient, window: int, x: npt.NDArray[np.float64]) -> dict[str, object]:
    """Configure a fresh model, stream ``x`` BATCH values a request; analytics and figures."""
    model_id = str(client.post_model(f"fidelity-{window}")["id"])
    try:
        client.configure(model_id, ["current"], streaming_window=window, training=TRAINING)
        cols: dict[str, list[int]] = {k: [] for k in ("ID", "SI", "AD", "AH", "AW")}
        graduated = -1  # last row of the request after which the model was Monitoring
        for start in range(0, len(x), BATCH):
            reply = client.post_data(model_id, x[start : start + BATCH].tolist())
            for key in cols:
                cols[key].extend(reply["analytics"][key])
            if graduated < 0 and str(client.get_status(model_id)["state"]) == "Monitoring":
                graduated = min(start + BATCH, len(x)) - 1
        status = client.get_status(model_id)
        config = client.get_config(model_id)
        return {
            **{k: np.asarray(v, dtype=np.int64) for k, v in cols.items()},
            "clusters": int(status["clusterCount"]),
            "graduated": graduated,
            "pv": float(config["percentVariation"]),
        }
    finally:
        client.delete_model(model_id)


def load_reference(folder: Path, window: int) -> dict[str, I64]:
    table = np.genfromtxt(folder / f"SWS{window}_Results.csv", delimiter=",", skip_header=1)
    table = table.astype(np.int64)
    return {k: table[:, i] for i, k in enumerate(("ID", "SI", "AD", "AH", "AM", "AW"))}


def pct(a: npt.NDArray[np.bool_]) -> str:
    return f"{100.0 * float(np.mean(a)):.1f} %"


def _agreement(ours: dict[str, object], ref: dict[str, I64], sel: npt.NDArray[np.bool_]) -> str:
    """in-model / AD / AH / AW agreement over the rows ``sel``."""
    oid, rid = ours["ID"], ref["ID"]
    assert isinstance(oid, np.ndarray)
    parts = [pct(np.sign(oid[sel]) == np.sign(rid[sel]))]
    for key in ("AD", "AH", "AW"):
        mine = ours[key]
        assert isinstance(mine, np.ndarray)
        parts.append(pct(mine[sel] == ref[key][sel]))
    return " / ".join(parts)


def first_answer(ids: npt.NDArray[np.int64]) -> int:
    nz = np.flatnonzero(ids != 0)
    return int(nz[0]) if nz.size else len(ids)


def learning_marks(ids: npt.NDArray[np.int64]) -> tuple[int, int]:
    """The service does not publish when its learning ended; two marks tell about it: the row
    where its last new cluster id first shows (created by then, in the replay or live) and
    its first negative id (only Monitoring gives those). -1 when absent."""
    last_new = max((int(np.flatnonzero(ids == c)[0]) for c in np.unique(ids[ids > 0])), default=-1)
    neg = np.flatnonzero(ids < 0)
    return last_new, int(neg[0]) if neg.size else -1


def report(window: int, ours: dict[str, object], ref: dict[str, I64]) -> list[tuple[str, str]]:
    rid = ref["ID"]
    oid = ours["ID"]
    assert isinstance(oid, np.ndarray)
    every = np.ones(len(rid), dtype=bool)
    agree = _agreement(ours, ref, every).split(" / ")
    start = first_answer(rid)
    last_new, first_neg = learning_marks(rid)
    later = _agreement(ours, ref, np.arange(len(rid)) >= start)
    return [
        ("clusters (ours / service)", f"{ours['clusters']} / {int(rid.max())}"),
        ("negative-id share (ours / service)", f"{pct(oid < 0)} / {pct(rid < 0)}"),
        ("first answer, row (ours / service)", f"{first_answer(oid)} / {start}"),
        (
            "learning ended, row (ours) | service: last new id, first negative id",
            f"{ours['graduated']} | {last_new}, {first_neg}",
        ),
        ("in-model agreement", agree[0]),
        ("AD agreement", agree[1]),
        ("AH agreement", agree[2]),
        ("AW agreement", agree[3]),
        ("PV (ours / service implied)", f"{ours['pv']:.3f} / {IMPLIED_PV[window]}"),
        (f"rows >= {start} only: in-model / AD / AH / AW", later),
    ]


def main(argv: list[str]) -> int:
    folder = Path(argv[0]) if argv else DEFAULT_REF
    needed = ["spliced_data.csv", *(f"SWS{w}_Results.csv" for w in WINDOWS)]
    missing = [n for n in needed if not (folder / n).is_file()]
    if missing:
        print(f"skipped: reference data not found in {folder} (missing {', '.join(missing)})")
        return 0
    x = np.loadtxt(folder / "spliced_data.csv", dtype=np.float64).ravel()
    print(f"trace: {len(x)} values, {BATCH} per request, over HTTP to a local server\n")
    with AmberClient.local() as client:
        for window in WINDOWS:
            ref = load_reference(folder, window)
            if len(ref["ID"]) != len(x):
                print(f"window {window}: reference has {len(ref['ID'])} rows, trace {len(x)}")
                return 1
            rows = report(window, stream(client, window, x), ref)
            print(f"window {window}")
            width = max(len(k) for k, _ in rows)
            for key, value in rows:
                print(f"  {key:<{width}}  {value}")
            print()
    print(DEFINITIONS)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
