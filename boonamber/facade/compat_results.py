"""What ``AmberV2Client`` returns: our result, with the official 2.x models' ``to_dict()``.

The official ``boonamber`` 2.x models (swagger-codegen) render ``to_dict()`` keyed by
their *python* names (``cluster_count``, ``model_list``, ``api_version``), list every field
(``None`` when the server left it out), nest models as such dicts and enums as their plain
string values. :func:`official_dict` renders any generated model that way and
:class:`OfficialResult` is an :class:`~boonamber.facade.results.AmberResult` whose
``to_dict()`` / ``to_str()`` do.
"""

from __future__ import annotations

import enum
import pprint
from typing import Any, TypeVar

from pydantic import BaseModel

from boonamber.facade.results import AmberResult

__all__ = ["OfficialResult", "official_dict"]

M = TypeVar("M", bound=BaseModel)

_NESTED = (BaseModel, enum.Enum, list, dict)


def _official_value(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return official_dict(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list):
        if value and isinstance(value[0], _NESTED):
            return [_official_value(item) for item in value]
        return list(value)
    if isinstance(value, dict):
        return {key: _official_value(item) for key, item in value.items()}
    return value


def official_dict(model: BaseModel) -> dict[str, Any]:
    """``model`` as the official 2.x ``to_dict()`` renders it: python (snake_case) names in
    field order, every field (``None`` when unset), nested models likewise, enums as strings.

    A free-form model (``additional_properties``, e.g. ``GetSummaryResponse``) gives its
    properties under the names the server sent.
    """
    cls = type(model)
    names: Any = getattr(cls, "attribute_map", None) or cls.model_fields
    result = {
        name: _official_value(getattr(model, name))
        for name in names
        if name != "additional_properties"
    }
    extra = getattr(model, "additional_properties", None)
    if isinstance(extra, dict):
        result.update(_official_value(extra))
    return result


class OfficialResult(AmberResult[M]):
    """An :class:`AmberResult` (a ``dict`` with wire keys, ``.model``, attribute access)
    whose ``to_dict()`` and ``to_str()`` follow the official 2.x models.

    Attribute access returns the generated models themselves (``result.status`` is a
    ``ModelStatus``): their own ``to_dict()`` is keyed by wire names; use
    ``result.to_dict()["status"]`` for the official shape of a nested part. A field of the
    answer's model that the server left out reads ``None``, as on the official models
    (:class:`AmberResult` raises ``AttributeError``).
    """

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            if name in self.model_type.model_fields:
                return None
            raise

    def to_dict(self) -> dict[str, Any]:
        """The answer keyed by python names, as the official models' ``to_dict()``."""
        return official_dict(self.model)

    def to_str(self) -> str:
        """``pprint`` of :meth:`to_dict`, as the official models' ``to_str()``."""
        return pprint.pformat(self.to_dict())
