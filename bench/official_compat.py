"""Drive our local server with the official `boonamber==2.0.20` client.

Run by hand: python bench/official_compat.py. It

1. creates a throwaway virtualenv `bench/.venvs/official` with `boonamber==2.0.20` (the
   official package is a compatibility target, never a dependency of ours);
2. starts our server as `python -m boonamber.local serve` on a free port with a temporary
   database, and lets it write a license profile;
3. runs, in the throwaway venv, create -> configure -> post data -> status -> root cause ->
   chunked pretrain -> nameless features -> label-less copy -> delete with the official
   `AmberV2Client`, printing what each returns.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venvs" / "official"
OFFICIAL = "boonamber==2.0.20"

SCENARIO = textwrap.dedent(
    """
    import numpy as np
    from boonamber import AmberV2Client
    from boonamber.v2.models import (
        FeatureConfig, FusionFeature, PostConfigRequest, PostModelRequest, PutDataRequest,
        TrainingConfig,
    )

    amber = AmberV2Client(license_file={license_file!r}, profile_name="default")
    print("version:", amber.get_version().to_dict())
    model = amber.post_model(PostModelRequest(label="official-compat"))
    print("created:", model.id, model.label)
    config = PostConfigRequest(
        streaming_window=25,
        features=[FeatureConfig(name="signal")],
        training=TrainingConfig(buffering_samples=1000, learning_max_samples=4000),
    )
    print("configured: window", amber.post_config(model.id, config).streaming_window)
    t = np.arange(6000)
    signal = np.sin(t / 20.0) + 0.05 * np.cos(t / 3.0)
    signal[5500:5530] += 3.0
    for start in range(0, 6000, 1000):
        result = amber.post_data(model.id, signal[start:start + 1000])
    ids = result.analytics.id
    print("post_data: state", result.status.state, "clusters", result.status.cluster_count,
          "samples", result.status.sample_count, "last ids", ids[-5:],
          "max SI", max(result.analytics.si))
    status = amber.get_status(model.id)
    print("status:", status.state, status.cluster_count, status.progress)
    rc = amber.get_root_cause(model.id, clusters=[1, 2])
    print("root cause (clusters):", [[round(f.value, 3) for f in row] for row in rc.root_cause_list])
    rc = amber.get_root_cause(model.id, vectors=signal[:25])
    print("root cause (vector):", [[round(f.value, 3) for f in row] for row in rc.root_cause_list])
    pretrained = amber.post_model(PostModelRequest(label="official-compat-pretrain"))
    amber.post_config(pretrained.id, PostConfigRequest(
        streaming_window=25, features=[FeatureConfig(name="signal")]))
    big = np.tile(signal[:5000], 40)
    response = amber.post_pretrain(pretrained.id, big, chunk_size=160000, block=True)
    print("pretrain:", response.status, "| status:", amber.get_status(pretrained.id).state,
          amber.get_status(pretrained.id).cluster_count)
    nameless = amber.post_model(PostModelRequest(label="official-compat-nameless"))
    config = amber.post_config(nameless.id, PostConfigRequest(
        streaming_window=1, features=[FeatureConfig(), FeatureConfig("b"), FeatureConfig()]))
    print("nameless features named:", [f.name for f in config.features])
    fused = amber.put_data(nameless.id, PutDataRequest(vector=[FusionFeature("feature-2", 1.5)]))
    print("fusion by the given name:", fused.vector)
    copy = amber.copy_model(model.id)
    print("label-less copy:", copy.label, "(source:", model.label + ")")
    named = amber.copy_model(model.id, "official-compat-named")
    print("named copy:", named.label)
    for m in (model.id, pretrained.id, nameless.id, copy.id, named.id):
        amber.delete_model(m)
    print("deleted; models left:", len(amber.get_models().model_list or []))
    """
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ensure_venv() -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", OFFICIAL, "numpy"], check=True
        )
    return python


def main() -> int:
    python = ensure_venv()
    with tempfile.TemporaryDirectory() as tmp:
        license_file = Path(tmp) / "amber.license"
        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "boonamber.local",
                "serve",
                "--port",
                str(port),
                "--db",
                str(Path(tmp) / "amber.db"),
                "--write-license",
                str(license_file),
                "--profile",
                "default",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 30
            while not license_file.exists():
                if server.poll() is not None or time.monotonic() > deadline:
                    print(
                        "server did not start:",
                        server.stderr.read().decode() if server.stderr else "",
                    )
                    return 1
                time.sleep(0.1)
            script = SCENARIO.format(license_file=str(license_file))
            env = {k: v for k, v in os.environ.items() if not k.startswith("AMBER_")}
            return subprocess.run([str(python), "-c", script], env=env, cwd=tmp).returncode
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
