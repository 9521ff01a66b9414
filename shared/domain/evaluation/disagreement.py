"""How many rows two models would answer differently, with a few of those rows for people to look at."""
from __future__ import annotations

EXAMPLES = 3


def disagreement(rows, candidate: str, champion: str, threshold: float = 0.5, examples: int = EXAMPLES,
                 drop: tuple[str, ...] = ()) -> dict:
    """Share of `rows` (ScoredRows) where the two versions' predicted classes differ at `threshold`;
    the examples are the differing rows where the two probabilities are furthest apart, without the
    columns named in `drop` (identifiers: the examples reach a reviewer's page)."""
    hidden = {name.casefold() for name in drop}
    a, b = rows.probabilities[candidate], rows.probabilities[champion]
    differing = [i for i in range(rows.rows) if (a[i] >= threshold) != (b[i] >= threshold)]
    differing.sort(key=lambda i: -abs(a[i] - b[i]))
    return {
        "rows": rows.rows,
        "differing": len(differing),
        "share": round(len(differing) / rows.rows, 6) if rows.rows else None,
        "threshold": threshold,
        "evaluated_on": rows.describe(),
        "examples": [{
            "features": {name: values[i] for name, values in rows.features.items() if name.casefold() not in hidden},
            "candidate": round(a[i], 4), "champion": round(b[i], 4),
        } for i in differing[:examples]],
    }
