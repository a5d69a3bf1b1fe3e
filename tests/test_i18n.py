"""The catalogues (coach/translations, docs/translations.md): every string is marked, extracted,
translated and compiled.

- The committed ``messages.pot`` is what ``pybabel extract`` finds now (a string marked or changed
  without re-extracting fails), and every language's ``.po`` has exactly its strings.
- No Spanish string is empty or fuzzy, keeps its placeholders, and the committed ``.mo`` says the
  same as the ``.po`` (it is committed, so a clean clone needs no compile step).
- Templates in TRANSLATED_TEMPLATES show no text outside ``_()``/``{% trans %}``: every screen's
  folder is listed (the admin pages since issue 15's last part).
- The scripts' ``t("…")``/``say("…")`` sentences are all in coach/js_words.py.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from jinja2 import Environment
from jinja2.lexer import TOKEN_DATA

from coach import js_words
from coach.i18n import TRANSLATIONS
from coach.models import LANGUAGES

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
#: Template folders (and files) whose every visible word must be marked for translation.
TRANSLATED_TEMPLATES = ("base.html", "_partials", "parent", "auth", "help", "errors", "pwa", "worker", "admin")
#: Words that are the same in every language (the product's name, symbols).
UNTRANSLATED_WORDS = {"Attune"}
#: Attributes a person reads or hears.
VISIBLE_ATTRIBUTES = {"aria-label", "title", "placeholder", "alt"}
KEYWORDS = DEFAULT_KEYWORDS | {"_l": None, "N_": None}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")


def catalogue(language: str):
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", "rb") as file:
        return read_po(file, locale=language)


def extracted_ids() -> set:
    """What ``pybabel extract -F coach/translations/babel.cfg -k _l -k N_`` finds now."""
    with open(TRANSLATIONS / "babel.cfg") as file:
        method_map, options_map = parse_mapping_cfg(file)
    ids = set()
    for folder in ("coach", "templates"):
        for _filename, _lineno, message, _comments, _context in extract_from_dir(
                ROOT / folder, method_map, options_map, keywords=KEYWORDS):
            ids.add(message)
    return ids


def test_the_template_catalogue_is_what_extraction_finds():
    with open(TRANSLATIONS / "messages.pot", "rb") as file:
        pot = {message.id for message in read_po(file) if message.id}
    found = extracted_ids()
    assert found - pot == set(), "marked but not in messages.pot: run pybabel extract (docs/translations.md)"
    assert pot - found == set(), "in messages.pot but no longer marked: run pybabel extract"
    for language in LANGUAGES[1:]:
        ids = {message.id for message in catalogue(language) if message.id}
        assert ids == pot, f"{language}: run pybabel update (docs/translations.md)"


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_every_string_is_translated_and_keeps_its_placeholders(language):
    problems = []
    for message in catalogue(language):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            problems.append(f"fuzzy: {ids[0]!r}")
        if not all(strings):
            problems.append(f"untranslated: {ids[0]!r}")
            continue
        wanted = set(PLACEHOLDER.findall(ids[-1])) | set(PLACEHOLDER.findall(ids[0]))
        for text in strings:
            # A plural's "one" form may say the number in words ("una vez") instead of %(num)d.
            if set(PLACEHOLDER.findall(text)) - wanted or (wanted - {"%(num)d"}) - set(PLACEHOLDER.findall(text)):
                problems.append(f"placeholders differ: {ids[0]!r} → {text!r}")
    assert problems == []


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_the_committed_mo_matches_the_po(language):
    folder = TRANSLATIONS / language / "LC_MESSAGES"
    def plain(value):
        return tuple(value) if isinstance(value, list | tuple) else value

    with open(folder / "messages.mo", "rb") as file:
        compiled = {plain(m.id): plain(m.string) for m in read_mo(file) if m.id}
    written = {plain(m.id): plain(m.string) for m in catalogue(language) if m.id}
    stale = sorted(str(key) for key in written if compiled.get(key) != written[key])
    assert stale == [], "run pybabel compile -d coach/translations (docs/translations.md)"


class _Text(HTMLParser):
    """Text nodes and visible attribute values of a template with its Jinja parts blanked out."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        self.found += [value for name, value in attrs if name in VISIBLE_ATTRIBUTES and value]

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)

    def handle_data(self, data):
        if not self.skip:
            self.found.append(data)


#: Blocks that fill in a class name, not text.
CLASS_BLOCKS = re.compile(r"\{%-? block (body_class|main_class) -?%\}.*?\{%-? endblock -?%\}", re.S)


def bare_words(source: str) -> list[str]:
    """The words a template shows that aren't inside ``{{ … }}``, ``{% … %}`` or a trans block."""
    env = Environment(extensions=["jinja2.ext.i18n"])
    parts, in_trans, after_begin = [], False, False
    for _line, kind, value in env.lex(CLASS_BLOCKS.sub("", source)):
        if kind == "name" and after_begin and value in ("trans", "pluralize", "endtrans"):
            in_trans = value != "endtrans"
        if kind != "whitespace":
            after_begin = kind == "block_begin"
        parts.append(value if kind == TOKEN_DATA and not in_trans else " \x00 ")
    html = "".join(parts).replace("< \x00 ", "<x-jinja ").replace("</ \x00 ", "</x-jinja ")
    parser = _Text()
    parser.feed(html)
    words = []
    for text in parser.found:
        for word in re.findall(r"[A-Za-zÀ-ÿ]{2,}", text.replace("\x00", " ")):
            if word not in UNTRANSLATED_WORDS:
                words.append(word)
    return words


def translated_templates() -> list[Path]:
    paths = []
    for name in TRANSLATED_TEMPLATES:
        path = TEMPLATES / name
        paths += [path] if path.is_file() else sorted(path.rglob("*.html"))
    return paths


@pytest.mark.parametrize("path", translated_templates(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_templates_show_no_unmarked_text(path):
    assert bare_words(path.read_text(encoding="utf-8")) == []


def test_the_unmarked_text_check_finds_bare_words():
    assert bare_words('<p>{{ _("Hello") }}</p><button aria-label="Close it">×</button>') == ["Close", "it"]
    assert bare_words("<h1>Welcome {{ name }}</h1>") == ["Welcome"]
    assert bare_words('<h1>{% trans %}Welcome{% endtrans %} Attune</h1><script>let x = "a b";</script>') == []


def test_the_scripts_words_are_all_in_the_catalogue():
    static = ROOT / "static"
    page = set()
    for path in sorted((static / "js").glob("*.js")):
        page |= set(re.findall(r'\bt\("((?:[^"\\]|\\.)*)"', path.read_text(encoding="utf-8")))
    worker = set(re.findall(r'\bsay\("((?:[^"\\]|\\.)*)"', (static / "sw.js").read_text(encoding="utf-8")))
    worker |= set(re.findall(r'const FALLBACK_BODY = "([^"]+)"', (static / "sw.js").read_text(encoding="utf-8")))
    assert page and page - set(js_words.PAGE_WORDS) == set()
    assert worker and worker - set(js_words.WORKER_WORDS) == set()


def test_compacted_templates_ask_for_the_strings_that_were_extracted():
    """Templates are compiled without their indentation (coach/assets.CompactHtml) but extracted
    from the source: a ``_("…")`` literal broken over lines would be looked up with different
    spaces than the catalogue holds. Extracting both versions must give the same strings."""
    from io import BytesIO

    from babel.messages.extract import extract

    from coach.assets import compact_html

    def ids(source: str) -> list:
        found = extract("jinja2", BytesIO(source.encode()), keywords=KEYWORDS, options={"trimmed": "true"})
        return [message for _lineno, message, _comments, _context in found]

    for path in sorted(TEMPLATES.rglob("*.html")):
        source = path.read_text(encoding="utf-8")
        assert ids(compact_html(source)) == ids(source), path
