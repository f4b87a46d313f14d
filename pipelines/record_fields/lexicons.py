"""Field lexicons (competitors, documents, departments) and name normalisation.

The lexicons are versioned YAML under ``lexicons/fields/``. Names found in text are normalised
to the lexicon's canonical form and de-duplicated with rapidfuzz, so 技术支持部 and 技术部, or
张工 and 张工程师, end up as one entry.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml  # type: ignore[import-untyped]
from rapidfuzz import fuzz, process

__all__ = [
    "FieldLexicons",
    "FieldLexiconError",
    "load_field_lexicons",
    "DEFAULT_DIR",
    "normalise_person",
    "dedupe_names",
]

DEFAULT_DIR = Path(__file__).resolve().parent.parent.parent / "lexicons"



def _empty() -> Mapping[str, str]:
    return MappingProxyType({})


class FieldLexiconError(ValueError):
    """A field lexicon file is malformed (the message names the file and the entry)."""


@dataclass(frozen=True, slots=True)
class FieldLexicons:
    """Names the field extractors look for.

    Attributes:
        competitors: canonical competitor names.
        documents: canonical document names (for normalising extracted names).
        departments: alias -> canonical department (canonical names map to themselves).
        competitor_aliases: alias -> canonical competitor name (canonical names included).
        ambiguous_competitors: names that are also ordinary words; they need competitor context.
        non_competitors: channels, carriers and systems that are never competitors.
        carriers: logistics brands (canonical names); shipping our goods by one ("发顺丰") is not a
            competitor mention.
        document_heads: nouns that end a document name.
        compliance_heads: document heads whose absence blocks a purchase (P3 blockers).
        sample_pattern: a customer who must see or test a sample first (also a P3 blocker).
        document_aliases: alias -> canonical document name.
        manager_titles: titles of the rep's own managers (requests to them go to 销售部).
        common_words: ordinary words (low IDF in ``lexicons/idf.txt``); a name found only by a weak
            pattern ("比X贵") that is made of them is not a competitor ("比白天贵").
        blocker_cues: (level, pattern) pairs for customer phrasings of a sticking point, most
            severe first; a safety net under the risk detector (``fields/blockers.yaml``).
        blocker_negation: words that cancel a cue when they come before it in its clause.
        blocker_conditional: words that make a P0 cue a threat (P1) when they come before it.
        blocker_settled: words that settle a point ("预算没问题"): a sentence with them carries no cue.
        version: the lexicon version, echoed into results.
        competitor_re: one alternation of every competitor alias, longest first.
        department_re: one alternation of every department alias, longest first.
    """

    competitors: tuple[str, ...] = ()
    documents: tuple[str, ...] = ()
    departments: Mapping[str, str] = field(default_factory=_empty)
    competitor_aliases: Mapping[str, str] = field(default_factory=_empty)
    ambiguous_competitors: frozenset[str] = frozenset()
    non_competitors: frozenset[str] = frozenset()
    carriers: frozenset[str] = frozenset()
    document_heads: tuple[str, ...] = ()
    compliance_heads: tuple[str, ...] = ()
    sample_pattern: re.Pattern[str] | None = field(default=None, repr=False, compare=False)
    document_aliases: Mapping[str, str] = field(default_factory=_empty)
    manager_titles: tuple[str, ...] = ()
    common_words: frozenset[str] = field(default=frozenset(), repr=False, compare=False)
    blocker_cues: tuple[tuple[str, re.Pattern[str]], ...] = field(default=(), repr=False, compare=False)
    blocker_negation: re.Pattern[str] | None = field(default=None, repr=False, compare=False)
    blocker_conditional: re.Pattern[str] | None = field(default=None, repr=False, compare=False)
    blocker_settled: re.Pattern[str] | None = field(default=None, repr=False, compare=False)
    version: str = "0"
    competitor_re: re.Pattern[str] | None = field(default=None, repr=False, compare=False)
    department_re: re.Pattern[str] | None = field(default=None, repr=False, compare=False)

    def canonical_competitor(self, name: str) -> str:
        return self.competitor_aliases.get(name) or self.competitor_aliases.get(name.lower()) or name

    def canonical_department(self, name: str, *, min_score: float = 80.0) -> str | None:
        """The canonical department for an alias or a near form (rapidfuzz), else None."""
        if name in self.departments:
            return self.departments[name]
        if not self.departments:
            return None
        hit = process.extractOne(name, list(self.departments), scorer=fuzz.ratio, score_cutoff=min_score)
        return self.departments[hit[0]] if hit else None

    def canonical_document(self, name: str) -> str:
        return self.document_aliases.get(name, name)


def normalise_person(name: str) -> str:
    """张工程师 -> 张工; 陈总经理 stays (总经理 is a title of its own)."""
    return re.sub(r"工程师$", "工", name.strip())


def dedupe_names(names: Iterable[str], *, threshold: float = 88.0) -> tuple[str, ...]:
    """Drop names that repeat an earlier one (same after NFKC/case folding, contained in it, or a
    rapidfuzz ratio at or above ``threshold``); the longer spelling wins and keeps the first slot."""
    out: list[str] = []
    for name in names:
        key = name.casefold()
        if not key:
            continue
        for i, kept in enumerate(out):
            k = kept.casefold()
            if key == k or key in k or k in key or fuzz.ratio(key, k) >= threshold:
                if len(key) > len(k) and k in key:
                    out[i] = name
                break
        else:
            out.append(name)
    return tuple(out)


# ---------------------------------------------------------------- loading


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise FieldLexiconError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise FieldLexiconError(f"{path}: expected a mapping at the top level")
    return data


def _str_list(value: Any, path: Path, what: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
        raise FieldLexiconError(f"{path}: {what} must be a list of names")
    return [str(v).strip() for v in value if str(v).strip()]


def _alias_entry(raw: str, path: Path) -> tuple[str, list[str]]:
    """``"canonical = alias | alias"`` -> (canonical, aliases)."""
    canonical, _, rest = raw.partition("=")
    canonical = canonical.strip()
    if not canonical:
        raise FieldLexiconError(f"{path}: empty name in {raw!r}")
    return canonical, [a.strip() for a in rest.split("|") if a.strip()]


def _alternation(names: Iterable[str]) -> re.Pattern[str] | None:
    names = sorted({n for n in names if n}, key=lambda n: (-len(n), n))
    if not names:
        return None
    return re.compile("|".join(re.escape(n) for n in names), re.IGNORECASE)


def _load_competitors(path: Path) -> dict[str, Any]:
    data = _read_yaml(path)
    brands = data.get("brands") or {}
    if not isinstance(brands, dict):
        raise FieldLexiconError(f"{path}: 'brands' must map industries to lists")
    canonical: list[str] = []
    aliases: dict[str, str] = {}
    carriers: set[str] = set()
    for industry, items in brands.items():
        for raw in _str_list(items, path, f"brands.{industry}"):
            name, more = _alias_entry(raw, path)
            canonical.append(name)
            if industry == "logistics":
                carriers.add(name)
            for a in (name, *more):
                aliases.setdefault(a, name)
                aliases.setdefault(a.lower(), name)
    return {
        "competitors": tuple(dict.fromkeys(canonical)),
        "competitor_aliases": MappingProxyType(aliases),
        "ambiguous_competitors": frozenset(_str_list(data.get("ambiguous"), path, "ambiguous")),
        "non_competitors": frozenset(n.lower() for n in _str_list(data.get("not_competitors"), path,
                                                                   "not_competitors")),
        "carriers": frozenset(carriers),
        "competitor_re": _alternation(a for a in aliases),
        "competitors_version": str(data.get("version", "0")),
    }


def _load_documents(path: Path) -> dict[str, Any]:
    data = _read_yaml(path)
    aliases: dict[str, str] = {}
    canonical = data.get("canonical") or {}
    if not isinstance(canonical, dict):
        raise FieldLexiconError(f"{path}: 'canonical' must map names to alias lists")
    for name, more in canonical.items():
        for a in _str_list(more, path, f"canonical.{name}"):
            aliases[a] = str(name)
    heads = _str_list(data.get("heads"), path, "heads")
    samples = data.get("samples")
    try:
        sample_re = re.compile(str(samples)) if samples else None
    except re.error as exc:
        raise FieldLexiconError(f"{path}: 'samples' is not a valid pattern: {exc}") from exc
    return {
        "documents": tuple(str(n) for n in canonical),
        "document_heads": tuple(sorted(heads, key=len, reverse=True)),
        "compliance_heads": tuple(_str_list(data.get("compliance"), path, "compliance")),
        "sample_pattern": sample_re,
        "document_aliases": MappingProxyType(aliases),
        "documents_version": str(data.get("version", "0")),
    }


def _load_departments(path: Path) -> dict[str, Any]:
    data = _read_yaml(path)
    departments = data.get("departments") or {}
    if not isinstance(departments, dict):
        raise FieldLexiconError(f"{path}: 'departments' must map canonical names to alias lists")
    mapping: dict[str, str] = {}
    for name, more in departments.items():
        mapping[str(name)] = str(name)
        for a in _str_list(more, path, f"departments.{name}"):
            if a in mapping and mapping[a] != name:
                raise FieldLexiconError(f"{path}: alias {a!r} is listed under {mapping[a]} and {name}")
            mapping[a] = str(name)
    return {
        "departments": MappingProxyType(mapping),
        "manager_titles": tuple(sorted(_str_list(data.get("managers"), path, "managers"), key=len, reverse=True)),
        "department_re": _alternation(mapping),
        "departments_version": str(data.get("version", "0")),
    }


def _load_blockers(path: Path) -> dict[str, Any]:
    data = _read_yaml(path)
    cues = data.get("cues") or {}
    if not isinstance(cues, dict):
        raise FieldLexiconError(f"{path}: 'cues' must map levels to lists of patterns")
    out: list[tuple[str, re.Pattern[str]]] = []
    for level in ("P0", "P1", "P2", "P3"):
        for raw in _str_list(cues.get(level), path, f"cues.{level}"):
            try:
                out.append((level, re.compile(raw)))
            except re.error as exc:
                raise FieldLexiconError(f"{path}: cues.{level}: {raw!r} is not a valid pattern: {exc}") from exc
    unknown = set(cues) - {"P0", "P1", "P2", "P3"}
    if unknown:
        raise FieldLexiconError(f"{path}: unknown levels {sorted(unknown)} (use P0–P3)")
    patterns: dict[str, re.Pattern[str] | None] = {}
    for key in ("negation", "conditional", "settled"):
        raw_pattern = data.get(key)
        try:
            patterns[key] = re.compile(str(raw_pattern)) if raw_pattern else None
        except re.error as exc:
            raise FieldLexiconError(f"{path}: '{key}' is not a valid pattern: {exc}") from exc
    return {"blocker_cues": tuple(out), "blocker_negation": patterns["negation"],
            "blocker_conditional": patterns["conditional"], "blocker_settled": patterns["settled"],
            "blockers_version": str(data.get("version", "0"))}


_COMMON_IDF = 9.5


def _load_common_words(path: Path) -> frozenset[str]:
    """Words of ``idf.txt`` (``word idf`` per line) rarer than nothing: idf below ``_COMMON_IDF``."""
    words: set[str] = set()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return frozenset()
    for line in lines:
        parts = line.split()
        if len(parts) == 2 and not line.startswith("#"):
            try:
                if float(parts[1]) < _COMMON_IDF and len(parts[0]) >= 2:
                    words.add(parts[0])
            except ValueError:
                continue
    return frozenset(words)


def load_field_lexicons(directory: Path | None = None) -> FieldLexicons:
    """Load ``fields/competitors.yaml``, ``documents.yaml``, ``departments.yaml`` and ``blockers.yaml``.

    Args:
        directory: the lexicon directory (``lexicons/``); its ``fields/`` subfolder is read.
            A missing file gives an empty lexicon for that part.

    Raises:
        FieldLexiconError: a file is malformed.
    """
    base = (directory or DEFAULT_DIR) / "fields"
    if not base.is_dir():
        base = DEFAULT_DIR / "fields"  # a lexicon dir without field lexicons uses the shipped ones
    parts: dict[str, Any] = {}
    versions = []
    for name, loader in (("competitors", _load_competitors), ("documents", _load_documents),
                         ("departments", _load_departments), ("blockers", _load_blockers)):
        path = base / f"{name}.yaml"
        if path.exists():
            loaded = loader(path)
            versions.append(loaded.pop(f"{name}_version"))
            parts.update(loaded)
    idf = (directory or DEFAULT_DIR) / "idf.txt"
    parts["common_words"] = _load_common_words(idf if idf.exists() else DEFAULT_DIR / "idf.txt")
    return FieldLexicons(version="+".join(versions) or "0", **parts)
