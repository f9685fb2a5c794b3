"""Tool-call arguments: the JSON a model wrote for an agent, checked before the agent runs.

Owns `parse_arguments` (the arguments against the agent's JSON schema: the required names, no
unknown ones, each value's type and enum), whose problem goes back to the model as a tool error,
and `json_object_or_empty`, the arguments made safe to send back to the model as history.
Only the schema subset agents use is checked. Imports protocol only.
"""

from __future__ import annotations

import json

from director_desktop.protocol import JSONSchema

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
    "null": (type(None),),
}


def parse_arguments(raw: str, schema: JSONSchema) -> tuple[dict[str, object], str | None]:
    """The model's argument JSON, checked against the agent's schema: (arguments, problem)."""
    try:
        value = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError as exc:
        return {}, f"the arguments are not valid JSON ({exc.msg})"
    if not isinstance(value, dict):
        return {}, "the arguments must be a JSON object"
    properties = schema.get("properties") or {}
    missing = [name for name in schema.get("required") or [] if name not in value]
    if missing:
        return {}, f"missing required argument(s): {', '.join(missing)}"
    for name, given in value.items():
        spec = properties.get(name)
        if spec is None:
            if schema.get("additionalProperties", True) is False or properties:
                return {}, f"unknown argument {name!r} (expected: {', '.join(properties)})"
            continue
        problem = _check_value(name, given, spec)
        if problem:
            return {}, problem
    return value, None


def json_object_or_empty(raw: str) -> str:
    """`raw` if it is a JSON object, else `{}`: a call cut off by the token limit still goes back
    to the model as JSON that chat templates can parse."""
    try:
        return raw if isinstance(json.loads(raw), dict) else "{}"
    except ValueError:
        return "{}"


def _check_value(name: str, value: object, spec: JSONSchema) -> str | None:
    kind = spec.get("type")
    kinds = kind if isinstance(kind, list) else [kind] if kind else []
    if kinds:
        allowed = tuple(t for k in kinds for t in _JSON_TYPES.get(str(k), ()))
        is_bool_for_number = isinstance(value, bool) and "boolean" not in kinds
        if allowed and (not isinstance(value, allowed) or is_bool_for_number):
            return f"argument {name!r} must be {' or '.join(map(str, kinds))}"
    if "enum" in spec and value not in spec["enum"]:
        return f"argument {name!r} must be one of {spec['enum']}"
    return None
