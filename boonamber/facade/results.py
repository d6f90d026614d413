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
    from pydantic import BaseModel

__all__ = ["AmberResult", "wire_dict"]

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
    def from_wire(
        cls, data: dict[str, Any], model_type: type[M], *, index: Any = None
    ) -> AmberResult[M]:
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
        return (_restore, (type(self), dict(self), self._type, self._model, self._index))

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


def _restore(
    cls: type[AmberResult[Any]], data: dict[str, Any], model_type: Any, model: Any, index: Any
) -> AmberResult[Any]:
    result = cls(model, data, model_type=model_type, index=index)
    return result
