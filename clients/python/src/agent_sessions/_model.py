"""How answers become dataclasses: wire names mapped to snake_case attributes, unknown fields kept.

Each family keeps its seed's casing on the wire (camelCase for workflow sessions, inboxes and waits;
snake_case elsewhere); the attributes are snake_case everywhere. A field the server added after this
client was written lands in ``extra`` instead of breaking the parse.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Callable, ClassVar, Dict, List, Optional, Type, TypeVar

M = TypeVar("M", bound="Model")

_UPPER = re.compile(r"_([a-z0-9])")


def camel(name: str) -> str:
    """``created_at`` as ``createdAt``."""
    return _UPPER.sub(lambda match: match.group(1).upper(), name)


def wire(name: Optional[str] = None, parse: Optional[Callable[[Any], Any]] = None, optional: bool = False) -> Any:
    """A field whose wire name is ``name`` (default: derived from the attribute) and whose value goes through ``parse``.

    ``optional`` fields default to ``None`` when the server leaves them out.
    """
    metadata = {"wire": name, "parse": parse}
    return dataclasses.field(default=None, metadata=metadata) if optional else dataclasses.field(metadata=metadata)


class Model:
    """The base of every answer: ``from_wire`` builds it, ``extra`` holds fields this client does not know."""

    #: How attribute names become wire names: ``"snake"`` (as is) or ``"camel"``.
    wire_case: ClassVar[str] = "snake"
    #: Fields of the answer this client does not know, by their wire name.
    extra: Dict[str, Any]

    @classmethod
    def from_wire(cls: Type[M], data: Any) -> M:
        """Builds the model from a decoded JSON object; missing known fields are ``None``."""
        if not isinstance(data, dict):
            raise TypeError(f"{cls.__name__}: expected a JSON object, got {type(data).__name__}")
        values: Dict[str, Any] = {}
        known = set()
        for field in dataclasses.fields(cls):  # type: ignore[arg-type]
            name = field.metadata.get("wire") or (camel(field.name) if cls.wire_case == "camel" else field.name)
            known.add(name)
            if name in data:
                parse = field.metadata.get("parse")
                value = data[name]
                values[field.name] = parse(value) if parse is not None and value is not None else value
            elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
                values[field.name] = None
        model = cls(**values)
        object.__setattr__(model, "extra", {name: value for name, value in data.items() if name not in known})
        object.__setattr__(model, "_wire", data)
        return model

    def to_dict(self) -> Dict[str, Any]:
        """The answer as the server sent it, wire names and all."""
        return dict(getattr(self, "_wire", {}))


def one(model: Type[M]) -> Callable[[Any], M]:
    """A ``parse`` that builds one ``model``."""
    return model.from_wire


def many(model: Type[M]) -> Callable[[Any], List[M]]:
    """A ``parse`` that builds a list of ``model``."""
    return lambda items: [model.from_wire(item) for item in items]
