"""GrowthBook-compatible targeting conditions, compiled once into Python functions.

Each operator compiles to a closure test (the reference semantics); `compile_condition` then
writes the whole condition as one generated function that inlines the common tests and calls
the closures for the rest (`_Generator`). What a condition needs to be true, so that a rule
set can skip rules without evaluating them, is `etalage.rules.requirements`.

Semantics follow GrowthBook's ``evalCondition`` (MongoDB-style operators, JavaScript-like
ordering coercion, padded version strings). A malformed condition never raises when evaluated:
the part that cannot be understood evaluates to ``False``. `validate_condition` reports those
parts up front for strict loading.

Attribute paths are looked up as one flat key first (etalage's attribute dicts have dotted keys
such as ``search.last.age_days``), then by walking nested mappings segment by segment.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from types import CodeType
from typing import Any

Predicate = Callable[[Mapping[str, Any]], bool]
_Test = Callable[[Any], bool]
#: Saved groups (``$inGroup``): a group's name and its members.
Groups = Mapping[str, Sequence[Any]]

_LOGICAL = frozenset({"$and", "$or", "$nor", "$not"})
_LIST_OPS = frozenset({"$in", "$nin", "$ini", "$nini", "$all", "$alli"})
_ORDER_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "$eq": operator.eq,
    "$ne": operator.ne,
    "$lt": operator.lt,
    "$lte": operator.le,
    "$gt": operator.gt,
    "$gte": operator.ge,
}
_VERSION_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "$veq": operator.eq,
    "$vne": operator.ne,
    "$vlt": operator.lt,
    "$vlte": operator.le,
    "$vgt": operator.gt,
    "$vgte": operator.ge,
}
_REGEX_OPS = {"$regex": (0, False), "$regexi": (re.IGNORECASE, False)}
_REGEX_OPS.update({"$notRegex": (0, True), "$notRegexi": (re.IGNORECASE, True)})
_TYPE_NAMES = ("string", "number", "boolean", "null", "object", "array")
_OTHER_OPS = frozenset(
    {"$elemMatch", "$size", "$exists", "$type", "$not", "$inGroup", "$notInGroup"}
)
KNOWN_OPERATORS = frozenset(
    _LIST_OPS | _ORDER_OPS.keys() | _VERSION_OPS.keys() | _REGEX_OPS.keys() | _OTHER_OPS
)
"""Every operator allowed inside an operator object (``{"$gt": 3}``)."""

_MISSING: Any = object()
ARRAY_TYPES = (list, tuple)  # what conditions take for arrays
_COMPARE_ERRORS = (TypeError, ValueError, OverflowError)


def _true(_: Any) -> bool:
    return True


def _false(_: Any) -> bool:
    return False


_NUMBER_TYPES = (int, float)


def is_number(value: Any) -> bool:
    """Whether conditions take `value` for a number (a bool is not one)."""
    return isinstance(value, _NUMBER_TYPES) and not isinstance(value, bool)


def _is_mapping(value: Any) -> bool:
    return type(value) is dict or isinstance(value, Mapping)


def is_operator_object(value: Mapping[Any, Any]) -> bool:
    """Whether `value` is operators (``{"$gt": 3}``), tested as such, not an object to equal."""
    return all(isinstance(key, str) and key.startswith("$") for key in value)


# --- public API ---------------------------------------------------------------------------


def compile_condition(
    condition: Mapping[str, Any], saved_groups: Groups | None = None
) -> Predicate:
    """Compile a condition once into a predicate over an attribute mapping.

    The predicate is one generated Python function (see `_Generator`) when the condition is
    well formed, else nested closures; both evaluate exactly the same way.
    """
    groups = saved_groups or {}
    if isinstance(condition, Mapping):
        generated = _Generator(groups).function(condition)
        if generated is not None:
            return generated
    return _compile_condition(condition, groups)


_CACHE: dict[str, Predicate] = {}
_CACHE_SIZE = 512


def evaluate_condition(
    condition: Mapping[str, Any],
    attributes: Mapping[str, Any],
    saved_groups: Groups | None = None,
) -> bool:
    """Evaluate a condition against attributes (compiled predicates are cached by content)."""
    try:
        key = json.dumps([condition, saved_groups], sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        return compile_condition(condition, saved_groups)(attributes)
    predicate = _CACHE.get(key)
    if predicate is None:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.clear()
        predicate = _CACHE[key] = compile_condition(condition, saved_groups)
    return predicate(attributes)


def condition_paths(condition: Mapping[str, Any]) -> frozenset[str]:
    """The attribute paths a condition reads, through ``$and``/``$or``/``$nor``/``$not``."""
    found: set[str] = set()
    _collect_paths(condition, found)
    return frozenset(found)


def _collect_paths(condition: Any, found: set[str]) -> None:
    if not isinstance(condition, Mapping):
        return
    for key, value in condition.items():
        if key in ("$and", "$or", "$nor"):
            if isinstance(value, ARRAY_TYPES):
                for item in value:
                    _collect_paths(item, found)
        elif key == "$not":
            _collect_paths(value, found)
        elif isinstance(key, str):
            found.add(key)


# --- compiling conditions -----------------------------------------------------------------


def _compile_condition(condition: Any, groups: Groups) -> Predicate:
    if not isinstance(condition, Mapping):
        return _false
    parts: list[Predicate] = []
    for key, value in condition.items():
        if key == "$or":
            parts.append(_compile_any(value, groups))
        elif key == "$nor":
            parts.append(_negate(_compile_any(value, groups)))
        elif key == "$and":
            if not isinstance(value, ARRAY_TYPES):
                return _false
            parts.append(_all_of([_compile_condition(item, groups) for item in value]))
        elif key == "$not":
            parts.append(_negate(_compile_condition(value, groups)))
        elif isinstance(key, str):
            parts.append(_bind_path(key, compile_value(value, groups)))
        else:
            return _false
    return _all_of(parts)


def _compile_any(conditions: Any, groups: Groups) -> Predicate:
    if not isinstance(conditions, ARRAY_TYPES):
        return _false
    if not conditions:
        return _true
    tests = tuple(_compile_condition(item, groups) for item in conditions)
    if len(tests) == 1:
        return tests[0]

    def any_of(attributes: Any) -> bool:
        for test in tests:
            if test(attributes):
                return True
        return False

    return any_of


def _all_of(tests: Sequence[Callable[[Any], bool]]) -> Callable[[Any], bool]:
    if not tests:
        return _true
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        first, second = tests
        return lambda value: first(value) and second(value)
    frozen = tuple(tests)

    def all_of(value: Any) -> bool:
        for test in frozen:
            if not test(value):
                return False
        return True

    return all_of


def _negate(test: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda value: not test(value)


def _walk(attributes: Any, segments: tuple[str, ...]) -> Any:
    current = attributes
    for segment in segments:
        if (type(current) is dict or isinstance(current, Mapping)) and segment in current:
            current = current[segment]
        else:
            return None
    return current


def attribute_at(attributes: Mapping[str, Any], path: str) -> Any:
    """The value a condition reads at `path`: the whole key first, then the nested walk
    (None when neither is there)."""
    value = attributes.get(path, _MISSING)
    if value is _MISSING:
        value = _walk(attributes, tuple(path.split("."))) if "." in path else None
    return value


def _bind_path(path: str, test: _Test) -> Predicate:
    if "." not in path:
        return lambda attributes: test(attributes.get(path))
    segments = tuple(path.split("."))

    def at_path(attributes: Mapping[str, Any]) -> bool:
        value = attributes.get(path, _MISSING)
        if value is _MISSING:
            value = _walk(attributes, segments)
        return test(value)

    return at_path


def compile_value(expected: Any, groups: Groups, insensitive: bool = False) -> _Test:
    """The test an attribute's value must pass: `expected`'s operators, or equality with it
    (text compared without case with `insensitive`)."""
    if isinstance(expected, Mapping) and is_operator_object(expected):
        return _all_of([_compile_operator(op, arg, groups) for op, arg in expected.items()])
    if insensitive and isinstance(expected, str):
        lowered = expected.lower()
        return lambda value: value.lower() == lowered if isinstance(value, str) else False
    return lambda value: expected == value


def _compile_operator(op: str, arg: Any, groups: Groups) -> _Test:
    if op in _ORDER_OPS:
        return _compile_order(_ORDER_OPS[op], arg)
    if op in _VERSION_OPS:
        return _compile_version(_VERSION_OPS[op], arg)
    if op in _REGEX_OPS:
        flags, negated = _REGEX_OPS[op]
        return _compile_regex(arg, flags, negated)
    if op in ("$in", "$nin", "$ini", "$nini"):
        if not isinstance(arg, ARRAY_TYPES):
            return _false
        member = _membership(arg, insensitive=op in ("$ini", "$nini"))
        return member if op in ("$in", "$ini") else _negate(member)
    if op in ("$all", "$alli"):
        return _compile_all(arg, groups, insensitive=op == "$alli")
    if op == "$elemMatch":
        return _compile_elem_match(arg, groups)
    if op == "$size":
        size_test = compile_value(arg, groups)
        return lambda value: isinstance(value, ARRAY_TYPES) and size_test(len(value))
    if op == "$exists":
        return (lambda value: value is not None) if arg else (lambda value: value is None)
    if op == "$type":
        known = _TYPE_TESTS.get(arg) if isinstance(arg, str) else None
        return known or (lambda value: _type_name(value) == arg)
    if op == "$not":
        return _negate(compile_value(arg, groups))
    if op in ("$inGroup", "$notInGroup"):
        return _compile_group(op == "$inGroup", arg, groups)
    return _false


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, _NUMBER_TYPES):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple, set, frozenset)):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return "unknown"


_TYPE_TESTS: dict[Any, _Test] = {
    "null": lambda value: value is None,
    "boolean": lambda value: isinstance(value, bool),
    "number": is_number,
    "string": lambda value: isinstance(value, str),
    "array": lambda value: isinstance(value, (list, tuple, set, frozenset)),
    "object": _is_mapping,
}


def _to_float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _js_compare(left: Any, right: Any) -> int | None:
    """GrowthBook's ordering: a number against a non-number coerces it (null as 0).

    Returns None where the two values cannot be ordered.
    """
    try:
        if is_number(left) and not is_number(right):
            right = 0 if right is None else float(right)
        elif is_number(right) and not is_number(left):
            left = 0 if left is None else float(left)
        if left > right:
            return 1
        if left < right:
            return -1
        return 0
    except _COMPARE_ERRORS:
        return None


def _compile_order(compare: Callable[[Any, Any], bool], arg: Any) -> _Test:
    def general(value: Any) -> bool:
        if value is None and not arg_is_number:
            return False
        outcome = _js_compare(value, arg)
        return outcome is not None and compare(outcome, 0)

    arg_is_number = is_number(arg)

    if arg_is_number and arg == arg:
        if_missing = compare(0, arg)
        if_nan = compare(0, 0)

        def numeric(value: Any) -> bool:
            kind = type(value)
            if kind is int or kind is float:
                return compare(value, arg)
            if value is None:
                return if_missing
            if kind is str:
                try:
                    number = float(value)
                except ValueError:
                    return False
                return compare(number, arg) if number == number else if_nan
            return general(value)

        return numeric
    if type(arg) is str:
        arg_number = _to_float(arg)

        def textual(value: Any) -> bool:
            kind = type(value)
            if kind is str:
                return compare(value, arg)
            if kind is int or kind is float:
                if arg_number is None:
                    return False
                return compare(value, arg_number) if arg_number == arg_number else compare(0, 0)
            return general(value)

        return textual
    return general


_PADDED: dict[str, str] = {}
_PADDED_LIMIT = 4096
_PADDED_LONGEST = 64


def _padded_text(text: str) -> str:
    """`padded_version` of a string, remembered when short (version strings repeat and the
    padding is slow; a visitor may send the text, so a long one is padded every time)."""
    padded = _PADDED.get(text)
    if padded is None:
        padded = _pad_version_text(text or "0")
        if len(text) <= _PADDED_LONGEST:
            if len(_PADDED) >= _PADDED_LIMIT:
                _PADDED.clear()
            _PADDED[text] = padded
    return padded


def _pad_version_text(text: str) -> str:
    text = re.sub(r"^v|\+.*$", "", text)
    parts = re.split(r"[-.]", text)
    if len(parts) == 3:
        parts.append("~")
    return "-".join(part.rjust(5) if re.match(r"^[0-9]+$", part) else part for part in parts)


def padded_version(value: Any) -> str:
    """GrowthBook's sortable form of a version string (``"1.2.3"`` → ``"    1-    2-    3-~"``)."""
    if is_number(value):
        value = str(value)
    if not value or not isinstance(value, str):
        value = "0"
    return _padded_text(value)


def _compile_version(compare: Callable[[Any, Any], bool], arg: Any) -> _Test:
    target = padded_version(arg)

    def version(value: Any) -> bool:
        if type(value) is str:
            return compare(_PADDED.get(value) or _padded_text(value), target)
        return compare(padded_version(value), target)

    return version


def _compile_regex(arg: Any, flags: int, negated: bool) -> _Test:
    try:
        search = re.compile(arg, flags).search
    except (re.error, TypeError, ValueError, OverflowError, RecursionError):
        return _false
    if negated:
        return lambda value: isinstance(value, str) and search(value) is None
    return lambda value: isinstance(value, str) and search(value) is not None


def _fold(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _membership(options: Sequence[Any], insensitive: bool) -> _Test:
    """``$in`` semantics: an array value matches if any element is among `options`."""
    items = [_fold(item) for item in options] if insensitive else list(options)
    hashable = frozenset(item for item in items if _hashable(item))
    has_unhashable = not all(map(_hashable, items))

    def contains(candidate: Any) -> bool:
        try:
            if candidate in hashable:
                return True
        except TypeError:
            return candidate in items
        return has_unhashable and candidate in items

    def any_contained(values: Any) -> bool:
        if not has_unhashable:
            try:
                return not hashable.isdisjoint(values)
            except TypeError:
                pass
        for element in values:
            if contains(element):
                return True
        return False

    if insensitive:

        def member_folded(value: Any) -> bool:
            if isinstance(value, ARRAY_TYPES):
                if not has_unhashable:
                    try:  # all strings: fold in C; anything else fails and takes the long way
                        return not hashable.isdisjoint(map(str.lower, value))
                    except TypeError:
                        pass
                return any_contained(
                    [
                        element.lower() if type(element) is str else _fold(element)
                        for element in value
                    ]
                )
            return contains(_fold(value))

        return member_folded

    def member(value: Any) -> bool:
        if isinstance(value, ARRAY_TYPES):
            return any_contained(value)
        return contains(value)

    return member


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _compile_all(arg: Any, groups: Groups, insensitive: bool) -> _Test:
    if not isinstance(arg, ARRAY_TYPES):
        return _false
    if all(isinstance(item, str) for item in arg):
        required = frozenset(item.lower() for item in arg) if insensitive else frozenset(arg)
        # Fast tries: every element a string (folded in C) or hashable; the filtered list
        # (non-strings ignored) is the exact rule and the fallback.
        if insensitive:

            def has_all_folded(value: Any) -> bool:
                if not isinstance(value, ARRAY_TYPES):
                    return False
                try:
                    return required.issubset(map(str.lower, value))
                except TypeError:
                    return required.issubset(
                        [element.lower() for element in value if isinstance(element, str)]
                    )

            return has_all_folded

        def has_all_strings(value: Any) -> bool:
            if not isinstance(value, ARRAY_TYPES):
                return False
            try:
                return required.issubset(value)
            except TypeError:
                return required.issubset([e for e in value if isinstance(e, str)])

        return has_all_strings
    tests = tuple(compile_value(item, groups, insensitive) for item in arg)

    def has_all(value: Any) -> bool:
        if not isinstance(value, ARRAY_TYPES):
            return False
        for test in tests:
            for element in value:
                if test(element):
                    break
            else:
                return False
        return True

    return has_all


def _compile_elem_match(arg: Any, groups: Groups) -> _Test:
    if not isinstance(arg, Mapping):
        return _false
    if is_operator_object(arg):
        test = compile_value(arg, groups)
    else:
        nested = _compile_condition(arg, groups)

        def test(element: Any) -> bool:
            return nested(element if _is_mapping(element) else {})

    def elem_match(value: Any) -> bool:
        if not isinstance(value, ARRAY_TYPES):
            return False
        for element in value:
            if test(element):
                return True
        return False

    return elem_match


def _compile_group(inside: bool, arg: Any, groups: Groups) -> _Test:
    if not isinstance(arg, str):
        return _false
    if arg not in groups:
        return _false if inside else _true
    member = _membership(groups[arg] or [], insensitive=False)
    return member if inside else _negate(member)


# --- compiling conditions to generated functions ---------------------------------------------


_MEMBERSHIP_OPS = frozenset({"$in", "$nin", "$ini", "$nini"})
_TYPE_EXPRESSIONS = {
    "null": "v is None",
    "boolean": "isinstance(v, bool)",
    "number": "_is_number(v)",
    "string": "isinstance(v, str)",
    "array": "isinstance(v, _SEQUENCES)",
    "object": "type(v) is dict or isinstance(v, _Mapping)",
}


class _Unsupported(Exception):
    """A shape the generator leaves to the closure compiler (malformed parts, odd keys)."""


_VERSION_SYMBOLS = {
    "$veq": "==",
    "$vne": "!=",
    "$vlt": "<",
    "$vlte": "<=",
    "$vgt": ">",
    "$vgte": ">=",
}
_NUMBER_ARG_OPS = {"$eq": "==", "$ne": "!=", "$lt": "<", "$lte": "<=", "$gt": ">", "$gte": ">="}


class _Generator:
    """Writes a condition as the source of plain Python functions, then compiles it.

    Only the *shape* of the condition reaches the source: every attribute path, value, compiled
    regular expression and fallback test is bound to a generated name (``_c3``) in the
    functions' namespace (builtins only as far as bound there), so nothing a rule author wrote
    is ever parsed as code. The source of equal shapes is equal and is compiled once
    (`_compiled`); each predicate gets its own copy of the code object.

    A conjunction becomes a run of ``if not <test>: return False`` statements (``$and`` lists
    are flattened into it); ``$or``, ``$nor``, ``$not`` and ``$elemMatch`` call generated
    functions of their own. Common field tests are written inline (equality, ``$exists``,
    ordering against a number or a string, versions, ``$in``/``$nin``/``$ini``/``$nini`` on
    strings and lists, ``$regex``, ``$type``, ``$size``) for the value types they are exact for,
    with the operator's closure test (which stays the reference) for every other value.
    """

    def __init__(self, groups: Groups) -> None:
        self.groups = groups
        self.names: dict[str, Any] = {"_walk": _walk, "_MISSING": _MISSING}
        self.names.update(_PADDED=_PADDED, _padded_text=_padded_text)
        self.names.update(type=type, int=int, float=float, str=str, len=len, bool=bool, dict=dict)
        self.names.update(list=list, map=map, any=any, TypeError=TypeError, _EMPTY={})
        self.names.update(isinstance=isinstance, _ARRAYS=ARRAY_TYPES, _is_number=is_number)
        self.names.update(_Mapping=Mapping, _SEQUENCES=(list, tuple, set, frozenset))
        self.functions: list[list[str]] = []

    def function(self, condition: Mapping[str, Any]) -> Predicate | None:
        try:
            self._function(condition)
        except _Unsupported:
            return None
        source = "\n".join("\n".join(lines) for lines in reversed(self.functions))
        namespace: dict[str, Any] = {"__builtins__": {}, **self.names}
        exec(_compiled(source), namespace)  # generated from the shape only, see class doc
        for index in range(len(self.functions)):
            function = namespace[f"_f{index}"]
            # An own copy of the shared code object: the interpreter specialises code for the
            # globals it meets, and conditions of one shape each have their own.
            function.__code__ = function.__code__.replace()
        predicate: Predicate = namespace["_f0"]
        return predicate

    def _bind(self, value: Any) -> str:
        name = f"_c{len(self.names)}"
        self.names[name] = value
        return name

    def _function(self, condition: Any) -> str:
        """Add a function testing `condition`; returns its name."""
        name = f"_f{len(self.functions)}"
        lines = [f"def {name}(a):"]
        self.functions.append(lines)
        self._conjunction(condition, lines)
        lines.append("    return True")
        return name

    def _conjunction(self, condition: Any, lines: list[str]) -> None:
        if not isinstance(condition, Mapping):
            raise _Unsupported
        for key, value in condition.items():
            if key == "$and":
                if not isinstance(value, ARRAY_TYPES):
                    raise _Unsupported
                for item in value:
                    self._conjunction(item, lines)
            elif key in ("$or", "$nor"):
                if not isinstance(value, ARRAY_TYPES):
                    raise _Unsupported
                calls = " or ".join(f"{self._function(item)}(a)" for item in value)
                if key == "$or" and calls:
                    lines.append(f"    if not ({calls}): return False")
                elif key == "$nor":
                    lines.append(f"    if {calls or 'True'}: return False")
            elif key == "$not":
                if isinstance(value, Mapping):
                    lines.append(f"    if {self._function(value)}(a): return False")
                # a $not of a non-condition negates an always-false part: nothing to test
            elif isinstance(key, str):
                self._field(key, value, lines)
            else:
                raise _Unsupported

    def _field(self, path: str, expected: Any, lines: list[str]) -> None:
        if "." in path:
            lines.append(f"    v = a.get({self._bind(path)}, _MISSING)")
            lines.append(
                f"    if v is _MISSING: v = _walk(a, {self._bind(tuple(path.split('.')))})"
            )
        else:
            lines.append(f"    v = a.get({self._bind(path)})")
        if not (isinstance(expected, Mapping) and is_operator_object(expected)):
            lines.append(f"    if not ({self._bind(expected)} == v): return False")
            return
        for op, arg in expected.items():
            self._operator(op, arg, lines)

    def _operator(self, op: str, arg: Any, lines: list[str]) -> None:
        """Lines failing (``return False``) when value ``v`` fails ``{op: arg}``."""
        closure = _compile_operator(op, arg, self.groups)
        whole = self._whole_test(op, arg)
        if whole is not None:
            lines.append(f"    if not ({whole}): return False")
            return
        if op == "$exists":
            lines.append(f"    if v is {'' if arg else 'not '}None: return False")
            return
        if op == "$elemMatch" and self._elem_match(arg, lines):
            return
        fallback = self._bind(closure)
        fast = self._fast_lines(op, arg, fallback)
        if fast is None:
            lines.append(f"    if not {fallback}(v): return False")
            return
        lines.extend(fast)
        # The closure's verdict on a missing value, known now: no call for it at run time.
        lines.append(f"    elif v is None: {'pass' if closure(None) else 'return False'}")
        lines.append(f"    elif not {fallback}(v): return False")

    def _fast_lines(self, op: str, arg: Any, fallback: str) -> list[str] | None:
        """An ``if`` on v's type (None excluded) with the closure's test for that type."""
        if op in _VERSION_SYMBOLS:
            padded, target = "(_PADDED.get(v) or _padded_text(v))", self._bind(padded_version(arg))
            return [
                "    if type(v) is str:",
                f"        if not ({padded} {_VERSION_SYMBOLS[op]} {target}): return False",
            ]
        if op in _MEMBERSHIP_OPS:
            return self._membership(op, arg, fallback)
        fast = self._fast_test(op, arg)
        if fast is None:
            return None
        kind_test, failing = fast
        return [f"    if {kind_test}:", f"        if {failing}: return False"]

    def _elem_match(self, arg: Any, lines: list[str]) -> bool:
        """``$elemMatch`` as a loop over the array calling a generated element test."""
        if not isinstance(arg, Mapping):
            return False
        name = f"_f{len(self.functions)}"
        if is_operator_object(arg):
            body = [f"def {name}(v):"]
            self.functions.append(body)
            for op, item in arg.items():
                self._operator(op, item, body)
            body.append("    return True")
            lines.append(
                f"    if not (isinstance(v, _ARRAYS) and any(map({name}, v))): return False"
            )
            return True
        self._function(arg)  # a condition over each element (non-mappings read as {})
        lines.append("    if not isinstance(v, _ARRAYS): return False")
        lines.append("    for e in v:")
        lines.append(
            f"        if {name}(e if type(e) is dict or isinstance(e, _Mapping) else _EMPTY): break"
        )
        lines.append("    else: return False")
        return True

    def _membership(self, op: str, arg: Any, fallback: str) -> list[str] | None:
        """``$in`` and kin over strings and lists of strings, in C; anything else: closure."""
        if not (isinstance(arg, ARRAY_TYPES) and all(map(_hashable, arg))):
            return None
        folded = op in ("$ini", "$nini")
        options = self._bind(frozenset(_fold(item) for item in arg) if folded else frozenset(arg))
        inside = op in ("$in", "$ini")
        text, items = ("v.lower()", "map(str.lower, v)") if folded else ("v", "v")
        disjoint = f"{'' if inside else 'not '}{options}.isdisjoint({items})"
        return [
            "    if type(v) is str:",
            f"        if {text} {'not in' if inside else 'in'} {options}: return False",
            "    elif type(v) is list:",
            "        try:",
            f"            if {disjoint}: return False",
            "        except TypeError:",
            f"            if not {fallback}(v): return False",
        ]

    def _whole_test(self, op: str, arg: Any) -> str | None:
        """An expression equal to the closure test for every value, when there is a short one."""
        if op == "$type" and isinstance(arg, str) and arg in _TYPE_EXPRESSIONS:
            return _TYPE_EXPRESSIONS[arg]
        if op == "$size" and type(arg) is int:
            return f"isinstance(v, _ARRAYS) and {self._bind(arg)} == len(v)"
        if (
            op == "$elemMatch"
            and isinstance(arg, Mapping)
            and len(arg) == 1
            and type(arg.get("$eq")) is str
            and _to_float(arg["$eq"]) is None
        ):  # only strings can equal a string that reads as no number
            return f"isinstance(v, _ARRAYS) and {self._bind(arg['$eq'])} in v"
        return None

    def _fast_test(self, op: str, arg: Any) -> tuple[str, str] | None:
        """(a test of v's type, the failing test for that type) equal to the closure's."""
        if op in _NUMBER_ARG_OPS:
            symbol = _NUMBER_ARG_OPS[op]
            if is_number(arg) and arg == arg:
                return "type(v) is int or type(v) is float", f"not (v {symbol} {self._bind(arg)})"
            if type(arg) is str:
                return "type(v) is str", f"not (v {symbol} {self._bind(arg)})"
            return None
        if op in ("$regex", "$regexi", "$notRegex", "$notRegexi"):
            flags, negated = _REGEX_OPS[op]
            try:
                search = re.compile(arg, flags).search
            except (re.error, TypeError, ValueError, OverflowError, RecursionError):
                return None
            found = f"{self._bind(search)}(v) is {'' if negated else 'not '}None"
            return "type(v) is str", f"not ({found})"
        return None


@lru_cache(maxsize=1024)
def _compiled(source: str) -> CodeType:
    """The code object of generated source (equal condition shapes share one)."""
    return compile(source, "<etalage condition>", "exec")


# --- validation ---------------------------------------------------------------------------


def validate_condition(condition: Any) -> list[tuple[str, str]]:
    """Problems in a condition as (sub-path, message) pairs; an empty list means valid.

    The sub-path joins keys and list indexes with dots (``$or.1.b``); `condition_problems`
    gives the same problems with the path as a tuple.
    """
    return [(".".join(map(str, path)), message) for path, message in condition_problems(condition)]


def condition_problems(
    condition: Any, saved_groups: Mapping[str, Any] | None = None
) -> list[tuple[tuple[str | int, ...], str]]:
    """Problems in a condition as (path of keys and list indexes, message) pairs.

    With `saved_groups`, a ``$inGroup`` / ``$notInGroup`` naming a group not among them is a
    problem too (evaluation would quietly treat it as an empty group).
    """
    problems = _Problems(saved_groups)
    _check_condition(condition, (), problems)
    return list(problems)


ConditionPath = tuple[str | int, ...]


class _Problems(list[tuple[ConditionPath, str]]):
    """The problems found so far, and the saved groups a condition may name (None: any)."""

    def __init__(self, saved_groups: Mapping[str, Any] | None) -> None:
        super().__init__()
        self.saved_groups = saved_groups


def _kind(value: Any) -> str:
    name = _type_name(value)
    return type(value).__name__ if name == "unknown" else name


def _check_condition(condition: Any, prefix: ConditionPath, out: _Problems) -> None:
    if not isinstance(condition, Mapping):
        out.append((prefix, f"a condition must be a mapping, got {_kind(condition)}"))
        return
    for key, value in condition.items():
        if not isinstance(key, str):
            out.append((prefix, f"attribute names must be strings, got {key!r}"))
            continue
        here = prefix + (key,)
        if key in ("$and", "$or", "$nor"):
            if not isinstance(value, ARRAY_TYPES):
                out.append((here, f"{key} needs a list of conditions, got {_kind(value)}"))
                continue
            for index, item in enumerate(value):
                _check_condition(item, here + (index,), out)
        elif key == "$not":
            _check_condition(value, here, out)
        else:
            _check_value(value, here, out)


def _check_value(value: Any, path: ConditionPath, out: _Problems) -> None:
    if not isinstance(value, Mapping):
        return
    operators = [key for key in value if isinstance(key, str) and key.startswith("$")]
    if not operators:
        return
    if len(operators) != len(value):
        out.append((path, f"operators {', '.join(operators)} mixed with plain keys"))
        return
    for op, arg in value.items():
        message = _operator_problem(op, arg, path, out)
        if message:
            out.append((path, message))


def _operator_problem(op: str, arg: Any, path: ConditionPath, out: _Problems) -> str | None:
    if op not in KNOWN_OPERATORS:
        return f"unknown operator {op!r}"
    if op in _LIST_OPS:
        if not isinstance(arg, ARRAY_TYPES):
            return f"{op} needs a list, got {_kind(arg)}"
        if op in ("$all", "$alli"):
            for index, item in enumerate(arg):
                _check_value(item, path + (op, index), out)
        return None
    if op in _REGEX_OPS:
        if not isinstance(arg, str):
            return f"{op} needs a string, got {_kind(arg)}"
        try:
            re.compile(arg)
        except re.error as exc:
            return f"{op}: invalid regular expression {arg!r} ({exc})"
        return None
    if op == "$exists":
        if not (isinstance(arg, bool) or arg in (0, 1)):
            return f"$exists needs true or false, got {arg!r}"
        return None
    if op == "$size":
        if isinstance(arg, Mapping):
            _check_value(arg, path + ("$size",), out)
        elif not (isinstance(arg, int) and not isinstance(arg, bool)):
            return f"$size needs a whole number or an operator object, got {_kind(arg)}"
        return None
    if op == "$elemMatch":
        if not isinstance(arg, Mapping):
            return f"$elemMatch needs an object, got {_kind(arg)}"
        if is_operator_object(arg):
            _check_value(arg, path + ("$elemMatch",), out)
        else:
            _check_condition(arg, path + ("$elemMatch",), out)
        return None
    if op == "$not":
        _check_value(arg, path + ("$not",), out)
        return None
    if op == "$type":
        if arg not in _TYPE_NAMES:
            return f"$type needs one of {', '.join(_TYPE_NAMES)}, got {arg!r}"
        return None
    if op in ("$inGroup", "$notInGroup"):
        if not isinstance(arg, str):
            return f"{op} needs a group id string"
        groups = out.saved_groups
        if groups is not None and arg not in groups:
            known = ", ".join(sorted(groups)) or "none defined"
            return f"unknown saved group {arg!r} (saved_groups: {known})"
        return None
    return _scalar_problem(op, arg)


def _scalar_problem(op: str, arg: Any) -> str | None:
    if op in ("$eq", "$ne"):
        ok = arg is None or isinstance(arg, str | int | float)
        return None if ok else f"{op} needs a number, string, boolean or null, got {_kind(arg)}"
    if isinstance(arg, bool) or not isinstance(arg, str | int | float):
        return f"{op} needs a number or a string, got {_kind(arg)}"
    return None
