"""Finding, reading and validating rule packs.

Built-in packs live in ``packs/<id>/<version>/pack.yaml``.  An administrator loads an edited copy by path
(``--profile my-pack.yaml``) without a code change.  Every problem of a pack is reported at once, naming the
file, the dotted key and the reason; a duplicated YAML key is an error too (PyYAML would silently keep the
last one, which is how an edited pack quietly loses a value).
"""

from __future__ import annotations

import hashlib
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


class _UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """A safe loader (libyaml's where present) that refuses duplicate mapping keys."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


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


def parse_pack(text: bytes, file: str) -> Pack:
    """Validate pack ``text`` (YAML bytes) read from ``file``; raise :class:`PackError` with every problem."""
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        raise PackError([PackProblem(file, "", f"not valid YAML: {clip(str(exc), 1000)}")]) from exc
    except (ValueError, TypeError, OverflowError) as exc:  # a value YAML cannot build, e.g. 2025-02-30
        raise PackError([PackProblem(file, "", f"not valid YAML: {clip(str(exc))}")]) from exc
    except RecursionError as exc:
        raise PackError([PackProblem(file, "", _TOO_DEEP)]) from exc
    if not isinstance(data, dict):
        raise PackError([PackProblem(file, "", "a pack is a YAML mapping")])
    data = _expand_shorthand(data) | {"sha256": hashlib.sha256(text).hexdigest(), "path": file}
    try:
        try:
            return msgspec.convert(data, Pack)
        except msgspec.ValidationError as exc:
            found = explain(Pack, data, exc)
            raise PackError([PackProblem(file, _dotted(path), reason) for path, reason in found]) from exc
    except RecursionError as exc:  # nesting (or an alias that contains itself) deeper than Python recurses
        raise PackError([PackProblem(file, "", _TOO_DEEP)]) from exc


def builtin_pack_files() -> list[Path]:
    """Every built-in pack file, sorted by id then version."""
    return sorted(PACKS_DIR.glob("*/*/pack.yaml"))


def _resolve(ref: str) -> Path:
    """A pack reference is a path to a YAML file, ``id`` (newest version) or ``id@version``."""
    candidate = Path(ref)
    if candidate.suffix in {".yaml", ".yml"} or candidate.exists():
        if not candidate.is_file():
            raise PackError([PackProblem(ref, "", "no such pack file")])
        return candidate
    pack_id, _, version = ref.partition("@")
    versions = sorted((PACKS_DIR / pack_id).glob("*/pack.yaml"))
    if version:
        versions = [v for v in versions if v.parent.name == version]
    if not versions:
        known = ", ".join(sorted({p.parent.parent.name for p in builtin_pack_files()}))
        raise PackError([PackProblem(ref, "", f"no built-in pack of that name (known: {known})")])
    return versions[-1]


@cache
def _load_file(path: Path) -> Pack:
    return parse_pack(path.read_bytes(), str(path))


def load_pack(ref: str = DEFAULT_PACK) -> Pack:
    """Load a pack by id, ``id@version`` or path; raise :class:`PackError` when it is invalid."""
    return _load_file(_resolve(ref).resolve())


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
