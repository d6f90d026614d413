"""Checked by mypy in test/facade/test_facade_typed.py (never run): result attributes are
typed from the spec, not ``Any``."""

from __future__ import annotations

from typing import Any, assert_type

from boonamber import AmberClient
from boonamber.facade.results import GetStatusResult, PostDataResult, PostPretrainResult
from boonamber.v2.models import (
    AmberState,
    AnalyticResults,
    FeatureRootCause,
    GetStatusResponse,
    Model,
    ModelStatus,
    PostDataResponse,
)


def check(amber: AmberClient, model_id: str) -> None:
    result = amber.post_data(model_id, [1.0, 2.0])
    assert_type(result, PostDataResult)
    assert_type(result.status, ModelStatus)
    assert_type(result.status.state, AmberState | None)
    assert_type(result.analytics, AnalyticResults)
    assert_type(result.analytics.si, list[int] | None)
    assert_type(result.model, PostDataResponse)
    assert_type(result["status"], Any)  # the mapping holds plain JSON
    status = amber.get_status(model_id)
    assert_type(status, GetStatusResult)
    assert_type(status.sample_count, int)
    assert_type(status.model, GetStatusResponse)
    assert_type(amber.get_models().model_list, list[Model])
    assert_type(amber.get_version().api_version, str)
    assert_type(amber.get_root_cause(model_id, clusters=[1]).root_cause_list,
                list[list[FeatureRootCause]])  # fmt: skip
    upload = amber.post_pretrain(model_id, [1.0], block=False)
    assert_type(upload, PostPretrainResult)
    assert_type(upload.txn_id, str)
    for part in amber.stream(model_id, [1.0, 2.0]):
        assert_type(part.status.sample_count, int | None)
