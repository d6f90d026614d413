"""Every rejected input, in tables: AmberUserError, and nothing reaches the server."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from boonamber import AmberClient, AmberUserError
from boonamber.facade import convert

# (id, data, words the message must contain)
REJECTED_DATA: list[tuple[str, Any, str]] = [
    ("empty-string", "", "empty"),
    ("blank-lines", "\n  \n", "empty"),
    ("empty-list", [], "empty"),
    ("empty-tuple", (), "empty"),
    ("empty-row", [[]], "empty"),
    ("empty-array", np.array([]), "empty"),
    ("empty-2d-array", np.zeros((3, 0)), "empty"),
    ("empty-series", pd.Series([], dtype=float), "empty"),
    ("nan-float", [1.0, math.nan], "NaN"),
    ("inf-float", [math.inf, 1.0], "NaN and infinity"),
    ("neg-inf-int-mix", [1, -math.inf], "NaN and infinity"),
    ("nan-in-row", [[1.0, 2.0], [math.nan, 1.0]], "data[1][0]"),
    ("nan-numpy", np.array([1.0, np.nan]), "data[1]"),
    ("inf-numpy-2d", np.array([[1.0, 2.0], [3.0, np.inf]]), "data[1][1]"),
    ("nan-float32", np.array([np.nan], dtype=np.float32), "NaN"),
    ("nan-series", pd.Series([1.0, None]), "NaN"),
    ("nan-dataframe", pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, np.nan]}), "data[1][1]"),
    ("nan-csv", "1,nan,3", "NaN and infinity"),
    ("inf-csv", "1,2\ninf,3", "NaN and infinity"),
    ("overflow-csv", "1,1e999", "infinity"),
    ("word-csv", "1,abc,3", "not a number"),
    ("hex-csv", "0x10", "not a number"),
    ("underscore-csv", "1_000", "not a number"),
    ("empty-field-csv", "1,,3", "empty"),
    ("trailing-comma-csv", "1,2,", "empty"),
    ("ragged-csv", "1,2\n3", "ragged"),
    ("ragged-list", [[1, 2], [3]], "ragged"),
    ("ragged-tuple-rows", ((1, 2, 3), (4, 5)), "ragged"),
    ("mixed-rows-values", [[1, 2], 3], "is a value"),
    ("mixed-values-rows", [1, [2, 3]], "is a row"),
    ("too-deep", [[[1, 2]]], "nested too deep"),
    ("three-d-array", np.zeros((2, 2, 2)), "dimensions"),
    ("string-in-list", [1, "2", 3], "not a number"),
    ("none-in-list", [1, None], "not a number"),
    ("bool-in-list", [1, True], "not a number"),
    ("bool-array", np.array([True, False]), "booleans"),
    ("complex-array", np.array([1 + 2j]), "not of real numbers"),
    ("string-array", np.array(["1", "2"]), "not of real numbers"),
    ("object-array", np.array([1, "x"], dtype=object), "not a number"),
    ("complex-in-list", [1, 2j], "not a number"),
    ("dict", {"a": 1}, "dict"),
    ("set", {1, 2}, "set"),
    ("bytes", b"1,2,3", "bytes"),
    ("none", None, "None"),
    ("bool", True, "not a number"),
    ("object", object(), "not supported"),
    ("nullable-int-series", pd.Series([1, None], dtype="Int64"), "data[1]"),
]


@pytest.mark.parametrize(
    ("data", "words"), [(d, w) for _, d, w in REJECTED_DATA], ids=[i for i, _, _ in REJECTED_DATA]
)
def test_post_data_rejects_before_sending(
    proxied: tuple[AmberClient, Any], data: Any, words: str
) -> None:
    client, proxy = proxied
    with pytest.raises(AmberUserError) as info:
        client.post_data("0123456789abcdef01234567", data)
    assert words in str(info.value)
    assert proxy.requests() == []  # not even a login


@pytest.mark.parametrize(
    "data",
    [d for i, d, _ in REJECTED_DATA if i not in ("none", "bool", "object")],
    ids=[i for i, _, _ in REJECTED_DATA if i not in ("none", "bool", "object")],
)
def test_post_pretrain_rejects_the_same_data(proxied: tuple[AmberClient, Any], data: Any) -> None:
    client, proxy = proxied
    with pytest.raises(AmberUserError):
        client.post_pretrain("0123456789abcdef01234567", data)
    assert proxy.requests() == []


def test_pretrain_rejects_values_beyond_float32(proxied: tuple[AmberClient, Any]) -> None:
    client, proxy = proxied
    with pytest.raises(AmberUserError, match="float32"):
        client.post_pretrain("m", np.array([1.0, 1e300]))
    assert proxy.requests() == []


MID = "0123456789abcdef01234567"

# (id, call, words)
REJECTED_CALLS: list[tuple[str, Any, str]] = [
    ("model-id-int", lambda c: c.get_status(123), "model_id"),
    ("model-id-empty", lambda c: c.get_model(""), "model_id"),
    ("model-id-none", lambda c: c.delete_model(None), "model_id"),
    ("v1-model-id", lambda c: c.migrate_model(5), "v1_model_id"),
    ("label-bad-chars", lambda c: c.post_model("no spaces allowed!"), "label"),
    ("label-and-body", lambda c: c.put_model(MID, body={"label": "a"}, label="b"), "not both"),
    ("put-model-no-label", lambda c: c.put_model(MID), "label"),
    ("copy-label-bad", lambda c: c.copy_model(MID, "bad label"), "label"),
    ("features-zero", lambda c: c.configure(MID, 0), "at least one"),
    ("features-empty", lambda c: c.configure(MID, []), "at least one"),
    ("features-bool", lambda c: c.configure(MID, True), "features"),
    ("features-string", lambda c: c.configure(MID, "abc"), "features"),
    ("features-dup", lambda c: c.configure(MID, ["a", "a"]), "unique"),
    ("feature-bad-name", lambda c: c.configure(MID, ["has space"]), "name"),
    ("feature-bad-weight", lambda c: c.configure(MID, [{"name": "a", "weight": 0}]), "weight"),
    ("window-zero", lambda c: c.configure(MID, 1, streaming_window=0), "streamingWindow"),
    ("pv-too-big", lambda c: c.configure(MID, 1, percent_variation=0.5), "percentVariation"),
    (
        "training-negative",
        lambda c: c.configure(MID, 1, training={"bufferingSamples": -1}),
        "training",
    ),
    ("training-type", lambda c: c.configure(MID, 1, training=[1, 2]), "training"),
    ("config-no-features", lambda c: c.post_config(MID, streaming_window=3), "features"),
    ("config-body-type", lambda c: c.post_config(MID, "text"), "PostConfigRequest"),
    ("learning-state", lambda c: c.post_learning(MID, state="Sleeping"), "state"),
    ("put-data-empty", lambda c: c.put_data(MID, {}), "empty"),
    ("put-data-nan", lambda c: c.put_data(MID, {"a": math.nan}), "NaN"),
    ("put-data-text", lambda c: c.put_data(MID, {"a": "x"}), "value"),
    ("put-data-type", lambda c: c.put_data(MID, 5), "vector"),
    ("put-data-rule", lambda c: c.put_data(MID, {"a": 1.0}, fusion_rule="maybe"), "fusionRule"),
    ("root-cause-none", lambda c: c.get_root_cause(MID), "exactly one"),
    ("root-cause-both", lambda c: c.get_root_cause(MID, clusters=1, vectors=[1.0]), "exactly one"),
    ("clusters-float", lambda c: c.get_root_cause(MID, clusters=[1.5]), "integer"),
    ("clusters-bool", lambda c: c.get_root_cause(MID, clusters=True), "integer"),
    ("clusters-text", lambda c: c.get_root_cause(MID, clusters="1,a"), "integer"),
    ("clusters-empty", lambda c: c.get_root_cause(MID, clusters=[]), "at least one"),
    ("vectors-nan", lambda c: c.get_root_cause(MID, vectors=[1.0, math.nan]), "NaN"),
    ("vectors-ragged", lambda c: c.get_root_cause(MID, vectors=[[1.0], [1.0, 2.0]]), "ragged"),
    ("vectors-bad-string", lambda c: c.get_root_cause(MID, vectors="1,2"), "bracketed"),
    ("vectors-empty", lambda c: c.get_root_cause(MID, vectors=[]), "empty"),
    ("summary-flag", lambda c: c.get_summary(MID, training_samples="yes"), "bool"),
    ("chunk-size-zero", lambda c: c.post_pretrain(MID, [1.0], chunk_size=0), "chunk_size"),
    ("chunk-size-float", lambda c: c.post_pretrain(MID, [1.0], chunk_size=1.5), "chunk_size"),
    ("workers-zero", lambda c: c.post_pretrain(MID, [1.0], workers=0), "workers"),
    ("pretrain-timeout", lambda c: c.post_pretrain(MID, [1.0], timeout=-1), "timeout"),
    ("request-timeout-neg", lambda c: c.get_models(request_timeout=-1), "timeout"),
    ("request-timeout-triple", lambda c: c.get_models(request_timeout=(1, 2, 3)), "timeout"),
    ("batch-size", lambda c: c.stream(MID, [1.0], batch_size=0), "batch_size"),
]


@pytest.mark.parametrize(
    ("call", "words"), [(c, w) for _, c, w in REJECTED_CALLS], ids=[i for i, _, _ in REJECTED_CALLS]
)
def test_rejected_arguments(proxied: tuple[AmberClient, Any], call: Any, words: str) -> None:
    client, proxy = proxied
    with pytest.raises(AmberUserError) as info:
        call(client)
    assert words in str(info.value)
    assert proxy.requests() == []


# (id, kwargs, words) for the constructor (no server needed)
REJECTED_CONSTRUCTOR: list[tuple[str, dict[str, Any], str]] = [
    ("timeout-zero", {"timeout": 0}, "timeout"),
    ("timeout-text", {"timeout": "10"}, "timeout"),
    ("timeout-pair-bad", {"timeout": (1, -1)}, "timeout"),
    ("max-retries-negative", {"max_retries": -1}, "max_retries"),
    ("max-retries-float", {"max_retries": 1.5}, "max_retries"),
    ("verify-bad", {"verify": 3}, "verify"),
    ("verify-missing-bundle", {"verify": "/no/such/ca.pem"}, "does not exist"),
    ("cert-bad", {"cert": 5}, "certificate"),
    ("server-empty", {"server": ""}, "server"),
    ("key-conflict", {"license_key": "a", "username": "b"}, "disagree"),
]


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [(k, w) for _, k, w in REJECTED_CONSTRUCTOR],
    ids=[i for i, _, _ in REJECTED_CONSTRUCTOR],
)
def test_rejected_constructor_arguments(clean_env: Any, kwargs: dict[str, Any], words: str) -> None:
    base: dict[str, Any] = {
        "server": "http://127.0.0.1:1/v2",
        "license_key": "k",
        "secret_key": "s",
    }
    with pytest.raises(AmberUserError) as info:
        AmberClient(**{**base, **kwargs})
    assert words in str(info.value)


def test_csv_encoding_keeps_values_exactly() -> None:
    values = [0.1, 1e-05, -3.25, 123456789.123, 5e300]
    text = convert.to_table(values).encode()
    assert [float(v) for v in text.split(",")] == values
    f32 = np.array([0.1, 1.5, 3.3333333], dtype=np.float32)
    back = np.array(convert.to_table(f32).encode().split(","), dtype=np.float32)
    assert np.array_equal(back, f32)
    assert convert.to_table("1.5, 2 ,3e2").encode() == "1.5,2,3e2"
    assert convert.to_table(np.array([[1, 2], [3, 4]], dtype=np.uint8)).encode() == "1,2,3,4"


def test_float32_packing_without_numpy_matches_numpy() -> None:
    import base64

    values = [0.5, -1.25, 3.0e10, 7.0]
    with_numpy = convert.to_float32(values)
    original = convert._numpy_or_none
    try:
        convert._numpy_or_none = lambda: None  # type: ignore[assignment]
        without = convert.to_float32(values)
        with pytest.raises(AmberUserError, match="float32"):
            convert.to_float32([1e300])
        with pytest.raises(AmberUserError, match="value 1 of the data is nan as float32"):
            convert.to_float32([1.0, float("nan")])
    finally:
        convert._numpy_or_none = original  # type: ignore[assignment]
    assert bytes(with_numpy.buffer) == bytes(without.buffer)
    assert base64.b64decode(convert.b64_chunk(without, 1, 3)) == bytes(with_numpy.buffer[4:12])


def test_float32_array_is_used_without_copy() -> None:
    arr = np.arange(10, dtype="<f4")
    packed = convert.to_float32(arr)
    assert np.shares_memory(np.frombuffer(packed.buffer, dtype="<f4"), arr)
