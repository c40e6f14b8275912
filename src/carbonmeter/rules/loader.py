"""Finding, reading and validating rule packs.

Built-in packs live in ``packs/<id>/<version>/pack.yaml``.  An administrator loads an edited copy by path
(``--profile my-pack.yaml``) without a code change.  Every problem of a pack is reported at once, naming the
file, the dotted key and the reason; a duplicated YAML key is an error too (PyYAML would silently keep the
last one, which is how an edited pack quietly loses a value).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import msgspec
import yaml

from carbonmeter.explain import explain
from carbonmeter.rules.messages import clip
from carbonmeter.rules.schema import SHORTHAND_KEYS, Pack

PACKS_DIR = Path(__file__).parent / "packs"
_TOO_DEEP = "nested too deeply (or an alias contains itself) / 嵌套过深或别名引用自身"
DEFAULT_PACK = "cq-part1"


@dataclass(frozen=True)
class PackProblem:
    file: str
    key: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key or '(top)'}: {self.reason}"


class PackError(Exception):
    """A pack could not be loaded; ``problems`` lists every reason, each with file and key."""

    def __init__(self, problems: list[PackProblem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


class UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """A safe loader (libyaml's where present) that refuses duplicate mapping keys."""


def _construct_mapping(loader: UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _dotted(path: list[str | int]) -> str:
    return ".".join(str(part) for part in path)


def _expand_shorthand(data: dict[str, Any]) -> dict[str, Any]:
    """Write each single-requirement shorthand (``accuracy_class: "III"`` beside ``tag``) as one band."""
    reqs = data.get("accuracy_requirements")
    if not isinstance(reqs, dict):
        return data
    expanded: dict[str, Any] = {}
    for purpose, req in reqs.items():
        if isinstance(req, dict) and any(k in req for k in SHORTHAND_KEYS) and "bands" not in req:
            band = {k: req[k] for k in SHORTHAND_KEYS if k in req}
            req = {k: v for k, v in req.items() if k not in SHORTHAND_KEYS} | {"bands": [band]}
        expanded[purpose] = req
    return {**data, "accuracy_requirements": expanded}


def parse_pack(text: bytes, file: str, _chain: tuple[str, ...] = ()) -> Pack:
    """Validate pack ``text`` (YAML bytes) read from ``file``; raise :class:`PackError` with every problem.

    A pack with ``extends: id@version`` (or a path, relative to ``file``) is laid over its parent: see
    :func:`_merge`.  An unknown parent or a cycle is a problem located at ``extends``."""
    try:
        data = yaml.load(text, Loader=UniqueKeyLoader)
    except yaml.YAMLError as exc:
        raise PackError([PackProblem(file, "", f"not valid YAML: {clip(str(exc), 1000)}")]) from exc
    except (ValueError, TypeError, OverflowError) as exc:  # a value YAML cannot build, e.g. 2025-02-30
        raise PackError([PackProblem(file, "", f"not valid YAML: {clip(str(exc))}")]) from exc
    except RecursionError as exc:
        raise PackError([PackProblem(file, "", _TOO_DEEP)]) from exc
    if not isinstance(data, dict):
        raise PackError([PackProblem(file, "", "a pack is a YAML mapping")])
    sha = hashlib.sha256(text).hexdigest()
    try:
        data = _expand_shorthand(data)
        if "extends" in data:
            parent = _parent(data["extends"], file, _chain)
            data = _merge(parent, data)
            sha = hashlib.sha256((parent.sha256 + sha).encode()).hexdigest()
        data = data | {"sha256": sha, "path": file}
        try:
            return msgspec.convert(data, Pack)
        except msgspec.ValidationError as exc:
            found = explain(Pack, data, exc)
            raise PackError([PackProblem(file, _dotted(path), reason) for path, reason in found]) from exc
    except RecursionError as exc:  # nesting (or an alias that contains itself) deeper than Python recurses
        raise PackError([PackProblem(file, "", _TOO_DEEP)]) from exc


def _parent(ref: object, file: str, chain: tuple[str, ...]) -> Pack:
    """The parent pack ``ref`` names, loaded; a located problem when it is unknown or makes a cycle."""
    if not isinstance(ref, str) or not ref.strip():
        raise PackError([PackProblem(file, "extends", "a pack reference (id@version or a path) is required")])
    here = str(Path(file).resolve()) if file else file
    try:
        path = _resolve(ref, relative_to=Path(file).parent if file else None)
    except PackError as exc:
        reason = exc.problems[0].reason if exc.problems else "unknown pack"
        raise PackError([PackProblem(file, "extends", f"{ref!r}: {reason}")]) from exc
    target = str(path.resolve())
    if target == here or target in chain:
        loop = " → ".join([*chain, here, target])
        raise PackError([PackProblem(file, "extends", f"packs extend each other in a cycle: {clip(loop)}")])
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise PackError([PackProblem(file, "extends", f"{ref!r}: cannot read: {exc.strerror}")]) from exc
    return parse_pack(text, str(path), (*chain, here))


#: Tables merged entry by entry (a child's entry replaces the parent's entry of the same key).
_KEYED_TABLES = (
    "category_thresholds",
    "unorganized_threshold",
    "accuracy_requirements",
    "clauses",
    "settings",
    "severity",
    "clause_map",
    "formulas",
    "factors",
    "upgrade_ladder",
)
#: Lists of records merged by their key field.
_KEYED_LISTS = {"equipping_rows": "row", "required_documents": "kind"}
#: What a parent's values do not pass on: the identity the loader fills for each file.
_NOT_INHERITED = ("sha256", "path", "origins", "extends")


def _record_key(record: object, field_name: str) -> object:
    """A keyed list's record key (a record that has none keeps its place by identity)."""
    name = record.get(field_name) if isinstance(record, dict) else None
    return name if isinstance(name, str) else id(record)


def _merge(parent: Pack, child: dict[str, Any]) -> dict[str, Any]:
    """The child's tables laid over the parent's, key by key (1+N): an entry of a keyed table (a formula, a
    factor, a purpose, a clause, a setting …) or a record of a keyed list (a Table A.1 row by ``row``, a
    document by ``kind``) replaces the parent's of the same key, new ones are added; ``sources`` are
    concatenated; any other top-level value (identity, k, tier thresholds) is the child's where it gives one.
    ``origins`` records, for each entry, the ``id@version`` of the pack it came from."""
    base = {k: v for k, v in msgspec.to_builtins(parent).items() if k not in _NOT_INHERITED}
    label = f"{child.get('id', '?')}@{child.get('version', '?')}"
    origins: dict[str, str] = {}
    out = dict(base)
    for key, value in base.items():
        if key in _KEYED_TABLES and isinstance(value, dict):
            for entry in value:
                origins[f"{key}.{entry}"] = parent.origin(f"{key}.{entry}")
        elif key in _KEYED_LISTS and isinstance(value, list):
            for record in value:
                name = _record_key(record, _KEYED_LISTS[key])
                origins[f"{key}.{name}"] = parent.origin(f"{key}.{name}")
        elif key not in {"schema", "id", "version", "title", "status", "sources"}:
            origins[key] = parent.origin(key)
    for key, value in child.items():
        if key in _KEYED_TABLES and isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
            origins.update({f"{key}.{entry}": label for entry in value})
        elif key in _KEYED_LISTS and isinstance(value, list) and isinstance(out.get(key), list):
            field_name = _KEYED_LISTS[key]
            merged = {_record_key(r, field_name): r for r in out[key]}
            for record in value:
                name = _record_key(record, field_name)
                merged[name] = record
                origins[f"{key}.{name}"] = label
            out[key] = list(merged.values())
        elif key == "sources" and isinstance(value, list):
            out[key] = [*base.get("sources", []), *value]
        else:
            out[key] = value
            if key not in {"schema", "id", "version", "title", "status", "extends"}:
                origins[key] = label
    out["origins"] = origins
    return out


def builtin_pack_files() -> list[Path]:
    """Every built-in pack file, sorted by id then version."""
    return sorted(PACKS_DIR.glob("*/*/pack.yaml"))


_BUILTIN_ID = re.compile(r"[a-z0-9][a-z0-9.-]*")


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # a name too long for the file system, and the like
        return False


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:
        return False


def _resolve(ref: str, relative_to: Path | None = None) -> Path:
    """A pack reference is a path to a YAML file (relative to ``relative_to`` when given), ``id`` (newest
    version) or ``id@version``."""
    candidate = Path(ref)
    if relative_to is not None and candidate.suffix in {".yaml", ".yml"} and not candidate.is_absolute():
        candidate = relative_to / candidate
    if candidate.suffix in {".yaml", ".yml"} or _exists(candidate):
        if not _is_file(candidate):
            raise PackError([PackProblem(clip(ref), "", "no such pack file")])
        return candidate
    pack_id, _, version = ref.partition("@")
    versions = []
    if _BUILTIN_ID.fullmatch(pack_id) and "/" not in version and "\\" not in version:
        try:
            versions = sorted((PACKS_DIR / pack_id).glob("*/pack.yaml"))
        except OSError:  # a name too long for the file system
            versions = []
    if version:
        versions = [v for v in versions if v.parent.name == version]
    if not versions:
        known = ", ".join(sorted({p.parent.parent.name for p in builtin_pack_files()}))
        raise PackError([PackProblem(clip(ref), "", f"no built-in pack of that name (known: {known})")])
    return versions[-1]


INDUSTRIES_FILE = PACKS_DIR / "industries.yaml"


@cache
def industry_packs() -> dict[str, str]:
    """Industry → the pack an organization of that industry is judged by (``packs/industries.yaml``)."""
    data = yaml.load(INDUSTRIES_FILE.read_bytes(), Loader=UniqueKeyLoader) or {}
    return {str(k).strip().lower(): str(v) for k, v in data.items()}


def pack_for(industry: str) -> str:
    """The pack reference for an organization's ``industry``: its industry part, else :data:`DEFAULT_PACK`."""
    return industry_packs().get(industry.strip().lower(), DEFAULT_PACK)


@cache
def _load_file(path: Path) -> Pack:
    return parse_pack(path.read_bytes(), str(path))


def load_pack(ref: str = DEFAULT_PACK) -> Pack:
    """Load a pack by id, ``id@version`` or path; raise :class:`PackError` when it is invalid."""
    return _load_file(_resolve(ref).resolve())


@cache
def builtin_formula_names() -> dict[str, tuple[str, str]]:
    """Formula id → (zh, en) title, over the built-in packs (the newest version of a pack winning): the name a
    workbook writes for a stream's formula and reads back."""
    names: dict[str, tuple[str, str]] = {}
    for path in builtin_pack_files():
        try:
            pack = load_pack(str(path))
        except PackError:
            continue
        for key, spec in pack.formulas.items():
            names[key] = (spec.title.zh, spec.title.en)
    return names


@cache
def builtin_names() -> tuple[
    dict[str, tuple[str, str]], dict[str, tuple[str, str]], dict[str, tuple[str, str]]
]:
    """The names a reader reads for a pack's codes, over the built-in packs (the newest version of a pack
    winning): (a point's ``purpose``, the Table A.2/A.3 row → (zh, en) title of the row; pack id → (zh, en)
    title of the pack; a required document's ``kind`` → (zh, en) name).  For the pages, the workbook and
    the reports alike."""
    purposes: dict[str, tuple[str, str]] = {}
    packs: dict[str, tuple[str, str]] = {}
    documents: dict[str, tuple[str, str]] = {}
    for path in builtin_pack_files():
        try:
            pack = load_pack(str(path))
        except PackError:
            continue
        packs[pack.id] = (pack.title.zh, pack.title.en)
        for key, req in pack.accuracy_requirements.items():
            purposes[key] = (req.title.zh, req.title.en)
        for doc in pack.required_documents:
            documents[doc.kind] = (doc.zh, doc.en)
    return purposes, packs, documents
