"""The facade's return type: a generated model that is also a plain JSON mapping."""

from __future__ import annotations

import functools
import typing
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from pydantic_core import to_jsonable_python

__all__ = ["AmberResult", "wire_dict"]

M = TypeVar("M", bound=BaseModel)


@functools.cache
def _has_extra_properties(cls: type[BaseModel]) -> bool:
    """Whether ``cls`` or a model nested in it keeps free-form ``additional_properties``."""
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

    Fields the server left out are absent. Free-form models (``additional_properties``)
    go through the generated ``to_dict()``, which puts those properties back in place.
    """
    if _has_extra_properties(type(model)):
        result = to_jsonable_python(model.to_dict())  # type: ignore[attr-defined]
    else:
        result = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    if not isinstance(result, dict):  # pragma: no cover - every generated model is an object
        raise TypeError(f"{type(model).__name__} does not render as a JSON object")
    return result


class AmberResult(dict[str, Any], Generic[M]):
    """What every facade call returns: the server's answer in two views.

    - As a ``dict`` it holds the answer with its *wire* keys (``"api-version"``,
      ``"modelList"``, ``"ID"``, ...), plain JSON types only, so ``json.dumps(result)``
      prints what the server sent (fields the server left out are absent).
    - ``result.model`` is the typed model generated from the spec (``boonamber.v2``),
      and attribute access is forwarded to it: ``result.api_version``,
      ``result.analytics.id``, ``result.status.state``.

    The mapping is a snapshot of the model; changing one does not change the other.
    """

    __slots__ = ("_model",)

    def __init__(self, model: M, data: dict[str, Any] | None = None) -> None:
        super().__init__(wire_dict(model) if data is None else data)
        self._model = model

    @property
    def model(self) -> M:
        """The typed model (a ``boonamber.v2`` pydantic model)."""
        return self._model

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            model = object.__getattribute__(self, "_model")
        except AttributeError:
            raise AttributeError(name) from None
        try:
            return getattr(model, name)
        except AttributeError:
            raise AttributeError(
                f"{type(model).__name__!r} result has no attribute {name!r}"
            ) from None

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(type(self._model).model_fields))

    def __repr__(self) -> str:
        return f"AmberResult[{type(self._model).__name__}]({dict.__repr__(self)})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self._model, dict(self)))

    def __copy__(self) -> AmberResult[M]:
        return type(self)(self._model, dict(self))
