"""Static CSS and JavaScript are served without comments or indentation, still correct and cacheable
(coach/assets.py); other static files are served as they are."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from coach.assets import compact_css, compact_js

STATIC = Path(__file__).resolve().parent.parent / "static"


def test_css_loses_comments_indentation_and_blank_lines():
    source = "/* head */\n.a {\n  color: red; /* why */\n}\n\n@media (x) {\n  .b { content: \"\"; }\n}\n"
    assert compact_css(source) == ".a {\ncolor: red;\n}\n@media (x) {\n.b { content: \"\"; }\n}\n"


def test_js_keeps_code_strings_and_multi_line_template_literals():
    source = (
        "/* A header\n   over two lines. */\n\"use strict\";\n"
        "// a whole-line comment\n"
        "function f() {\n    const url = \"https://example.org/a\"; // kept: it follows code\n"
        "    /** a doc comment */\n    return `first\n    second  ${url}\n  third`;\n}\n"
        "const glob = \"*/*\";\n"
    )
    assert compact_js(source) == (
        "\"use strict\";\nfunction f() {\nconst url = \"https://example.org/a\"; // kept: it follows code\n"
        "return `first\n    second  ${url}\n  third`;\n}\nconst glob = \"*/*\";\n")


def test_a_block_comment_before_code_on_its_closing_line_keeps_the_code():
    assert compact_js("/* one\n two */ const a = 1;\n/* x */ let b;\n") == "const a = 1;\nlet b;\n"


@pytest.mark.parametrize("name", sorted(p.relative_to(STATIC).as_posix() for p in STATIC.rglob("*")
                                        if p.suffix in (".js", ".css")))
def test_every_served_file_is_smaller_and_keeps_every_statement(client, name):
    response = client.get(f"/static/{name}")
    assert response.status_code == 200
    served = response.get_data(as_text=True)
    source = (STATIC / name).read_text(encoding="utf-8")
    assert 0 < len(served) < len(source)
    # Every line of code survives, word for word: only comments and whitespace went.
    comments = r"/\*.*?\*/" if name.endswith(".css") else r"^\s*/\*.*?\*/"  # JS: those starting a line
    without_comments = re.sub(comments, "", source, flags=re.S | re.M)
    code_lines = [line.strip() for line in without_comments.splitlines()
                  if line.strip() and not line.strip().startswith("//")]
    assert [line for line in code_lines if line not in served] == []
    assert response.headers["Content-Type"].startswith("text/css" if name.endswith(".css") else "text/javascript")


def test_served_files_revalidate_cheaply(client):
    first = client.get("/static/js/app.js")
    assert first.headers["Cache-Control"] == "no-cache" and first.headers["ETag"]
    again = client.get("/static/js/app.js", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""


@pytest.mark.parametrize(("path", "status"), [("/static/js/missing.js", 404), ("/static/../coach/config.py", 404),
                                              ("/static/icons/icon-192.png", 200), ("/static/%2e%2e/README.md", 404)])
def test_other_static_paths_are_served_or_refused_as_before(client, path, status):
    assert client.get(path).status_code == status


def test_the_service_worker_is_trimmed_too(client):
    worker = client.get("/sw.js").get_data(as_text=True)
    assert "Attune service worker" not in worker and 'importScripts("/static/js/outbox.js");' in worker
