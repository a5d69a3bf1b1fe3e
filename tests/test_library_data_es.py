"""The library in Spanish (coach/data/translations/es/<band>.json): every published prompt of
prompts.json has its Spanish, and each passes the Spanish rules (CONTENT.md "Safety in the words":
the English lengths with {child} read as "tu peque", {child} kept, the English number of answers,
Fernández-Huerta reading ease of 80 or more). The check is the library's own, the one the admin
editor, init-db and tools/check_spanish.py use; tests/test_spanish_library.py shows it failing and
passing on small fixture files."""
from coach.services.programme.translations import check_translation_files


def test_every_published_prompt_has_spanish_that_follows_the_rules():
    results = check_translation_files()
    problems = [problem for result in results for problem in result.problems]
    missing = [f"{result.band} {skill}" for result in results for skill in result.missing]
    assert not problems, f"{len(problems)} Spanish problems, first: {problems[:10]}"
    assert not missing, f"{len(missing)} published prompts have no Spanish, first: {missing[:10]}"
