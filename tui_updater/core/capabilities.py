"""What a task type declares about itself for the views, carried inside its parameter schema.

A type's params model declares ``capabilities`` (see ``tasks.base.TaskParams``); its JSON schema,
which ``TaskTypeInfo``, the REST API and the remote client already carry, holds them under
``x-capabilities``, and fields carry their own marks (``format: "sql"``, ``x-serverLocalPath``).
The dashboard and the server read them here and never test a type's name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

CAPABILITIES_KEY = "x-capabilities"
LOCAL_PATH_KEY = "x-serverLocalPath"  # the value may name a file on the machine of the engine


class TaskCapabilities(BaseModel):
    """What differs between task types where the views must behave differently."""

    model_config = ConfigDict(
        frozen=True, extra="ignore", alias_generator=to_camel, populate_by_name=True
    )

    short_name: str | None = None  # for narrow columns ("UPGRADE"); the full name otherwise
    destructive: bool = False  # changes more than rows (the schema): cancelling asks first
    makes_backups: bool = False  # backs the database up first; revert restores that backup

    def schema_entry(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True)

    @classmethod
    def of(cls, params_schema: Mapping[str, Any]) -> TaskCapabilities:
        """The capabilities in a type's parameter schema (none declared: the defaults)."""
        raw = params_schema.get(CAPABILITIES_KEY)
        if not isinstance(raw, Mapping):
            return cls()
        try:
            return cls.model_validate(raw)
        except ValidationError:  # a server of another version: behave as for an unknown type
            return cls()


def local_path_fields(params_schema: Mapping[str, Any]) -> list[str]:
    """The parameters whose text may be the path of a file on the engine's machine."""
    properties = params_schema.get("properties")
    if not isinstance(properties, Mapping):
        return []
    return [
        name
        for name, node in properties.items()
        if isinstance(node, Mapping) and node.get(LOCAL_PATH_KEY) is True
    ]


def is_sql_field(node: Mapping[str, Any]) -> bool:
    """A text parameter holding SQL (the form gives it an SQL editor)."""
    media = f"{node.get('contentMediaType', '')} {node.get('format', '')}"
    return "sql" in media.lower()
