"""The two sides of the typed wire cannot drift: every TypedDict of `director_desktop/protocol/
types.py` has an interface of the same name in `frontend/src/types.ts`, with the same keys, each
required on both sides or optional on both.

The Python side is read from the classes themselves (`__required_keys__`/`__optional_keys__`,
inherited keys included), corrected for the one thing Python 3.11 gets wrong at run time: in a
module with `from __future__ import annotations`, a `NotRequired[...]` (or `Required[...]`) key is
counted by its class's totality, because the annotation is still a string when the class is made
(mypy reads it right). The TypeScript side is parsed from the source, no node needed: `export
interface Name extends A, B { ... }` and `export type Name = { ... }`, comments, strings, nested
braces in field types and multi-line unions skipped; index signatures (`[key: string]: unknown`,
open objects) carry no keys. Interfaces that exist in TypeScript only (client state) are allowed.
"""

from __future__ import annotations

import re
import types
import typing
from pathlib import Path
from typing import Any, NotRequired, Required, TypedDict

import pytest

from director_desktop.protocol import types as wire

ROOT = Path(__file__).resolve().parents[2]
TYPES_TS = ROOT / "frontend" / "src" / "types.ts"

# A key's name mapped to whether it is required.
Keys = dict[str, bool]

QUALIFIER = re.compile(r"^\s*(?:typing(?:_extensions)?\.)?(NotRequired|Required)\s*\[")


# --- the Python side ---------------------------------------------------------------------------
def _qualifier(annotation: object) -> str | None:
    """`"Required"`, `"NotRequired"` or None for one annotation, evaluated or still a string."""
    if isinstance(annotation, typing.ForwardRef):
        annotation = annotation.__forward_arg__
    if isinstance(annotation, str):
        match = QUALIFIER.match(annotation)
        return match.group(1) if match else None
    origin = typing.get_origin(annotation)
    if origin is NotRequired:
        return "NotRequired"
    if origin is Required:
        return "Required"
    return None


def python_keys(cls: Any) -> Keys:
    """One TypedDict's keys (inherited ones included) and whether each is required."""
    keys: Keys = {key: True for key in cls.__required_keys__}
    keys |= {key: False for key in cls.__optional_keys__}
    for key, annotation in cls.__annotations__.items():
        qualifier = _qualifier(annotation)
        if qualifier is not None:
            keys[key] = qualifier == "Required"
    return keys


def python_types(module: types.ModuleType) -> dict[str, Keys]:
    """Every TypedDict defined in `module` (not imported into it), by name."""
    return {
        name: python_keys(obj)
        for name, obj in vars(module).items()
        if typing.is_typeddict(obj) and obj.__module__ == module.__name__
    }


# --- the TypeScript side -----------------------------------------------------------------------
OPENERS = {"{": "}", "(": ")", "[": "]", "<": ">"}
CLOSERS = set(OPENERS.values())
DECLARATION = re.compile(
    r"(?:^|(?<=[\s;}]))(?:export\s+)?(?:declare\s+)?"
    r"(?:interface\s+(?P<iface>[A-Za-z_$][\w$]*)\s*(?P<iparams><[^{]*?>)?"
    r"\s*(?:extends\s+(?P<bases>[^{]+?))?\s*\{"
    r"|type\s+(?P<alias>[A-Za-z_$][\w$]*)\s*(?P<aparams><[^=]*?>)?\s*=\s*\{)"
)
MEMBER = re.compile(
    r"^(?:readonly\s+)?(?P<key>[A-Za-z_$][\w$]*|'[^']*'|\"[^\"]*\")\s*(?P<optional>\?)?\s*[:(<]"
)


def strip_comments(source: str) -> str:
    """`source` with its comments blanked (newlines kept); strings and template literals kept."""
    out: list[str] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if source.startswith("//", i):
            end = source.find("\n", i)
            i = n if end < 0 else end
        elif source.startswith("/*", i):
            end = source.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(re.sub(r"[^\n]", " ", source[i:end]))
            i = end
        elif ch in "'\"`":
            j = i + 1
            while j < n and source[j] != ch:
                j += 2 if source[j] == "\\" else 1
            out.append(source[i : j + 1])
            i = j + 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _skip_string(text: str, i: int) -> int:
    """The index after the string literal starting at `i`."""
    quote, j = text[i], i + 1
    while j < len(text) and text[j] != quote:
        j += 2 if text[j] == "\\" else 1
    return j + 1


def _block_end(text: str, start: int) -> int:
    """The index of the `}` closing the `{` at `start`."""
    depth, i = 0, start
    while i < len(text):
        ch = text[i]
        if ch in "'\"`":
            i = _skip_string(text, i)
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError(f"unbalanced braces from offset {start}")


def top_level_segments(body: str) -> list[str]:
    """`body` split at `;`, `,` and newlines that are not inside brackets, generics or strings."""
    segments: list[str] = []
    depth, i, start = 0, 0, 0
    while i < len(body):
        ch = body[i]
        if ch in "'\"`":
            i = _skip_string(body, i)
            continue
        if ch in OPENERS:
            depth += 1
        elif ch in CLOSERS and not (ch == ">" and i > 0 and body[i - 1] == "="):
            depth -= 1
        elif depth == 0 and ch in ";,\n":
            segments.append(body[start:i])
            start = i + 1
        i += 1
    segments.append(body[start:])
    return [s.strip() for s in segments if s.strip()]


def own_members(body: str) -> Keys:
    """The keys an object type's body declares itself. Index signatures and lines continuing a
    member's type (`| 'b'`) declare none."""
    keys: Keys = {}
    for segment in top_level_segments(body):
        match = MEMBER.match(segment)
        if match:
            keys[match["key"].strip("'\"")] = match["optional"] is None
    return keys


def _base_names(bases: str) -> list[str]:
    """`A, B<C, D>` -> `["A", "B"]`."""
    return [re.sub(r"<.*", "", base, flags=re.DOTALL).strip() for base in top_level_segments(bases)]


def ts_types(source: str) -> dict[str, Keys]:
    """Every interface and object type alias of a TypeScript source, inherited keys included."""
    text = strip_comments(source)
    own: dict[str, Keys] = {}
    bases: dict[str, list[str]] = {}
    for match in DECLARATION.finditer(text):
        name = match["iface"] or match["alias"]
        open_brace = match.end() - 1
        close_brace = _block_end(text, open_brace)
        if match["alias"] and text[close_brace + 1 :].lstrip()[:1] in ("|", "&", "["):
            continue  # `type X = { ... } | Y`: a union, intersection or array, not an object type
        own[name] = own_members(text[open_brace + 1 : close_brace])
        bases[name] = _base_names(match["bases"] or "")

    def resolved(name: str, seen: tuple[str, ...] = ()) -> Keys:
        if name in seen:
            raise ValueError(f"types.ts: {name} extends itself ({' -> '.join((*seen, name))})")
        keys: Keys = {}
        for base in bases[name]:
            if base not in own:
                raise ValueError(f"types.ts: {name} extends {base}, which is not in the file")
            keys |= resolved(base, (*seen, name))
        return keys | own[name]  # a member declared again overrides the inherited one

    return {name: resolved(name) for name in own}


# --- the comparison ----------------------------------------------------------------------------
def _names(keys: set[str]) -> str:
    return ", ".join(sorted(keys)) or "none"


def compare(python: dict[str, Keys], typescript: dict[str, Keys]) -> list[str]:
    """What differs, one line per type: a TypedDict with no interface of its name, keys on one
    side only, keys required on one side and optional on the other."""
    problems: list[str] = []
    for name in sorted(python):
        py = python[name]
        if name not in typescript:
            problems.append(
                f"{name}: protocol/types.py has this TypedDict, frontend/src/types.ts has no "
                f"interface {name} (keys: {_names(set(py))})"
            )
            continue
        ts = typescript[name]
        only_py, only_ts = set(py) - set(ts), set(ts) - set(py)
        if only_py or only_ts:
            problems.append(
                f"{name}: keys missing in frontend/src/types.ts: {_names(only_py)}; "
                f"keys missing in protocol/types.py: {_names(only_ts)}"
            )
        for key in sorted(set(py) & set(ts)):
            if py[key] != ts[key]:
                where = "required in Python, optional (`?`) in TypeScript"
                if not py[key]:
                    where = "optional (NotRequired/total=False) in Python, required in TypeScript"
                problems.append(f"{name}.{key}: {where}")
    return problems


def _report(problems: list[str]) -> str:
    return "the wire types drifted apart:\n  " + "\n  ".join(problems)


# --- the real files ----------------------------------------------------------------------------
def test_every_wire_type_is_mirrored_key_for_key() -> None:
    problems = compare(python_types(wire), ts_types(TYPES_TS.read_text(encoding="utf-8")))
    assert not problems, _report(problems)


def test_both_sides_are_read() -> None:
    """Guards the guard: an empty read on either side would compare nothing and pass."""
    python = python_types(wire)
    typescript = ts_types(TYPES_TS.read_text(encoding="utf-8"))
    assert {"Message", "ContentItem", "ErrorEnvelope", "ModelStatus", "SessionPage"} <= set(python)
    assert "JSONDict" not in python  # an alias, not a TypedDict
    assert python["SessionPage"]["session_id"] is True  # inherited from Session
    assert typescript["SessionPage"]["session_id"] is True  # `extends Session`
    assert typescript["ModelStatus"]["provider"] is True  # `extends ProviderStatus`
    assert typescript["ShownMessage"]["pending"] is False  # client-only, allowed
    assert "pending" not in typescript["Message"]


# --- the TypeScript parser ---------------------------------------------------------------------
TRICKY_TS = """
// export interface Commented { gone: string }
/* export interface Blocked {
  gone: string
} */
export interface Base<T = string> {
  id: string // a comment: with a colon
  'quoted-key'?: number
}
export interface Tricky extends Base<number>, Other {
  /** A doc comment { with braces } and key: value */
  readonly nested: { inner: string; deeper: { x: number } }
  fn?: (a: string, b: { c: number }) => void
  method(x: number): string
  union:
    | 'a;b'
    | 'c,d'
  generic: Record<string, { y: number }>
  tuple: [string, number]
  [key: string]: unknown
  last: string; semi?: boolean, comma: null
}
interface Other { other?: string }
const notAType = { key: 'value' }
export type Alias = { a: string; b?: { c: string } }
export type NotAnObject = string | number
export type Ack<T> = { ok: true; data: T } | { ok: false }
"""


def test_the_ts_parser_reads_keys_not_comments_nested_fields_or_index_signatures() -> None:
    parsed = ts_types(TRICKY_TS)
    assert set(parsed) == {"Base", "Tricky", "Other", "Alias"}  # no comment, union or alias
    assert parsed["Base"] == {"id": True, "quoted-key": False}
    assert parsed["Alias"] == {"a": True, "b": False}
    assert parsed["Tricky"] == {
        "id": True,
        "quoted-key": False,
        "other": False,
        "nested": True,
        "fn": False,
        "method": True,
        "union": True,
        "generic": True,
        "tuple": True,
        "last": True,
        "semi": False,
        "comma": True,
    }


def test_the_ts_parser_refuses_an_unknown_base() -> None:
    with pytest.raises(ValueError, match="Lonely extends Missing"):
        ts_types("export interface Lonely extends Missing { a: string }")


# --- a key added on one side only fails --------------------------------------------------------
# Each plants one difference and checks it is the one new problem reported: what the real files
# may disagree on meanwhile is the first test's to report, not these.
def planted_problems(python: dict[str, Keys], typescript: dict[str, Keys]) -> list[str]:
    baseline = compare(python_types(wire), ts_types(TYPES_TS.read_text(encoding="utf-8")))
    return [problem for problem in compare(python, typescript) if problem not in baseline]


def test_a_key_added_in_typescript_only_is_reported() -> None:
    source = TYPES_TS.read_text(encoding="utf-8")
    planted, count = re.subn(
        r"(export interface Message \{\n)", r"\1  planted_key?: string\n", source
    )
    assert count == 1
    problems = planted_problems(python_types(wire), ts_types(planted))
    assert problems == [
        "Message: keys missing in frontend/src/types.ts: none; "
        "keys missing in protocol/types.py: planted_key"
    ]


def test_a_key_added_in_python_only_is_reported() -> None:
    class Message(wire.Message):
        planted_key: NotRequired[str]

    python = python_types(wire) | {"Message": python_keys(Message)}
    problems = planted_problems(python, ts_types(TYPES_TS.read_text(encoding="utf-8")))
    assert problems == [
        "Message: keys missing in frontend/src/types.ts: planted_key; "
        "keys missing in protocol/types.py: none"
    ]


def test_a_new_typeddict_without_an_interface_is_reported() -> None:
    class PlantedPayload(TypedDict):
        planted_key: str

    python = python_types(wire) | {"PlantedPayload": python_keys(PlantedPayload)}
    problems = planted_problems(python, ts_types(TYPES_TS.read_text(encoding="utf-8")))
    assert len(problems) == 1
    assert problems[0].startswith("PlantedPayload: protocol/types.py has this TypedDict")
    assert "planted_key" in problems[0]


def test_a_key_optional_on_one_side_only_is_reported() -> None:
    class ReconnectAck(TypedDict, total=False):
        last_seq: int
        running: Required[bool]

    python = python_types(wire) | {"ReconnectAck": python_keys(ReconnectAck)}
    problems = planted_problems(python, ts_types(TYPES_TS.read_text(encoding="utf-8")))
    assert problems == [
        "ReconnectAck.last_seq: optional (NotRequired/total=False) in Python, "
        "required in TypeScript"
    ]


def test_not_required_is_read_under_future_annotations() -> None:
    """Python 3.11 counts a string `NotRequired[...]` key as required; the reader does not."""
    module = types.ModuleType("planted_wire")
    exec(
        "from __future__ import annotations\n"
        "from typing import NotRequired, Required, TypedDict\n"
        "class Base(TypedDict):\n"
        "    a: int\n"
        "    b: NotRequired[int]\n"
        "class Child(Base, total=False):\n"
        "    c: int\n"
        "    d: Required[int]\n",
        module.__dict__,
    )
    found = python_types(module)
    assert found["Base"] == {"a": True, "b": False}
    assert found["Child"] == {"a": True, "b": False, "c": False, "d": True}
