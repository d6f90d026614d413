"""Typed results: mypy sees the spec's field types on attribute access, and the typed
result classes match the generated models field for field."""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any

import pytest

import boonamber.v2.models as models
from boonamber.facade import results
from boonamber.facade.results import RESULT_CLASSES, AmberResult

ROOT = Path(__file__).resolve().parents[2]


def _canon(t: Any, top: bool = True) -> Any:
    """A comparable form of a type: Annotated and List/Dict spelled alike, the outer
    ``None`` dropped (an absent field raises AttributeError instead)."""
    origin = typing.get_origin(t)
    if origin is typing.Annotated:
        return _canon(typing.get_args(t)[0], top)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(t) if not (top and a is type(None))]
        canon = [_canon(a, False) for a in args]
        return canon[0] if len(canon) == 1 else frozenset(canon)
    if origin in (list, dict):
        return (origin, tuple(_canon(a, False) for a in typing.get_args(t)))
    return t


@pytest.mark.parametrize("name", sorted(RESULT_CLASSES))
def test_typed_result_classes_match_the_models(name: str) -> None:
    cls = RESULT_CLASSES[name]
    model = getattr(models, name)
    model.model_rebuild()
    names = {n: getattr(models, n) for n in models.__all__}  # the package imports lazily
    hints = typing.get_type_hints(cls, globalns={**vars(results), **names})
    hints = {k: v for k, v in hints.items() if not k.startswith("_")}
    fields = {k: f for k, f in model.model_fields.items() if k != "additional_properties"}
    assert set(hints) == set(fields)
    for key, field in fields.items():
        assert _canon(hints[key]) == _canon(field.annotation), key
    assert issubclass(cls, AmberResult)


def test_every_client_call_returns_its_typed_class(client: Any, new_model: Any) -> None:
    model_id = new_model(client, 1)
    assert type(client.post_data(model_id, [1.0, 2.0])) is results.PostDataResult
    assert type(client.get_status(model_id)) is results.GetStatusResult
    assert type(client.get_version()) is results.GetVersionResult
    assert type(client.post_pretrain(new_model(client, 1), [1.0] * 50)) is (
        results.GetPretrainResult
    )
    status = client.get_status(model_id)
    assert isinstance(status.sample_count, int)


def test_mypy_sees_typed_attributes() -> None:
    api = pytest.importorskip("mypy.api")
    out, err, code = api.run(
        [
            "--strict",
            "--no-error-summary",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            str(ROOT / "test" / "typing" / "results_typed.py"),
        ]
    )
    assert code == 0, out + err


def test_results_with_a_mixed_in_type_pickle_and_copy() -> None:
    import copy
    import pickle

    from boonamber.facade.compat_results import OfficialResult

    cls = results.with_result_type(results.GetStatusResult, OfficialResult)
    assert cls is results.with_result_type(results.GetStatusResult, OfficialResult)
    assert results.with_result_type(results.GetStatusResult, AmberResult) is (
        results.GetStatusResult
    )
    result = cls.from_wire({"state": "Learning", "sampleCount": 3}, models.GetStatusResponse)
    for other in (pickle.loads(pickle.dumps(result)), copy.copy(result)):
        assert type(other) is cls and other == result
        assert isinstance(other, OfficialResult) and other.sample_count == 3
        assert other.to_dict()["sample_count"] == 3
