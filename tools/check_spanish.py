"""Check the Spanish prompt files against CONTENT.md's rules, one line per problem.

    .venv/bin/python tools/check_spanish.py                 # every file, plus what is missing
    .venv/bin/python tools/check_spanish.py 0-3 3-6         # only these bands

Each file ``coach/data/translations/es/<band>.json`` is a list of
``{"skill", "age_min_months", "title", "body", "question", "answers": [label, …], "why"}``, one
per published English prompt of that band, matched on ``(skill, age_min_months)``; ``answers``
has the English prompt's answers in the same order. The rules are the library's own
(``coach.services.programme.translations.validate_translation``, which the editor and init-db
use too): the English limits on lengths (with ``{child}`` read as "tu peque"), ``{child}`` kept
wherever the English uses it and no other braces, and Fernández-Huerta reading ease ≥ 80 for the
title, body, question and why.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coach.services.programme.translations import validate_translation  # noqa: E402

ENGLISH = ROOT / "coach" / "data" / "prompts.json"
SPANISH = ROOT / "coach" / "data" / "translations" / "es"


def band_name(age_min: int, age_max: int) -> str:
    return f"{age_min}-{age_max}"


def problems_of(entry: dict, english: dict) -> list[str]:
    """Each problem of one entry, as the editor and init-db would name it (the library's check)."""
    _, problems = validate_translation(entry, english)
    return list(problems.values())


def main(bands: list[str]) -> int:
    english = {(p["skill"], p["age_min_months"]): p for p in json.loads(ENGLISH.read_text())}
    by_band: dict[str, list[dict]] = {}
    for prompt in english.values():
        by_band.setdefault(band_name(prompt["age_min_months"], prompt["age_max_months"]), []).append(prompt)
    bands = bands or sorted(by_band, key=lambda b: int(b.split("-")[0]))
    failures = 0
    for band in bands:
        path = SPANISH / f"{band}.json"
        entries = json.loads(path.read_text()) if path.exists() else []
        seen = set()
        for entry in entries:
            key = (entry.get("skill"), entry.get("age_min_months"))
            where = f"{band} {key[0]}"
            if key not in english or band_name(*(english[key][k] for k in ("age_min_months", "age_max_months"))) != band:
                print(f"{where}: no English prompt of this band has that skill")
                failures += 1
                continue
            if key in seen:
                print(f"{where}: translated twice")
                failures += 1
            seen.add(key)
            for problem in problems_of(entry, english[key]):
                print(f"{where}: {problem}")
                failures += 1
        missing = [p["skill"] for p in by_band.get(band, []) if (p["skill"], p["age_min_months"]) not in seen]
        print(f"== {band}: {len(seen)} translated, {len(missing)} missing"
              + (f" ({', '.join(missing[:8])}{' …' if len(missing) > 8 else ''})" if missing else ""))
        failures += len(missing)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
