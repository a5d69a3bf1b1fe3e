"""The admin area: the prompt library, people and caseloads, support resources and the audit log.

``views.py`` holds the overview and imports the other modules, whose routes join the one ``admin``
blueprint defined in ``blueprint.py``: ``prompts.py`` (library list and editor), ``library_files.py``
(import and export), ``translations.py`` (a prompt in Spanish), ``people.py``, ``resources.py`` and ``audit.py``.
"""
