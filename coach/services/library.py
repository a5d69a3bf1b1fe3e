"""The prompt library: loading the starter set, and rendering a prompt for one family."""
from __future__ import annotations

import json
from pathlib import Path

from ..db import db
from ..models import Prompt, PromptRevision

STARTER_FILE = Path(__file__).resolve().parent.parent / "data" / "prompts.json"
PROMPT_FIELDS = ("theme", "skill", "age_min_months", "age_max_months", "title", "body", "question",
                 "answers", "why")


def prompt_data(prompt: Prompt) -> dict:
    """The editable fields of a prompt as a plain dict (what a revision stores)."""
    return {name: getattr(prompt, name) for name in PROMPT_FIELDS} | {"status": prompt.status}


def seed_library_if_empty(path: Path = STARTER_FILE) -> int:
    """Load the starter prompts as published version 1 when the library has no prompts yet."""
    if Prompt.select().exists() or not path.exists():
        return 0
    items = json.loads(path.read_text(encoding="utf-8"))
    with db.atomic():
        for item in items:
            prompt = Prompt.create(**{name: item[name] for name in PROMPT_FIELDS},
                                   status="published", version=1)
            PromptRevision.create(prompt=prompt, version=1, summary="Starter library",
                                  data=prompt_data(prompt))
    return len(items)


def fill_child(text: str, child_name: str | None) -> str:
    """Replace the ``{child}`` placeholder with the child's name, or "your child"."""
    return text.replace("{child}", child_name or "your child")
