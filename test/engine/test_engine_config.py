"""Configuration parsing and validation (boonamber.local.wire.parse_config) and the answer
built from the configuration in force."""

from __future__ import annotations

from typing import Any

import pytest

from boonamber.local.engine import AmberModel, ConfigError
from boonamber.local.wire import config_answer, config_request, parse_config


def body(**over: Any) -> dict[str, Any]:
    b: dict[str, Any] = {"streamingWindow": 25, "features": [{"name": "a"}, {"name": "b"}]}
    b.update(over)
    return b


def test_defaults_resolved_in_config_wire() -> None:
    cfg = parse_config(body())
    assert cfg.feature_count == 2
    assert cfg.feature_names == ["a", "b"]
    wire = config_answer(AmberModel(cfg).config_in_force())
    assert wire["training"] == {
        "historyWindow": 10000,
        "bufferingSamples": 10000,
        "learningMaxSamples": 1000000,
        "learningMaxClusters": 1000,
        "learningRateNumerator": 10,
        "learningRateDenominator": 10000,
    }
    assert wire["autotuning"] == {"range": True, "percentVariation": True}
    f0 = wire["features"][0]
    assert f0["name"] == "a" and f0["weight"] == 1 and f0["fusionRule"] == "submit"
    assert f0["minMaxDefined"] is False
    assert wire["streamingWindow"] == 25
    assert isinstance(wire["percentVariation"], float)


def test_round_trip_through_config_request() -> None:
    cfg = parse_config(
        body(
            percentVariation=0.07,
            features=[
                {"name": "x.1", "minVal": -1, "maxVal": 2.5, "weight": 3, "fusionRule": "nosubmit",
                 "fusionTTL": 30},
            ],
            training={"historyWindow": 50, "bufferingSamples": 200},
            autotuning={"range": False, "percentVariation": False},
        )
    )  # fmt: skip
    assert parse_config(config_request(cfg)) == cfg
    assert cfg.features[0].min_max_defined


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"streamingWindow": None}, "streamingWindow"),
        ({"streamingWindow": 0}, "streamingWindow"),
        ({"streamingWindow": 2.5}, "streamingWindow"),
        ({"streamingWindow": True}, "streamingWindow"),
        ({"percentVariation": 0.5}, "percentVariation"),
        ({"percentVariation": "x"}, "percentVariation"),
        ({"features": []}, "features"),
        ({"features": "a"}, "features"),
        ({"features": [{"name": "a"}, {"name": "a"}]}, "features[1].name"),
        ({"features": [{"name": "bad name"}]}, "features[0].name"),
        ({"features": [{"name": "a", "weight": 0}]}, "features[0].weight"),
        ({"features": [{"name": "a", "weight": 1001}]}, "features[0].weight"),
        ({"features": [{"name": "a", "fusionRule": "maybe"}]}, "features[0].fusionRule"),
        ({"features": [{"name": "a", "minVal": 3, "maxVal": 1}]}, "features[0].minVal"),
        ({"features": [{"name": "a", "minVal": float("nan")}]}, "features[0].minVal"),
        ({"features": [{"name": "a", "fusionTTL": -1}]}, "features[0].fusionTTL"),
        ({"training": {"historyWindow": 0}}, "training.historyWindow"),
        ({"training": {"bufferingSamples": -5}}, "training.bufferingSamples"),
        ({"training": {"learningMaxClusters": 0}}, "training.learningMaxClusters"),
        ({"training": {"bufferingSamples": 0}}, "training.bufferingSamples"),
        ({"training": []}, "training"),
        ({"autotuning": {"range": "yes"}}, "autotuning.range"),
        ({"autotuning": {"range": False}}, "features[0].minVal"),
    ],
)
def test_rejected_configs_name_the_field(over: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(body(**over))
    assert err.value.field == field
    assert field in str(err.value)


def test_duplicate_name_message_mentions_both() -> None:
    with pytest.raises(ConfigError, match=r"duplicate feature name 'a' \(also features\[0\]\)"):
        parse_config(body(features=[{"name": "a"}, {"name": "a"}]))


def test_fixed_everything_needs_no_buffer() -> None:
    cfg = parse_config(
        body(
            percentVariation=0.05,
            features=[{"name": "a", "minVal": 0, "maxVal": 1}],
            training={"bufferingSamples": 0},
        )
    )
    m = AmberModel(cfg)
    assert m.status().state == "Learning"
    out = m.process([0.5] * 30)
    assert out["ID"][24:] == [1] * 6
