"""The mining cache: parsed git history and migration files kept between runs.

It lives under ``.forensics-cache/`` in the analysed repository (configurable) and is safe
to delete. Entries are keyed by commit SHAs, blob ids and query arguments, so a moved
branch or an edited file never hits a stale entry. The format is JSON only: the cache sits
inside an untrusted repository, and unpickling could execute code. Every value is decoded
against the type it must have; a corrupt or foreign file gives a warning and is rebuilt.

Two layouts: namespaces in ``_FILE_NAMESPACES`` (large values such as a whole ``log``) get
one file per key and keep only the most recently used entries; every other namespace is one
table file per namespace (small content-addressed values, such as whether a file parses).
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import hashlib
import json
import os
import tempfile
import types
import typing
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, cast

from forensics.errors import Diagnostics

# Bumped when cached values keep their shape but change meaning (how fingerprints are made),
# so that entries written by an older version are rebuilt rather than compared.
FORMAT = 2
DEFAULT_DIR = ".forensics-cache"
_FILE_NAMESPACES = frozenset({"log", "history", "blobs"})
_KEEP_FILES = 8

T = TypeVar("T")


class CacheFormatError(ValueError):
    """A cached value does not have the shape its type requires."""


def cache_key(*parts: object) -> str:
    """A stable key from JSON-able parts (SHAs, paths, flags)."""
    text = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:40]


# -- serialisation ---------------------------------------------------------------------------
# Dataclasses become lists in field order (compact and fast); the schema fingerprint stored
# beside the data changes whenever a field is added, so old entries are simply missed.


def utc_text(value: datetime) -> str:
    """A time as the cache keeps it: ISO-8601 in UTC with ``Z``, as every forensics
    document writes times, but to the microsecond (a cached value must come back equal).
    Entries written with ``+00:00`` still read."""
    return value.astimezone(UTC).isoformat().removesuffix("+00:00") + "Z"


def to_json(value: Any) -> Any:
    """A JSON-able form of model values: dataclasses, enums, UTC datetimes, tuples."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [to_json(getattr(value, f.name)) for f in dataclasses.fields(value)]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return utc_text(value)
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot cache a {type(value).__name__}")


def encode(tp: Any, value: Any) -> Any:
    """``to_json`` for a value known to be of type ``tp``, through an encoder compiled once
    per type (a whole history is tens of thousands of records)."""
    return _encoder(tp)(value)


_encoders: dict[Any, Callable[[Any], Any]] = {}


def _encoder(tp: Any) -> Callable[[Any], Any]:
    found = _encoders.get(tp)
    if found is None:
        found = _encoders[tp] = _build_encoder(tp)
    return found


def _same(value: Any) -> Any:
    return value


def _build_encoder(tp: Any) -> Callable[[Any], Any]:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp in (str, int, float, bool, type(None)):
        return _same
    if tp is datetime:
        return utc_text
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return lambda v: v.value
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        hints = typing.get_type_hints(tp)
        names = [f.name for f in dataclasses.fields(tp)]
        encoders: list[Callable[[Any], Any]] = []

        def record(v: Any) -> list[Any]:
            if not encoders:  # filled lazily: dataclasses may refer to themselves
                encoders.extend(_encoder(hints[n]) for n in names)
            return [enc(getattr(v, n)) for n, enc in zip(names, encoders, strict=True)]

        return record
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        if len(inner) != 1:
            return to_json
        item = _encoder(inner[0])
        return lambda v: None if v is None else item(v)
    if origin in (tuple, list) and args:
        items = [_encoder(a) for a in args if a is not Ellipsis]
        if all(i is _same for i in items):
            return list
        if len(items) == 1 and (origin is list or args[-1] is Ellipsis):
            one = items[0]
            return lambda v: [one(x) for x in v]
        return lambda v: [f(x) for f, x in zip(items, v, strict=True)]
    return to_json


_decoders: dict[Any, Callable[[Any], Any]] = {}
_schemas: dict[Any, str] = {}


def from_json(tp: Any, data: Any) -> Any:
    """Rebuild a value of type ``tp`` from ``to_json`` output, checking its shape."""
    decode = _decoder(tp)
    try:
        return decode(data)
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
        raise CacheFormatError(str(exc)) from None


def _expect(data: Any, kind: type | tuple[type, ...]) -> Any:
    if not isinstance(data, kind) or (isinstance(data, bool) and kind in (int, float)):
        raise CacheFormatError(f"expected {kind}, got {type(data).__name__}")
    return data


def _decoder(tp: Any) -> Callable[[Any], Any]:
    found = _decoders.get(tp)
    if found is None:
        found = _decoders[tp] = _build(tp)
    return found


def _exact(kind: type) -> Callable[[Any], Any]:
    def check(d: Any) -> Any:
        # ``type(d) is`` rather than isinstance: JSON gives exact types, and a bool must not
        # pass for an int.
        if type(d) is not kind:
            raise CacheFormatError(f"expected {kind.__name__}, got {type(d).__name__}")
        return d

    return check


def _build(tp: Any) -> Callable[[Any], Any]:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is type(None):
        return lambda d: None if d is None else _expect(d, type(None))
    if tp in (str, bool, int):
        return _exact(tp)
    if tp is float:
        return lambda d: float(_expect(d, (int, float)))
    if tp is datetime:
        return lambda d: datetime.fromisoformat(_expect(d, str)).astimezone(UTC)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return lambda d: tp(d)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _build_dataclass(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        if len(inner) != 1:
            raise TypeError(f"unsupported union {tp}")
        item = _decoder(inner[0])
        return lambda d: None if d is None else item(d)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        if args[0] in (str, bool, int):
            return _exact_items(args[0], tuple)
        item = _decoder(args[0])
        return lambda d: tuple([item(x) for x in _expect(d, list)])
    if origin is tuple:
        items = [_decoder(a) for a in args]

        def fixed(d: Any) -> tuple[Any, ...]:
            if len(_expect(d, list)) != len(items):
                raise CacheFormatError("tuple of the wrong length")
            return tuple([f(x) for f, x in zip(items, d, strict=True)])

        return fixed
    if origin is list:
        if args[0] in (str, bool, int):
            return _exact_items(args[0], list)
        item = _decoder(args[0])
        return lambda d: [item(x) for x in _expect(d, list)]
    if origin is dict and args[0] is str:
        value = _decoder(args[1])
        return lambda d: {_expect(k, str): value(v) for k, v in _expect(d, dict).items()}
    raise TypeError(f"unsupported type {tp}")


def _exact_items(kind: type, make: Callable[[list[Any]], Any]) -> Callable[[Any], Any]:
    """A list of plain values (a history's thousands of SHAs) checked in one pass, without a
    call per item."""

    def decode(d: Any) -> Any:
        if type(d) is not list:
            raise CacheFormatError(f"expected a list, got {type(d).__name__}")
        wrong = next((x for x in d if type(x) is not kind), d)
        if wrong is not d:
            raise CacheFormatError(f"expected {kind.__name__}, got {type(wrong).__name__}")
        return make(d)

    return decode


def _build_dataclass(cls: type) -> Callable[[Any], Any]:
    hints = typing.get_type_hints(cls)
    fields = [f for f in dataclasses.fields(cls) if f.init]
    decoders: list[Callable[[Any], Any]] = []

    names = [f.name for f in fields]
    # A plain dataclass (every field in __init__, no __post_init__, no slots) is filled in
    # place, as its generated __init__ would: thousands of file versions come back at once.
    plain = (
        len(fields) == len(dataclasses.fields(cls))
        and not hasattr(cls, "__post_init__")
        and "__slots__" not in cls.__dict__
    )
    new = object.__new__

    def decode(d: Any) -> Any:
        if not decoders:  # filled lazily: dataclasses may refer to themselves
            decoders.extend(_decoder(hints[f.name]) for f in fields)
        if type(d) is not list or len(d) != len(decoders):
            raise CacheFormatError(f"{cls.__name__} with the wrong shape")
        values = [f(x) for f, x in zip(decoders, d, strict=True)]
        if not plain:
            return cls(*values)
        value: Any = new(cls)
        value.__dict__.update(zip(names, values, strict=True))
        return value

    return decode


def schema(tp: Any) -> str:
    """A fingerprint of a type's shape: any added or renamed field changes it."""
    found = _schemas.get(tp)
    if found is None:
        found = _schemas[tp] = hashlib.sha256(_describe(tp, set()).encode()).hexdigest()[:16]
    return found


def _describe(tp: Any, seen: set[Any]) -> str:
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if tp in seen:
            return tp.__name__
        seen.add(tp)
        hints = typing.get_type_hints(tp)
        inner = ",".join(
            f"{f.name}:{_describe(hints[f.name], seen)}" for f in dataclasses.fields(tp)
        )
        return f"{tp.__name__}({inner})"
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return f"{tp.__name__}[{','.join(str(m.value) for m in tp)}]"
    args = typing.get_args(tp)
    if args:
        return f"{typing.get_origin(tp)}[{','.join(_describe(a, seen) for a in args)}]"
    return str(tp)


# -- storage ---------------------------------------------------------------------------------


class MiningCache:
    """A JSON cache in ``directory``. ``flush()`` writes pending table entries (also done by
    ``GitSource.close``). Failing to write only disables the cache, with a warning."""

    def __init__(self, directory: Path, diag: Diagnostics | None = None) -> None:
        self.directory = Path(directory)
        self.diag = diag or Diagnostics()
        self.enabled = True
        self._tables: dict[str, dict[str, Any]] = {}
        self._dirty: set[str] = set()
        if self.directory.is_symlink():
            self._fail(f"{self.directory} is a symbolic link; the cache is not used there")

    @classmethod
    def for_repo(
        cls, repo: Path, directory: Path | None = None, diag: Diagnostics | None = None
    ) -> MiningCache:
        """The cache of ``repo``: ``directory`` when given, else ``.forensics-cache/`` in it."""
        return cls(directory or Path(repo) / DEFAULT_DIR, diag)

    def disable(self) -> None:
        self.enabled = False
        self._tables.clear()
        self._dirty.clear()

    def _fail(self, message: str) -> None:
        if self.enabled:
            self.diag.warn(message)
        self.disable()

    # -- typed access ------------------------------------------------------------------------
    def get(self, namespace: str, key: str, tp: type[T] | Any) -> T | None:
        """The value stored under ``key``, decoded as ``tp``; ``None`` on a miss."""
        return cast("T | None", self._get(namespace, key, tp))

    def put(self, namespace: str, key: str, value: object, tp: Any = None) -> None:
        self._put(namespace, key, value, tp if tp is not None else type(value))

    def memo(self, namespace: str, key: str, tp: type[T], compute: Callable[[], T]) -> T:
        """The cached value, or ``compute()`` stored for next time."""
        found: T | None = self.get(namespace, key, tp)
        if found is None:
            found = compute()
            self.put(namespace, key, found, tp)
        return found

    # -- raw storage -------------------------------------------------------------------------
    def _get(self, namespace: str, key: str, tp: Any) -> Any:
        if not self.enabled:
            return None
        path = self.directory / namespace / f"{key}.json"
        if namespace in _FILE_NAMESPACES:
            entry = self._read(path)
            if entry is not None:
                self._touch(path)
        else:
            entry = self._table(namespace).get(key)
        if not isinstance(entry, dict) or entry.get("schema") != schema(tp):
            return None
        try:
            return from_json(tp, entry.get("data"))
        except CacheFormatError as exc:
            if namespace in _FILE_NAMESPACES:
                self._corrupt(path, str(exc))
            else:
                self.diag.warn(
                    f"an entry of the cache file {self.directory / namespace}.json is corrupt "
                    f"({exc}); it is rebuilt"
                )
                del self._tables[namespace][key]
                self._dirty.add(namespace)
            return None

    def _put(self, namespace: str, key: str, value: object, tp: Any) -> None:
        if not self.enabled:
            return
        entry = {"schema": schema(tp), "data": encode(tp, value)}
        if namespace in _FILE_NAMESPACES:
            folder = self.directory / namespace
            self._write(folder / f"{key}.json", {"format": FORMAT, "entry": entry})
            self._prune(folder)
        else:
            self._table(namespace)[key] = entry
            self._dirty.add(namespace)

    def _table(self, namespace: str) -> dict[str, Any]:
        table = self._tables.get(namespace)
        if table is None:
            loaded = self._read(self.directory / f"{namespace}.json", table=True)
            table = self._tables[namespace] = loaded if isinstance(loaded, dict) else {}
        return table

    def _read(self, path: Path, table: bool = False) -> Any:
        """The entry (or table) in ``path``; ``None`` when absent or unusable."""
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            self._fail(f"cannot read the cache file {path} ({exc.strerror}); the cache is off")
            return None
        try:
            doc = json.loads(raw)
            if not isinstance(doc, dict):
                raise ValueError("not a JSON object")
        except ValueError:
            self._corrupt(path, "not valid JSON")
            return None
        except RecursionError:  # the interpreter's recursion limit bounds the nesting
            self._corrupt(path, "nested too deeply")
            return None
        if doc.get("format") != FORMAT:
            return None
        body = doc.get("table" if table else "entry")
        if table and not isinstance(body, dict):
            self._corrupt(path, "no table in it")
            return None
        return body

    def _corrupt(self, path: Path, why: str) -> None:
        self.diag.warn(f"the cache file {path} is corrupt ({why}); it is rebuilt")
        with contextlib.suppress(OSError):
            path.unlink()

    def _ensure_dir(self, folder: Path) -> bool:
        try:
            fresh = not self.directory.exists()
            folder.mkdir(parents=True, exist_ok=True)
            if fresh:
                # Keeps the cache out of the analysed repository's commits.
                (self.directory / ".gitignore").write_text("*\n")
        except OSError as exc:
            self._fail(f"cannot write the cache in {self.directory} ({exc.strerror}); it is off")
            return False
        return True

    def _write(self, path: Path, doc: dict[str, Any]) -> None:
        if not self._ensure_dir(path.parent):
            return
        try:
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
            # json.dumps (the C encoder), not json.dump, which encodes in Python
            text = json.dumps(doc, separators=(",", ":"))
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(tmp, path)
        except OSError as exc:
            self._fail(f"cannot write the cache file {path} ({exc.strerror}); the cache is off")

    def _touch(self, path: Path) -> None:
        with contextlib.suppress(OSError):
            os.utime(path)

    def _prune(self, folder: Path) -> None:
        """Keep the most recently used files: logs of old revisions are never asked again."""
        try:
            files = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
            for old in files[_KEEP_FILES:]:
                old.unlink()
        except OSError:
            pass

    def flush(self) -> None:
        """Write the table namespaces changed since they were loaded."""
        for namespace in sorted(self._dirty):
            table = self._tables.get(namespace, {})
            self._write(self.directory / f"{namespace}.json", {"format": FORMAT, "table": table})
        self._dirty.clear()
