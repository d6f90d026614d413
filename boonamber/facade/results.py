"""The facade's return type: the server's JSON answer as a dict, its typed model built on demand.

A result is built once: the decoded answer *is* the mapping (no copy), and the typed model
(``result.model``, attribute access) is validated from it only when first asked for.
"""

from __future__ import annotations

import functools
import typing
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from boonamber import wire
from boonamber.facade.errors import AmberCloudError, AmberUserError

if TYPE_CHECKING:
    from typing import Self

    from pydantic import BaseModel

    # the answer models, named (as strings) by the typed result classes below
    from boonamber.v2.models import (  # noqa: F401
        AmberState,
        AnalyticResults,
        AutotuneConfig,
        DeleteModelResponse,
        Error,
        FeatureConfigResponse,
        FeatureRootCause,
        GetModelsResponse,
        GetNanoStatusResponse,
        GetPretrainResponse,
        GetRootCauseResponse,
        GetStatusResponse,
        GetSummaryResponse,
        GetUsageResponse,
        GetUsageResponseEndpoints,
        GetVersionResponse,
        Model,
        ModelStatus,
        PostConfigResponse,
        PostDataResponse,
        PostLearningResponse,
        PostModelResponse,
        PostPretrainResponse,
        PutDataResponse,
        TrainingConfig,
    )

__all__ = [
    "RESULT_CLASSES",
    "AmberResult",
    "DeleteModelResult",
    "ErrorResult",
    "GetModelsResult",
    "GetNanoStatusResult",
    "GetPretrainResult",
    "GetRootCauseResult",
    "GetStatusResult",
    "GetSummaryResult",
    "GetUsageResult",
    "GetVersionResult",
    "PostConfigResult",
    "PostDataResult",
    "PostLearningResult",
    "PostModelResult",
    "PostPretrainResult",
    "PutDataResult",
    "result_class",
    "wire_dict",
    "with_result_type",
]

M = TypeVar("M", bound="BaseModel")


@functools.cache
def _has_extra_properties(cls: type[BaseModel]) -> bool:
    """Whether ``cls`` or a model nested in it keeps free-form ``additional_properties``."""
    from pydantic import BaseModel

    if "additional_properties" in cls.model_fields:
        return True
    pending = [f.annotation for f in cls.model_fields.values()]
    while pending:
        annotation = pending.pop()
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if annotation is not cls and _has_extra_properties(annotation):
                return True
        else:
            pending.extend(typing.get_args(annotation))
    return False


def wire_dict(model: BaseModel) -> dict[str, Any]:
    """Render a generated model as JSON-ready data keyed by its wire (JSON) names.

    Fields left unset are absent. Free-form models (``additional_properties``) go through
    the generated ``to_dict()``, which puts those properties back in place.
    """
    from pydantic_core import to_jsonable_python

    if _has_extra_properties(type(model)):
        result = to_jsonable_python(model.to_dict())  # type: ignore[attr-defined]
    else:
        result = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    if not isinstance(result, dict):  # pragma: no cover - every generated model is an object
        raise TypeError(f"{type(model).__name__} does not render as a JSON object")
    return result


def _validate(model_type: type[M], data: dict[str, Any]) -> M:
    """``model_type`` validated from wire data; a mismatch is the server's fault."""
    from pydantic import ValidationError

    try:
        model = model_type.from_dict(data)  # type: ignore[attr-defined]
    except (ValidationError, TypeError, ValueError) as e:
        detail = " ".join(str(e).split())
        raise AmberCloudError(
            f"the server's answer does not match the API ({model_type.__name__}): {detail}"
        ) from e
    if not isinstance(model, model_type):  # pragma: no cover - from_dict of a dict
        raise AmberCloudError(f"the server's answer is not a {model_type.__name__}")
    return model


class AmberResult(dict[str, Any], Generic[M]):
    """What every facade call returns: the server's answer in two views.

    - As a ``dict`` it holds the answer with its *wire* keys (``"api-version"``,
      ``"modelList"``, ``"ID"``, ...), plain JSON types only, so ``json.dumps(result)``
      prints what the server sent (fields the server left out are absent).
    - ``result.model`` is the typed model generated from the spec (``boonamber.v2``),
      validated from the mapping the first time it is asked for. Attribute access uses
      Python names and validates only the field asked for: ``result.api_version``,
      ``result.analytics.id``, ``result.status.state``. A field the server left out raises
      ``AttributeError`` (``getattr(result, "status", None)`` gives ``None``).
    - Data results (``post_data``, ``put_data``, ``stream``) also have :meth:`to_pandas`.

    The mapping and the model are snapshots of one answer: changing one does not change
    the other. An answer that does not match the spec raises ``AmberCloudError`` when
    its model (or the field) is first built.
    """

    __slots__ = ("_fields", "_index", "_model", "_type")

    def __init__(
        self,
        model: M | None = None,
        data: dict[str, Any] | None = None,
        *,
        model_type: type[M] | None = None,
        index: Any = None,
    ) -> None:
        if model is None and (data is None or model_type is None):
            raise TypeError("AmberResult needs a model, or data and model_type")
        if data is None:
            assert model is not None
            data = wire_dict(model)
        super().__init__(data)
        self._model = model
        self._type: type[M] = type(model) if model_type is None else model_type  # type: ignore[assignment]
        self._fields: dict[str, Any] = {}
        self._index = index

    @classmethod
    def from_wire(cls, data: dict[str, Any], model_type: type[M], *, index: Any = None) -> Self:
        """A result holding ``data`` (a decoded answer, kept as is); the model comes later."""
        return cls(None, data, model_type=model_type, index=index)

    @property
    def model(self) -> M:
        """The typed model (a ``boonamber.v2`` pydantic model), built on first use."""
        model = self._model
        if model is None:
            model = self._model = _validate(self._type, self)
        return model

    @property
    def model_type(self) -> type[M]:
        """The class of :attr:`model` (known without building it)."""
        return self._type

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            cls = object.__getattribute__(self, "_type")
            cache = object.__getattribute__(self, "_fields")
        except AttributeError:
            raise AttributeError(name) from None
        field = cls.model_fields.get(name)
        if field is None:
            raise AttributeError(f"{cls.__name__!r} result has no attribute {name!r}")
        if name in cache:
            return cache[name]
        key = field.alias or name
        if _has_extra_properties(cls):
            value = getattr(self.model, name)
        else:
            if key not in self or self[key] is None:
                raise AttributeError(
                    f"the server's {cls.__name__} answer has no {key!r} "
                    f"(result.{name} is absent; see result.model.{name})"
                )
            value = getattr(
                self._model if self._model is not None else _validate(cls, {key: self[key]}), name
            )
        cache[name] = value
        return value

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._type.model_fields))

    def __repr__(self) -> str:
        return f"AmberResult[{self._type.__name__}]({dict.__repr__(self)})"

    def __reduce__(self) -> tuple[Any, ...]:
        # a class made by with_result_type pickles as the pair it was made from
        cls: Any = getattr(type(self), "_made_from", type(self))
        return (_restore, (cls, dict(self), self._type, self._model, self._index))

    def __copy__(self) -> AmberResult[M]:
        return _restore(type(self), dict(self), self._type, self._model, self._index)

    # ------------------------------------------------------------------ pandas
    def to_pandas(self) -> Any:
        """The analytics as a ``pandas.DataFrame``: one row per vector, a column per analytic
        (wire names: ``ID``, ``RI``, ``SI``, ...).

        The index is the input's when the data sent was a pandas object with one row per
        vector; otherwise 0, 1, ... Needs pandas (``pip install 'boonamber[pandas]'``).
        """
        try:
            import pandas as pd
        except ImportError:
            raise AmberUserError(
                "to_pandas() needs pandas: pip install 'boonamber[pandas]'"
            ) from None
        analytics = self.get("analytics")
        if not isinstance(analytics, dict):
            raise AmberUserError(
                f"to_pandas() works on data results; this {self._type.__name__} has no analytics"
            )
        columns = {k: analytics[k] for k in wire.ANALYTIC_KEYS if analytics.get(k) is not None}
        rows = max((len(v) for v in columns.values()), default=0)
        index = self._index if self._index is not None and len(self._index) == rows else None
        return pd.DataFrame(columns, index=index, columns=list(columns))


def result_class(model_type: type[BaseModel]) -> type[AmberResult[Any]]:
    """The typed result class of an answer model (plain ``AmberResult`` for others)."""
    return RESULT_CLASSES.get(model_type.__name__, AmberResult)


R = TypeVar("R", bound="AmberResult[Any]")


def with_result_type(typed: type[R], extra: type[AmberResult[Any]]) -> type[R]:
    """``typed`` with the behaviour of ``extra`` (an ``AmberResult`` subclass such as the
    official-compatible result) mixed in; ``typed`` itself when ``extra`` adds nothing."""
    if extra is AmberResult or issubclass(typed, extra):
        return typed
    combined: type[R] = _combined(typed, extra)
    return combined


@functools.cache
def _combined(typed: type[AmberResult[Any]], extra: type[AmberResult[Any]]) -> type[Any]:
    combined = type(typed.__name__, (extra, typed), {"__slots__": (), "_made_from": (typed, extra)})
    combined.__module__ = typed.__module__
    return combined


def _restore(
    cls: Any, data: dict[str, Any], model_type: Any, model: Any, index: Any
) -> AmberResult[Any]:
    if isinstance(cls, tuple):  # (typed, extra) of with_result_type
        cls = with_result_type(*cls)
    result: AmberResult[Any] = cls(model, data, model_type=model_type, index=index)
    return result


# ---------------------------------------------------------------- typed results
# One class per answer model, so that type checkers see the fields of attribute access
# (``result.status.state``) instead of ``Any``. Only annotations: the values come from
# AmberResult.__getattr__. A field the server left out raises AttributeError, so the types
# are the model's without ``None``; ``test_facade_typed`` checks them against the models.


class GetVersionResult(AmberResult["GetVersionResponse"]):
    """The answer of ``get_version``."""

    __slots__ = ()
    api_version: str
    release: str
    swagger_ui: str
    builder: str
    expert_api: str
    expert_common: str
    nano_secure: str
    amber_store: str
    mongolia: str


class GetModelsResult(AmberResult["GetModelsResponse"]):
    """The answer of ``get_models``."""

    __slots__ = ()
    model_list: list[Model]


class PostModelResult(AmberResult["PostModelResponse"]):
    """A model's metadata (``post_model``, ``get_model``, ``put_model``, ``copy_model``...)."""

    __slots__ = ()
    id: str
    label: str
    created: str
    modified: str


class DeleteModelResult(AmberResult["DeleteModelResponse"]):
    """The answer of ``delete_model``."""

    __slots__ = ()
    code: int
    message: str


class PostConfigResult(AmberResult["PostConfigResponse"]):
    """A model's configuration (``post_config``, ``configure``, ``get_config``)."""

    __slots__ = ()
    streaming_window: int
    percent_variation: float
    features: list[FeatureConfigResponse]
    training: TrainingConfig
    autotuning: AutotuneConfig


class PostLearningResult(AmberResult["PostLearningResponse"]):
    """The answer of ``post_learning``."""

    __slots__ = ()
    training: TrainingConfig
    status: ModelStatus


class PostDataResult(AmberResult["PostDataResponse"]):
    """The answer of ``post_data`` (and of each ``stream`` batch)."""

    __slots__ = ()
    analytics: AnalyticResults
    status: ModelStatus


class PutDataResult(AmberResult["PutDataResponse"]):
    """The answer of ``put_data``."""

    __slots__ = ()
    vector: dict[str, float | None]
    analytics: AnalyticResults
    status: ModelStatus


class GetStatusResult(AmberResult["GetStatusResponse"]):
    """The answer of ``get_status``."""

    __slots__ = ()
    state: AmberState
    warning_level: int
    compliance_score: int
    sample_count: int
    cluster_count: int
    progress: int
    message: str
    graduation: str
    last_modified: int
    last_modified_delta: int


class ErrorResult(AmberResult["Error"]):
    """A ``{code, message}`` answer (``post_outage``)."""

    __slots__ = ()
    code: int
    message: str


class GetPretrainResult(AmberResult["GetPretrainResponse"]):
    """A pretrain status (``get_pretrain``, ``post_pretrain(block=True)``)."""

    __slots__ = ()
    status: str
    message: str


class PostPretrainResult(AmberResult["PostPretrainResponse"]):
    """The answer to a pretrain upload (``post_pretrain(block=False)``)."""

    __slots__ = ()
    status: str
    message: str
    txn_id: str
    chunkspec: str


class GetRootCauseResult(AmberResult["GetRootCauseResponse"]):
    """The answer of ``get_root_cause``."""

    __slots__ = ()
    root_cause_list: list[list[FeatureRootCause]]


class GetUsageResult(AmberResult["GetUsageResponse"]):
    """The answer of ``get_usage``."""

    __slots__ = ()
    total_samples: int
    endpoints: GetUsageResponseEndpoints


class GetSummaryResult(AmberResult["GetSummaryResponse"]):
    """The free-form answer of ``get_summary`` (read it as a mapping)."""

    __slots__ = ()


class GetNanoStatusResult(AmberResult["GetNanoStatusResponse"]):
    """The answer of ``get_nano_status``."""

    __slots__ = ()
    pca: list[list[float]]
    cluster_growth: list[float]
    cluster_sizes: list[float]
    anomaly_indexes: list[float]
    frequency_indexes: list[float]
    distance_indexes: list[float]
    sample_count: int
    cluster_count: int
    anomaly_threshold: int
    state: AmberState


#: The typed result class of each answer model, by model name.
RESULT_CLASSES: dict[str, type[AmberResult[Any]]] = {
    "GetVersionResponse": GetVersionResult,
    "GetModelsResponse": GetModelsResult,
    "PostModelResponse": PostModelResult,
    "DeleteModelResponse": DeleteModelResult,
    "PostConfigResponse": PostConfigResult,
    "PostLearningResponse": PostLearningResult,
    "PostDataResponse": PostDataResult,
    "PutDataResponse": PutDataResult,
    "GetStatusResponse": GetStatusResult,
    "Error": ErrorResult,
    "GetPretrainResponse": GetPretrainResult,
    "PostPretrainResponse": PostPretrainResult,
    "GetRootCauseResponse": GetRootCauseResult,
    "GetUsageResponse": GetUsageResult,
    "GetSummaryResponse": GetSummaryResult,
    "GetNanoStatusResponse": GetNanoStatusResult,
}
