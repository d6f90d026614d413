"""Request building: turn the arguments of ``AmberClient`` methods into generated models.

Every function validates before anything is sent and raises :class:`AmberUserError` naming
what was wrong. The generated models are imported inside the functions, so importing this
module stays cheap while mypy still sees their types.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from boonamber import wire
from boonamber.facade import convert
from boonamber.facade.errors import AmberUserError

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

    from boonamber.facade.results import AmberResult
    from boonamber.v2.models import (
        AutotuneConfig,
        FeatureConfig,
        PostConfigRequest,
        PostDataRequest,
        PostDataResponse,
        PostLearningRequest,
        PostModelCopyRequest,
        PostModelRequest,
        PutDataRequest,
        PutModelRequest,
        TrainingConfig,
    )

__all__ = [
    "DEFAULT_BATCH_VALUES",
    "build",
    "data_batches",
    "feature_configs",
    "join_analytics",
    "model_id",
]

B = TypeVar("B", bound="BaseModel")

#: Values per ``post_data`` request in :meth:`AmberClient.stream` by default.
DEFAULT_BATCH_VALUES = 10_000

#: ``(csv text, number of values)`` of each ``post_data`` request of a stream.
Batches = Iterator[tuple[str, int]]


def model_id(value: Any, name: str = "model_id") -> str:
    """``value`` if it is a usable model id."""
    if not isinstance(value, str) or not value:
        raise AmberUserError(f"{name} must be a non-empty string, got {value!r}")
    return value


def _validation_message(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item.get("loc", ()))
        parts.append(f"{where}: {item.get('msg')}" if where else str(item.get("msg")))
    return "; ".join(parts)


def build(cls: type[B], body: Any, what: str, **fields: Any) -> B:
    """A request model from ``body`` (the model itself or a mapping) or from keyword fields."""
    from pydantic import BaseModel, ValidationError

    given = {k: v for k, v in fields.items() if v is not None}
    if body is not None and given:
        raise AmberUserError(f"{what}: pass either a {cls.__name__} or keyword arguments, not both")
    if isinstance(body, cls):
        return body
    source: Any = body if body is not None else given
    if isinstance(source, BaseModel):
        source = source.model_dump(by_alias=True, exclude_none=True)
    if not isinstance(source, Mapping):
        raise AmberUserError(
            f"{what}: expected a {cls.__name__} or a mapping, got {type(source).__name__}"
        )
    try:
        return cls.model_validate(dict(source))
    except ValidationError as e:
        raise AmberUserError(f"invalid {what}: {_validation_message(e)}") from None


def feature_configs(value: Any) -> list[FeatureConfig]:
    """Feature configs from a count, a list of names, or a list of FeatureConfigs / dicts."""
    from pydantic import BaseModel

    from boonamber.v2.models import FeatureConfig

    if isinstance(value, bool):
        raise AmberUserError(f"features must be a count, names or FeatureConfigs, got {value!r}")
    if isinstance(value, int):
        if value < 1:
            raise AmberUserError(f"features: need at least one feature, got {value}")
        return [FeatureConfig(name=name) for name in wire.default_feature_names(value)]
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise AmberUserError(
            "features must be a count, a list of names, or a list of FeatureConfig / dicts"
        )
    if not value:
        raise AmberUserError("features: need at least one feature")
    result = []
    for i, item in enumerate(value):
        if isinstance(item, str):
            item = {"name": item}
        elif isinstance(item, BaseModel) and not isinstance(item, FeatureConfig):
            # e.g. a FeatureConfigResponse from get_config(): keep the FeatureConfig fields
            known = FeatureConfig.model_fields
            item = {
                name: field
                for name, field in item.model_dump(exclude_none=True).items()
                if name in known
            }
        result.append(build(FeatureConfig, item, f"features[{i}]"))
    # a feature without a name is named feature-{i} by the server: check the names it will use
    names = [
        wire.default_feature_name(i) if f.name is None else f.name for i, f in enumerate(result)
    ]
    duplicates = sorted(name for name, count in Counter(names).items() if count > 1)
    if duplicates:
        raise AmberUserError(f"features: names must be unique, repeated: {', '.join(duplicates)}")
    return result


def _autotune(autotune: Any) -> Any:
    if isinstance(autotune, bool):
        return {"range": autotune, "percentVariation": autotune}
    return autotune


# ---------------------------------------------------------------- models
def post_model(label: str | PostModelRequest | None) -> PostModelRequest:
    """The body of ``post_model``: a label, or the request itself."""
    from boonamber.v2.models import PostModelRequest

    body = label if isinstance(label, PostModelRequest) else None
    return build(PostModelRequest, body, "post_model", label=None if body is not None else label)


def put_model(body: PutModelRequest | str | None, label: str | None) -> PutModelRequest:
    """The body of ``put_model``: the request, or a label (positional or keyword)."""
    from boonamber.v2.models import PutModelRequest

    if isinstance(body, str):
        body, label = None, body if label is None else label
    return build(PutModelRequest, body, "put_model", label=label)


def copy_model(label: str | None) -> PostModelCopyRequest | None:
    """The optional body of ``copy_model``."""
    from boonamber.v2.models import PostModelCopyRequest

    return None if label is None else build(PostModelCopyRequest, None, "copy_model", label=label)


# ---------------------------------------------------------------- configuration
def post_config(
    body: PostConfigRequest | Mapping[str, Any] | None,
    *,
    streaming_window: int | None,
    percent_variation: float | None,
    features: int | Sequence[Any] | None,
    training: TrainingConfig | Mapping[str, Any] | None,
    autotuning: AutotuneConfig | Mapping[str, Any] | bool | None,
) -> PostConfigRequest:
    """The body of ``post_config``: the request (or a mapping), or its fields."""
    from boonamber.v2.models import PostConfigRequest

    return build(
        PostConfigRequest,
        body,
        "post_config",
        streamingWindow=streaming_window,
        percentVariation=percent_variation,
        features=None if features is None else feature_configs(features),
        training=training,
        autotuning=_autotune(autotuning),
    )


def post_learning(
    body: PostLearningRequest | Mapping[str, Any] | None,
    *,
    state: str | None,
    training: TrainingConfig | Mapping[str, Any] | None,
    autotuning: AutotuneConfig | Mapping[str, Any] | bool | None,
) -> PostLearningRequest:
    """The body of ``post_learning``: the request (or a mapping), or its fields."""
    from boonamber.v2.models import PostLearningRequest

    return build(
        PostLearningRequest,
        body,
        "post_learning",
        state=state,
        training=training,
        autotuning=_autotune(autotuning),
    )


# ---------------------------------------------------------------- data
def post_data(text: str, save_image: bool | None) -> PostDataRequest:
    """The body of one ``post_data`` request carrying validated CSV ``text``."""
    from boonamber.v2.models import PostDataRequest

    body = PostDataRequest(data=text)
    if save_image is not None:
        body.save_image = save_image
    return body


def put_data(
    vector: PutDataRequest | Mapping[str, float] | Sequence[Any], fusion_rule: str | None
) -> PutDataRequest:
    """The body of ``put_data``: the request, a mapping name -> value, or a list of features."""
    from boonamber.v2.models import FusionFeature, PutDataRequest

    if isinstance(vector, PutDataRequest):
        return build(PutDataRequest, vector, "put_data", fusionRule=fusion_rule)
    items: list[Any]
    if isinstance(vector, Mapping):
        items = [{"name": k, "value": v} for k, v in vector.items()]
    elif isinstance(vector, Sequence) and not isinstance(vector, str):
        items = [
            {"name": v[0], "value": v[1]} if isinstance(v, tuple) and len(v) == 2 else v
            for v in vector
        ]
    else:
        raise AmberUserError(
            "put_data: vector must be a mapping name -> value or a list of features"
        )
    if not items:
        raise AmberUserError("put_data: the vector is empty")
    fused = []
    for i, item in enumerate(items):
        feature = build(FusionFeature, item, f"vector[{i}]")
        convert.to_table(feature.value)  # rejects NaN / infinity
        fused.append(feature)
    return build(PutDataRequest, None, "put_data", vector=fused, fusionRule=fusion_rule)


def data_batches(data: Any, batch_size: Any) -> tuple[Batches, int | None]:
    """The ``post_data`` batches of a stream and the total number of values (``None`` for a
    file, validated batch by batch); in-memory data is validated whole before the first."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise AmberUserError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    if isinstance(data, os.PathLike) or hasattr(data, "readline"):
        return convert.iter_csv_file(data, batch_size), None
    table = convert.to_table(data)
    rows_per_batch = max(1, batch_size // table.width)
    batches = (
        (
            table.encode(r, min(table.rows, r + rows_per_batch)),
            (min(table.rows, r + rows_per_batch) - r) * table.width,
        )
        for r in range(0, table.rows, rows_per_batch)
    )
    return batches, table.count


def join_analytics(results: Iterable[AmberResult[PostDataResponse]]) -> PostDataResponse:
    """One answer from the answers of a stream: all analytics joined, the last status."""
    from boonamber.v2.models import AnalyticResults, PostDataResponse

    joined: dict[str, list[Any]] = {key: [] for key in wire.ANALYTIC_KEYS}
    last: AmberResult[PostDataResponse] | None = None
    for result in results:
        analytics = result.get("analytics") or {}
        for key in wire.ANALYTIC_KEYS:
            joined[key].extend(analytics.get(key) or [])
        last = result
    assert last is not None  # an empty input is rejected before sending
    return PostDataResponse(
        analytics=AnalyticResults.model_validate(joined), status=last.model.status
    )


# ---------------------------------------------------------------- analysis
def root_cause_query(clusters: Any, vectors: Any) -> dict[str, str]:
    """The query of ``get_root_cause``: exactly one of ``clusters`` and ``vectors``."""
    if (clusters is None) == (vectors is None):
        raise AmberUserError("get_root_cause: give exactly one of clusters= and vectors=")
    if clusters is not None:
        return {"clusters": convert.format_clusters(clusters)}
    return {"vectors": convert.format_vectors(vectors)}
