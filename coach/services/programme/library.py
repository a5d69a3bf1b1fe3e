"""The prompt library: its rules, saving with revisions, status changes, restore and diffs.

Every change to a prompt goes through :func:`save_prompt` (status changes and restores too), so each
change is checked by the one validation function, :func:`validate_prompt`, becomes a
``PromptRevision`` and bumps ``Prompt.version``. Deliveries record the version they sent, so the text
a parent saw stays findable as ``PromptRevision(prompt, version)``.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

from markupsafe import Markup, escape

from ...db import db
from ...errors import AppError
from ...i18n import N_, _
from ...models import (
    MOMENTS,
    PROMPT_STATUSES,
    STRAND_NAMES,
    STRAND_WEEKS,
    STRANDS,
    THEME_STRANDS,
    THEMES,
    Prompt,
    PromptRevision,
    User,
    utcnow,
)
from ...security import audit
from .readability import FALLBACK, MAX_GRADE, PLACEHOLDER, reading_grade

STARTER_FILE = Path(__file__).resolve().parents[2] / "data" / "prompts.json"
PROMPT_FIELDS = ("theme", "skill", "age_min_months", "age_max_months", "title", "body", "question",
                 "answers", "why", "strand", "moment", "week", "pairs_with")
#: The programme's fields: an item without them (an export from before strands) gets its theme's.
PROGRAMME_FIELDS = ("strand", "moment", "week", "pairs_with")
TRIED_KINDS = ("yes", "not_yet", "no_chance")

TEXT_LIMITS = {"title": 40, "body": 140, "question": 140, "why": 300}
GRADED_FIELDS = ("title", "body", "question", "why")
LABEL_LIMIT = 40
SKILL_LIMIT = 40
MIN_ANSWERS, MAX_ANSWERS = 2, 4
AGE_BANDS = ((0, 3), (3, 6), (6, 12), (12, 24), (24, 36), (36, 60))
ANY_AGE = (0, 60)
AGE_RANGES = AGE_BANDS + (ANY_AGE,)
#: How each field is named in messages and summaries.
FIELD_LABELS = {"theme": N_("Theme"), "skill": N_("Skill"), "age": N_("Age range"), "title": N_("Title"),
                "body": N_("Body"), "question": N_("Question"), "why": N_("The “why it matters” text"),
                "answers": N_("Answers"), "status": N_("Status"), "strand": N_("Strand"), "moment": N_("Moment"),
                "week": N_("Week"), "pairs_with": N_("Paired repair")}
#: draft → published → retired, and retired → draft to revive a prompt.
TRANSITIONS = {"draft": ("published",), "published": ("retired",), "retired": ("draft",)}
STATUS_VERBS = {"published": N_("Published"), "retired": N_("Retired"), "draft": N_("Back to draft")}

SKILL_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
BRACES_RE = re.compile(r"\{[^{}]*\}|[{}]")
ANSWER_KEYS = {"label", "tried", "hard"}


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
            prompt = Prompt.create(**starter_fields(item), status="published", version=1)
            PromptRevision.create(prompt=prompt, version=1, summary=STARTER_SUMMARY,
                                  data=prompt_data(prompt))
    return len(items)


STARTER_SUMMARY = "Starter library"
UPGRADE_SUMMARY = "Starter library update"


def upgrade_starter_library(path: Path = STARTER_FILE) -> dict[str, int]:
    """Bring the starter prompts of an existing library up to the starter file (``init-db``).

    An empty library is seeded. Otherwise each starter item is matched to the prompt it was loaded
    as (same title, else same theme, skill and age range) among the prompts the starter library
    created; a prompt no admin has touched (every revision written by ``init-db``, none by an
    editor or an import) takes the item's fields as a new revision, and one that no item matches
    any more is retired. Prompts an admin edited, imported or created are never changed. Items
    with no prompt yet are added as published. Idempotent: a second run changes nothing.
    Returns counts ``seeded`` (into an empty library), ``added``, ``updated``, ``retired`` and
    ``kept`` (edited, left alone), and ``translated``: prompts given their translation from
    ``coach/data/translations/`` (only those with none yet: ``translations.load_translation_files``).
    """
    counts = {"seeded": 0, "added": 0, "updated": 0, "retired": 0, "kept": 0, "translated": 0}
    if not path.exists():
        return counts
    if not Prompt.select().exists():
        counts["seeded"] = seed_library_if_empty(path)
        return counts | {"translated": _load_translations(path)}
    items = json.loads(path.read_text(encoding="utf-8"))
    revisions = PromptRevision.select(PromptRevision.prompt, PromptRevision.editor,
                                      PromptRevision.summary).tuples()
    starter, edited = set(), set()
    for prompt_id, editor_id, summary in revisions:
        if editor_id is None and summary.startswith(STARTER_SUMMARY):
            starter.add(prompt_id)
        else:
            edited.add(prompt_id)
    prompts = {p.id: p for p in Prompt.select().where(Prompt.id.in_(list(starter)))} if starter else {}
    by_title = {p.title: p for p in prompts.values()}
    by_key = {(p.theme, p.skill, p.age_min_months, p.age_max_months): p for p in prompts.values()}
    other_titles = {title for (title,) in Prompt.select(Prompt.title).where(
        Prompt.id.not_in(list(prompts) or [0])).tuples()}
    matched: set[int] = set()
    now = utcnow()
    with db.atomic():
        for item in items:
            fields = starter_fields(item) | {"status": "published"}
            key = (item["theme"], item["skill"], item["age_min_months"], item["age_max_months"])
            prompt = by_title.get(item["title"]) or by_key.get(key)
            if prompt is None or prompt.id in matched:
                if item["title"] not in other_titles:  # an admin's prompt of that title wins
                    _create_starter(fields)
                    counts["added"] += 1
                continue
            matched.add(prompt.id)
            if prompt.id in edited:
                counts["kept"] += 1
            elif _starter_update(prompt, fields, now):
                counts["updated"] += 1
        for prompt in prompts.values():
            if prompt.id not in matched and prompt.id not in edited and prompt.status == "published":
                _starter_update(prompt, prompt_data(prompt) | {"status": "retired"}, now,
                                f"{UPGRADE_SUMMARY}: no longer in the starter library")
                counts["retired"] += 1
    return counts | {"translated": _load_translations(path)}


def _load_translations(path: Path) -> int:
    from .translations import load_translation_files  # it builds on this module

    return load_translation_files(starter=path)["added"]


def _create_starter(fields: dict) -> Prompt:
    prompt = Prompt.create(**fields, version=1)
    PromptRevision.create(prompt=prompt, version=1, summary=STARTER_SUMMARY, data=prompt_data(prompt))
    return prompt


def _starter_update(prompt: Prompt, fields: dict, now, summary: str = UPGRADE_SUMMARY) -> bool:
    """Write ``fields`` as a new version by ``init-db`` (no editor); False when nothing changes."""
    old = prompt_data(prompt)
    if fields == old:
        return False
    version = prompt.version + 1
    Prompt.update(**fields, version=version, updated_at=now).where(Prompt.id == prompt.id).execute()
    PromptRevision.create(prompt=prompt.id, version=version, created_at=now, data=fields,
                          summary=f"{summary} · {summarise_change(old, fields)}"[:200])
    return True


def starter_fields(item: dict) -> dict:
    """A starter item's :data:`PROMPT_FIELDS`, the programme's fields filled in when it has none."""
    strand = item.get("strand") or THEME_STRANDS.get(item["theme"], "watching-cues")
    return ({name: item[name] for name in PROMPT_FIELDS if name not in PROGRAMME_FIELDS}
            | {"strand": strand, "moment": item.get("moment") or "any",
               "week": item.get("week") or STRAND_WEEKS[strand], "pairs_with": item.get("pairs_with") or ""})


def fill_child(text: str, child_name: str | None) -> str:
    """Replace the ``{child}`` placeholder with the child's name, or "your child"."""
    return text.replace(PLACEHOLDER, child_name or FALLBACK)


def age_label(age_min: int, age_max: int) -> str:
    """How an age range reads on screens: "6–12 months" or "Any age"."""
    if (age_min, age_max) == ANY_AGE:
        return _("Any age")
    return _("%(low)s–%(high)s months", low=age_min, high=age_max)


# --- the one validation function ----------------------------------------------------------------

def validate_prompt(item: object) -> tuple[dict, dict[str, str]]:
    """Clean one prompt (from the editor, the live check or an import) and list its problems.

    Returns ``(data, problems)``: ``data`` holds :data:`PROMPT_FIELDS` with text stripped;
    ``problems`` maps a field key (``title``, ``answers``, ``answers.2.label`` …) to a sentence
    that names the field. No problems means the prompt may be saved.
    """
    if not isinstance(item, dict):
        return {}, {"prompt": _("Each prompt must be an object with fields like title and body.")}
    problems: dict[str, str] = {}
    data: dict = {"theme": item.get("theme")}
    if data["theme"] not in THEMES:
        problems["theme"] = _("Theme must be one of %(values)s; got %(got)s.", values=", ".join(THEMES),
                              got=_shown(data["theme"]))
    data["skill"] = _skill(item.get("skill"), problems)
    data["age_min_months"], data["age_max_months"] = _age(item, problems)
    for name in TEXT_LIMITS:
        data[name] = _text(name, item.get(name), problems, required=(name != "why"))
    data["answers"] = _answers(item.get("answers"), data["theme"], problems)
    _programme(item, data, problems)
    return data, problems


def _programme(item: dict, data: dict, problems: dict) -> None:
    """Strand, moment, week and paired repair. Missing ones (an older export) are filled from the
    theme; given ones must be right."""
    strand = item.get("strand")
    if strand is None or strand == "":
        strand = THEME_STRANDS.get(data["theme"], "watching-cues")
    elif strand not in STRANDS:
        problems["strand"] = _("Strand must be one of %(values)s; got %(got)s.", values=", ".join(STRANDS),
                               got=_shown(strand))
    data["strand"] = strand
    moment = item.get("moment")
    moment = "any" if moment is None or moment == "" else moment
    if moment not in MOMENTS:
        problems["moment"] = _("Moment must be one of %(values)s; got %(got)s.", values=", ".join(MOMENTS),
                               got=_shown(moment))
    data["moment"] = moment
    expected = STRAND_WEEKS.get(strand)
    week = item.get("week")
    if week is None or week == "":
        week = expected or 1
    if not isinstance(week, int) or isinstance(week, bool) or not 1 <= week <= 6:
        problems["week"] = _("Week must be a whole number from 1 to 6.")
    elif expected is not None and week != expected:
        problems["week"] = _("Week must be %(week)s: the arc teaches %(strand)s in week %(week)s.",
                             week=expected, strand=_(STRAND_NAMES[strand]).lower())
    data["week"] = week
    pairs = item.get("pairs_with")
    pairs = "" if pairs is None else pairs
    if not isinstance(pairs, str):
        problems["pairs_with"] = _("Paired repair must be a skill tag, like name-it.")
        pairs = ""
    pairs = pairs.strip()
    if pairs and not SKILL_RE.match(pairs):
        problems["pairs_with"] = _("Paired repair must be the skill tag of a repair prompt: lowercase "
                                   "words joined by hyphens, like name-it.")
    elif pairs and data["theme"] != "rupture":
        problems["pairs_with"] = _("Only rupture prompts name a paired repair; leave it empty.")
    data["pairs_with"] = pairs


def reading_grades(data: dict) -> dict[str, float | None]:
    """The reading grade of each graded text field (``{child}`` read as "your child")."""
    return {name: reading_grade(data.get(name) or "") if isinstance(data.get(name), str) else None
            for name in GRADED_FIELDS}


def _shown(value: object) -> str:
    """A value quoted for a message (kept short)."""
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return f"“{text[:30]}”" if value not in (None, "") else _("nothing")


def _skill(value: object, problems: dict) -> str:
    if not isinstance(value, str) or not value.strip():
        problems["skill"] = _("Skill can't be empty; use a short tag like name-it.")
        return value if isinstance(value, str) else ""
    value = value.strip()
    if len(value) > SKILL_LIMIT:
        problems["skill"] = _("Skill is %(count)d characters; the limit is %(limit)d.", count=len(value),
                              limit=SKILL_LIMIT)
    elif not SKILL_RE.match(value):
        problems["skill"] = _("Skill must be a short tag in lowercase words joined by hyphens, like name-it.")
    return value


def _age(item: dict, problems: dict) -> tuple[int, int]:
    low, high = item.get("age_min_months"), item.get("age_max_months")
    valid_types = all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high))
    if not valid_types or (low, high) not in AGE_RANGES:
        bands = ", ".join(f"{a}–{b}" for a, b in AGE_BANDS)
        problems["age"] = _("Age range must be one of %(bands)s months, or any age (0–60).", bands=bands)
    return low, high


def text_value(name: str, value: object, problems: dict) -> str | None:
    """A text field stripped ("" when missing), or None after saying it must be text."""
    if value is None:
        return ""
    if not isinstance(value, str):
        problems[name] = _("%(label)s must be text.", label=_(FIELD_LABELS[name]))
        return None
    return value.strip()


def _text(name: str, value: object, problems: dict, required: bool) -> str:
    label = _(FIELD_LABELS[name])
    value = text_value(name, value, problems)
    if value is None:
        return ""
    if not value:
        if required:
            problems[name] = _("%(label)s can't be empty.", label=label)
        return value
    problem = (braces_problem(label, value) or length_problem(label, value, TEXT_LIMITS[name])
               or _grade_problem(label, value))
    if problem:
        problems[name] = problem
    return value


def braces_problem(label: str, text: str) -> str | None:
    leftover = BRACES_RE.findall(text.replace(PLACEHOLDER, ""))
    if not leftover:
        return None
    return _("%(label)s uses “%(found)s”; the only placeholder allowed is %(placeholder)s.", label=label,
             found=leftover[0], placeholder=PLACEHOLDER)


def length_problem(label: str, text: str, limit: int, fallback: str = FALLBACK) -> str | None:
    """Too long as a parent reads it, with ``{child}`` read as ``fallback`` (the language's own)."""
    length = len(text.replace(PLACEHOLDER, fallback))
    if length <= limit:
        return None
    if PLACEHOLDER in text:
        return _("%(label)s is %(count)d characters with %(placeholder)s read as “%(fallback)s”; the limit is "
                 "%(limit)d.", label=label, count=length, placeholder=PLACEHOLDER, fallback=fallback, limit=limit)
    return _("%(label)s is %(count)d characters; the limit is %(limit)d.", label=label, count=length, limit=limit)


def _grade_problem(label: str, text: str) -> str | None:
    grade = reading_grade(text)
    if grade is None or grade <= MAX_GRADE:
        return None
    return _("%(label)s reads at grade %(grade)s; aim for grade %(max)s or below (shorter sentences, "
             "shorter words).", label=label, grade=f"{grade:.1f}", max=f"{MAX_GRADE:.0f}")


def _answers(value: object, theme: object, problems: dict) -> list[dict]:
    if not isinstance(value, list):
        problems["answers"] = _("Answers must be a list of %(min)d to %(max)d choices.", min=MIN_ANSWERS,
                                 max=MAX_ANSWERS)
        return []
    answers = [_answer(index, raw, theme, problems) for index, raw in enumerate(value)]
    if not MIN_ANSWERS <= len(answers) <= MAX_ANSWERS:
        problems["answers"] = _("A prompt needs %(min)d to %(max)d answers; this one has %(count)d.",
                                min=MIN_ANSWERS, max=MAX_ANSWERS, count=len(answers))
        return answers
    tried = [answer.get("tried") for answer in answers]
    labels = [answer.get("label", "").lower() for answer in answers if answer.get("label")]
    if tried.count("not_yet") != 1:
        problems["answers"] = _("Answers need exactly one kind “not today” choice; this prompt has %(count)d.",
                                count=tried.count("not_yet"))
    elif tried.count("no_chance") > 1:
        problems["answers"] = _("Answers may have one “it didn't come up” choice at most; this prompt has "
                                "%(count)d.", count=tried.count("no_chance"))
    elif tried.count("yes") < 1:
        problems["answers"] = _("At least one answer must count as tried.")
    elif len(set(labels)) != len(labels):
        problems["answers"] = _("Two answers have the same label; make each one different.")
    return answers


def _answer(index: int, raw: object, theme: object, problems: dict) -> dict:
    name = _("Answer %(num)s", num=index + 1)
    key = f"answers.{index}"
    if not isinstance(raw, dict):
        problems[key] = _("%(answer)s must be an object with a label and whether it counts as tried.", answer=name)
        return {}
    unknown = sorted(set(raw) - ANSWER_KEYS)
    if unknown:
        problems[key] = _("%(answer)s has a field we don't know: “%(field)s”.", answer=name, field=unknown[0])
    label = raw.get("label")
    label = label.strip() if isinstance(label, str) else ""
    if not label:
        problems[f"{key}.label"] = _("%(answer)s has no label.", answer=name)
    elif len(label) > LABEL_LIMIT:
        problems[f"{key}.label"] = _("%(answer)s's label is %(count)d characters; the limit is %(limit)d.",
                                      answer=name, count=len(label), limit=LABEL_LIMIT)
    elif BRACES_RE.search(label):
        problems[f"{key}.label"] = _("%(answer)s's label can't use braces or placeholders.", answer=name)
    answer = {"label": label, "tried": raw.get("tried")}
    if answer["tried"] not in TRIED_KINDS:
        problems[f"{key}.tried"] = _("%(answer)s must count as tried (“yes”), be the “not today” choice "
                                     "(“not_yet”) or say it didn't come up (“no_chance”).", answer=name)
    hard = raw.get("hard", False)
    if not isinstance(hard, bool):
        problems[f"{key}.hard"] = _("%(answer)s's hard-moment mark must be true or false.", answer=name)
    elif hard and theme != "rupture":
        problems[f"{key}.hard"] = _("%(answer)s is marked as a hard moment, but only rupture prompts can be.",
                                     answer=name)
    elif hard:
        answer["hard"] = True
    return answer


# --- saving -------------------------------------------------------------------------------------

def save_prompt(prompt: Prompt | None, item: dict, editor: User | None, *, status: str | None = None,
                base_version: int | None = None, summary: str | None = None,
                action: str | None = None) -> tuple[Prompt, bool]:
    """Validate and save a prompt as a new revision; create it when ``prompt`` is None.

    Raises AppError 422 (with ``fields``) when a check fails and 409 when ``base_version`` is not
    the current version (someone else saved first). Returns ``(prompt, changed)``; an edit that
    changes nothing writes nothing.
    """
    data, problems = validate_prompt(item)
    if status is not None and status not in PROMPT_STATUSES:
        problems["status"] = _("Status must be one of %(values)s.", values=", ".join(PROMPT_STATUSES))
    if problems:
        raise AppError(422, N_("The prompt wasn't saved: some checks need another look."),
                       code="prompt_invalid", fields=problems)
    with db.atomic():
        if prompt is None:
            return _create(data, status or "draft", editor, summary, action), True
        old = prompt_data(prompt)
        new = data | {"status": status or prompt.status}
        if new == old:
            return prompt, False
        expected = prompt.version if base_version is None else base_version
        version = prompt.version + 1
        now = utcnow()
        updated = (Prompt.update(**new, version=version, updated_at=now)
                   .where(Prompt.id == prompt.id, Prompt.version == expected).execute())
        if updated != 1:
            raise AppError(409, N_("Someone else saved this prompt since you opened it. Reload to see "
                                   "their changes, then make yours again."), code="prompt_conflict")
        summary = summary or summarise_change(old, new)
        PromptRevision.create(prompt=prompt, version=version, editor=editor, created_at=now,
                              summary=summary[:200], data=new | _translations_kept(prompt.id))
        audit(action or "prompt_update", "prompt", prompt.id, actor=editor, version=version,
              summary=summary[:200])
        return Prompt.get_by_id(prompt.id), True


def _translations_kept(prompt_id: int) -> dict:
    """``{"translations": …}`` when the prompt has any, so each revision holds the words it sent."""
    from .translations import translations_of  # it builds on this module

    found = translations_of(prompt_id)
    return {"translations": found} if found else {}


def _create(data: dict, status: str, editor: User | None, summary: str | None,
            action: str | None) -> Prompt:
    prompt = Prompt.create(**data, status=status, version=1)
    summary = summary or "Created"
    PromptRevision.create(prompt=prompt, version=1, editor=editor, summary=summary,
                          data=prompt_data(prompt))
    audit(action or "prompt_create", "prompt", prompt.id, actor=editor, version=1, summary=summary)
    return prompt


def summarise_change(old: dict, new: dict) -> str:
    """A short human line for a revision: "Changed title, body · status draft → published"."""
    names = []
    for name in ("theme", "skill", "age", "title", "body", "question", "answers", "why",
                 *PROGRAMME_FIELDS):
        keys = ("age_min_months", "age_max_months") if name == "age" else (name,)
        if any(old.get(key) != new.get(key) for key in keys):
            names.append("why it matters" if name == "why" else FIELD_LABELS[name].lower())
    parts = [f"Changed {', '.join(names)}"] if names else []
    if old.get("status") != new.get("status"):
        parts.append(f"status {old.get('status')} → {new.get('status')}")
    return " · ".join(parts) or "No change"


def set_status(prompt: Prompt, status: str, editor: User | None) -> Prompt:
    """Move a prompt along draft → published → retired (or retired → draft); a new revision."""
    allowed = TRANSITIONS.get(prompt.status, ())
    if status not in PROMPT_STATUSES:
        raise AppError(422, N_("Choose draft, published or retired."), code="status_invalid",
                       fields={"status": N_("Choose draft, published or retired.")})
    if status not in allowed:
        raise AppError(409, _("A %(status)s prompt can't become %(new)s; it can only become %(allowed)s.",
                              status=prompt.status, new=status, allowed=_(" or ").join(allowed)),
                       code="status_transition")
    item = {name: getattr(prompt, name) for name in PROMPT_FIELDS}
    saved, _changed = save_prompt(prompt, item, editor, status=status, summary=STATUS_VERBS[status],
                           action="prompt_status")
    return saved


def restore_revision(prompt: Prompt, version: int, editor: User | None,
                     base_version: int | None = None) -> Prompt:
    """Bring back an earlier version's text as a new revision (the status stays as it is)."""
    revision = PromptRevision.get_or_none(PromptRevision.prompt == prompt,
                                          PromptRevision.version == version)
    if revision is None:
        raise AppError(404, _("This prompt has no version %(num)s.", num=version), code="revision_not_found")
    # A revision saved before strands existed keeps the prompt's programme fields as they are.
    item = {name: revision.data.get(name, getattr(prompt, name)) for name in PROMPT_FIELDS}
    try:
        saved, changed = save_prompt(prompt, item, editor, base_version=base_version,
                                     summary=f"Restored version {version}", action="prompt_restore")
    except AppError as error:
        if error.status != 422:
            raise
        first = next(iter(error.fields.values()))
        raise AppError(422, _("Version %(num)s doesn't pass today's checks, so it can't be restored as it is: "
                              "%(problem)s", num=version, problem=first), code="restore_invalid") from None
    if not changed:
        raise AppError(409, _("The prompt already reads like version %(num)s; nothing to restore.", num=version),
                       code="restore_unchanged")
    return saved


# --- revision diffs -----------------------------------------------------------------------------

TOKEN_RE = re.compile(r"\s+|\w+|[^\w\s]")


@dataclass
class FieldChange:
    """One field's change between two revisions, with the word diff as safe markup."""

    label: str
    old: str
    new: str
    markup: Markup


def display_value(name: str, data: dict) -> str:
    """A field of a revision as text for the diff view."""
    if name == "age":
        return age_label(data.get("age_min_months"), data.get("age_max_months"))
    if name == "answers":
        lines = []
        for answer in data.get("answers") or []:
            kind = {"yes": _("counts as tried"), "no_chance": _("didn’t come up")}.get(answer.get("tried"),
                                                                                   _("not today"))
            hard = _(", hard moment") if answer.get("hard") else ""
            lines.append(f"{answer.get('label', '')} ({kind}{hard})")
        return "\n".join(lines)
    value = data.get(name)
    return "" if value is None else str(value)


def word_diff(old: str, new: str) -> Markup:
    """Word-level diff: each piece is escaped first, then wrapped in ``<del>``/``<ins>``."""
    a, b = TOKEN_RE.findall(old), TOKEN_RE.findall(new)
    parts: list[Markup] = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(escape("".join(a[i1:i2])))
            continue
        if i2 > i1:
            parts.append(Markup("<del>%s</del>") % "".join(a[i1:i2]))
        if j2 > j1:
            parts.append(Markup("<ins>%s</ins>") % "".join(b[j1:j2]))
    return Markup("").join(parts)


def revision_diff(old: dict | None, new: dict) -> list[FieldChange]:
    """Field-by-field changes from ``old`` to ``new`` (every field when ``old`` is None)."""
    changes = []
    for name in ("status", "theme", "skill", "age", "title", "body", "question", "answers", "why",
                 *PROGRAMME_FIELDS):
        before = display_value(name, old) if old is not None else ""
        after = display_value(name, new)
        if old is None or before != after:
            label = "Why it matters" if name == "why" else FIELD_LABELS[name]
            changes.append(FieldChange(label, before, after, word_diff(before, after)))
    return changes
