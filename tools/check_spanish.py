"""Check the Spanish prompt files against CONTENT.md's rules, one line per problem.

    .venv/bin/python tools/check_spanish.py                 # every file, plus what is missing
    .venv/bin/python tools/check_spanish.py 0-3 3-6         # only these bands

Each file ``coach/data/translations/es/<band>.json`` is a list of
``{"skill", "age_min_months", "title", "body", "question", "answers": [label, …], "why"}``, one
per published English prompt of that band, matched on ``(skill, age_min_months)``; ``answers``
has the English prompt's answers in the same order. The rules are the library's own
(``coach.services.programme.translations``: the admin editor, init-db and the data test use the
same check): the English limits on lengths (with ``{child}`` read as "tu peque"), ``{child}`` kept
wherever the English uses it and no other braces, as many answers as the English, and
Fernández-Huerta reading ease ≥ 80 for the title, body, question and why.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coach.services.programme.translations import check_translation_files  # noqa: E402


def main(bands: list[str]) -> int:
    failures = 0
    for result in check_translation_files(bands):
        for problem in result.problems:
            print(problem)
        missing = result.missing
        print(f"== {result.band}: {result.translated} translated, {len(missing)} missing"
              + (f" ({', '.join(missing[:8])}{' …' if len(missing) > 8 else ''})" if missing else ""))
        failures += len(result.problems) + len(missing)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
