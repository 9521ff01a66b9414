"""The header row against the contract: duplicate, missing, extra and renamed columns."""
from __future__ import annotations

import difflib
import re

from shared.domain.contract.report import Problem

__all__ = ["header_problems"]


def header_problems(names: list[str], expected: tuple[str, ...]) -> list[Problem]:
    """What is wrong with a header of `names` for a contract of the `expected` columns
    (any order); no problems means every expected column is there exactly once."""
    seen: dict[str, int] = {}
    for n in names:
        seen[n] = seen.get(n, 0) + 1
    dups = [n for n, k in seen.items() if k > 1]
    problems = []
    if dups:
        listed = ", ".join(f"'{n}' ({seen[n]} times)" for n in dups)
        problems.append(Problem("duplicate_columns", f"duplicate column names in the header: {listed}", row=0))
    missing = [n for n in expected if n not in seen]
    extra = [n for n in seen if n not in set(expected)]
    for m, e in _pair_renames(missing, extra):
        problems.append(Problem("renamed_column", f"column '{m}' appears renamed to '{e}'", m, 0))
        missing.remove(m)
        extra.remove(e)
    if missing:
        listed = ", ".join(f"'{n}'" for n in missing)
        problems.append(
            Problem(
                "missing_columns",
                f"missing columns: {listed} (the header has: {', '.join(repr(n) for n in names)})",
                missing[0] if len(missing) == 1 else None,
                0,
            )
        )
    if extra:
        listed = ", ".join(f"'{n}'" for n in extra)
        problems.append(
            Problem(
                "extra_columns",
                f"unexpected columns: {listed} (the contract has: {', '.join(expected)})",
                extra[0] if len(extra) == 1 else None,
                0,
            )
        )
    return problems


def _norm(name: str) -> str:
    return re.sub(r"[\s_\-.]+", "", name).lower()


def _pair_renames(missing: list[str], extra: list[str]) -> list[tuple[str, str]]:
    """(expected, found) pairs where a found column is most likely a renamed expected one."""
    scored = []
    for m in missing:
        for e in extra:
            nm, ne = _norm(m), _norm(e)
            if nm == ne:
                score = 1.0
            elif min(len(nm), len(ne)) >= 3 and (nm in ne or ne in nm):
                score = 0.9
            else:
                score = difflib.SequenceMatcher(None, nm, ne).ratio()
                if score < 0.75:
                    continue
            scored.append((score, m, e))
    scored.sort(key=lambda t: -t[0])
    pairs, used_m, used_e = [], set(), set()
    for _, m, e in scored:
        if m not in used_m and e not in used_e:
            used_m.add(m)
            used_e.add(e)
            pairs.append((m, e))
    return pairs
