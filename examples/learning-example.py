"""Re-enable learning on a model that is already monitoring.

    python examples/learning-example.py --local

A model learns ten clusters of 5-feature vectors and graduates to Monitoring. Then the
machine starts a new, legitimate operating mode. Vectors of that mode are anomalies
(negative cluster ids) until ``post_learning`` switches the model back to Learning for a
while; afterwards the new mode has clusters of its own and is normal again.
"""

import argparse
import random
import sys

from boonamber import AmberClient, AmberCloudError, AmberUserError

FEATURES = 5


def noisy(centre: list[float], rng: random.Random, noise: float = 5.0) -> list[float]:
    """``centre`` with uniform noise on every feature."""
    return [c + rng.uniform(-noise, noise) for c in centre]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--local", action="store_true", help="use an embedded local server")
    args = parser.parse_args()

    rng = random.Random(123)
    centres = [[rng.uniform(0, 1000) for _ in range(FEATURES)] for _ in range(10)]
    # The new mode lies inside the learned range but far from every learned cluster.
    new_mode = [500.0] * FEATURES

    try:
        amber = AmberClient.local() if args.local else AmberClient()
    except AmberUserError as e:
        print(f"error: {e} (no Amber account configured? try --local)", file=sys.stderr)
        return 1

    with amber:
        model_id = None
        try:
            model_id = amber.post_model("amber.sdk.example:learning")["id"]
            print(f"created model {model_id}")
            amber.configure(
                model_id,
                features=FEATURES,
                streaming_window=1,
                training={"buffering_samples": 1000, "learning_max_samples": 2000},
            )

            def send(vectors: list[list[float]], what: str) -> dict:
                ids: list[int] = []
                for start in range(0, len(vectors), 200):
                    resp = amber.post_data(model_id, vectors[start : start + 200])
                    ids.extend(resp["analytics"]["ID"])
                status = resp["status"]
                negative = sum(1 for i in ids if i < 0)
                print(
                    f"{what}: {len(vectors)} vectors -> {status['state']}, "
                    f"{status['clusterCount']} clusters, {negative} without a cluster"
                )
                return status

            training = [noisy(centres[i % 10], rng) for i in range(2000)]
            send(training, "training")
            send([noisy(centres[i % 10], rng) for i in range(200)], "known modes")
            send([noisy(new_mode, rng) for _ in range(100)], "new mode (monitoring)")

            result = amber.post_learning(
                model_id, state="Learning", training={"learning_max_samples": 300}
            )
            print(f"post_learning: state {result['status']['state']}")
            send([noisy(new_mode, rng) for _ in range(300)], "new mode (learning)")
            status = send([noisy(new_mode, rng) for _ in range(100)], "new mode (monitoring)")
            print(f"graduated again: {status.get('graduation')}")
        except (AmberCloudError, AmberUserError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        finally:
            if model_id is not None:
                amber.delete_model(model_id)
                print(f"deleted model {model_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
