"""Static CSS and JavaScript as a phone gets them: without comments, indentation or blank lines.

The files in ``static/`` stay hand-written and commented (no build step); this trims them as they
are served, once per file version, so a first visit on a slow phone fetches about 8 KB less. The
rules are deliberately line-based and conservative:

- CSS: every ``/* … */`` comment goes (no stylesheet here has ``/*`` inside a string); each line is
  stripped and empty lines dropped.
- JavaScript: whole-line ``//`` comments and block comments that start a line go; a comment after
  code on the same line stays (``"https://…"`` in a string looks the same); leading indentation
  goes, except inside a template literal that spans lines, which is kept byte for byte.

HTML templates get the same treatment once, when Jinja compiles them (:class:`CompactHtml`): each
line of template source loses its indentation and blank lines go, and a line holding only a
``{% … %}`` or ``{# … #}`` leaves no blank line behind, except between ``<textarea>`` or ``<pre>``
and their end tag, where white space is content. What a user typed is never touched:
only the template's own text is trimmed, before anything is rendered into it.

Everything else (``/static/icons/…``) is served by Flask as usual. ``ETag`` is a hash of what is
sent, and ``Cache-Control: no-cache`` keeps revalidation cheap (304), as Flask does for the rest.

Pages ask ``url_for`` for the same dozen addresses on every request (stylesheets, scripts, the
navigation); :func:`remember_urls` keeps the ones already built, so a page pays Werkzeug's URL
building once per address per process rather than a dozen times per request.
"""
from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path

from flask import Flask, Response, has_request_context, request, send_from_directory
from jinja2.ext import Extension
from werkzeug.security import safe_join

_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
MIMETYPES = {".css": "text/css", ".js": "text/javascript"}


def compact_css(text: str) -> str:
    """``text`` without comments, indentation or blank lines."""
    lines = (line.strip() for line in _CSS_COMMENT.sub("", text).splitlines())
    return "\n".join(line for line in lines if line) + "\n"


def compact_js(text: str) -> str:
    """``text`` without whole-line comments, indentation or blank lines (see the module notes)."""
    out: list[str] = []
    in_template = in_comment = False
    for line in text.splitlines():
        if in_template:
            out.append(line)
            in_template = line.count("`") % 2 == 0  # an odd count closes the literal
            continue
        stripped = line.strip()
        if in_comment:
            if "*/" not in stripped:
                continue
            in_comment = False
            stripped = stripped.split("*/", 1)[1].strip()
        elif stripped.startswith("/*"):
            if "*/" not in stripped[2:]:
                in_comment = True
                continue
            stripped = stripped[2:].split("*/", 1)[1].strip()
        if not stripped or stripped.startswith("//"):
            continue
        out.append(stripped)
        in_template = stripped.count("`") % 2 == 1
    return "\n".join(out) + "\n"


_VERBATIM_OPEN = re.compile(r"<(textarea|pre)\b", re.I)


_TAG_LINE = re.compile(r"(\{%|\{#)(?![-+]).*(%\}|#\})")


def _trim_before_tag(line: str) -> str:
    """A line that is only a Jinja statement or comment renders as nothing, so it also takes the
    line break before it (``{%-``): no blank line is left where it stood, and the break after it
    still separates what comes before from what comes after."""
    return line[:2] + "-" + line[2:] if _TAG_LINE.fullmatch(line) else line


def compact_html(source: str) -> str:
    """Template ``source`` without indentation or blank lines, keeping ``<textarea>``/``<pre>``
    content byte for byte (see the module notes)."""
    out: list[str] = []
    verbatim: str | None = None  # the tag whose content is being kept as written
    for line in source.splitlines():
        if verbatim:
            out.append(line)
        elif line.strip():
            out.append(_trim_before_tag(line.strip()))
        else:
            continue
        rest = line
        while True:  # follow opening and closing tags along the line
            if verbatim:
                end = rest.lower().find(f"</{verbatim}")
                if end < 0:
                    break
                rest, verbatim = rest[end + 2:], None
            else:
                match = _VERBATIM_OPEN.search(rest)
                if not match:
                    break
                rest, verbatim = rest[match.end():], match.group(1).lower()
    return "\n".join(out) + "\n"


class CompactHtml(Extension):
    """Jinja extension: ``.html`` templates compiled without their indentation."""

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        return compact_html(source) if name and name.endswith(".html") else source


@lru_cache(maxsize=64)
def _compacted(path: str, mtime_ns: int, size: int) -> tuple[bytes, str]:
    """The trimmed file and its ETag, rebuilt when the file changes (``mtime_ns``, ``size``)."""
    text = Path(path).read_text(encoding="utf-8")
    body = (compact_css(text) if path.endswith(".css") else compact_js(text)).encode()
    return body, hashlib.sha256(body).hexdigest()[:20]


#: Addresses kept per process (a page has a dozen; check-in pages one more per delivery).
URLS_KEPT = 4096


def remember_urls(app: Flask) -> None:
    """``url_for`` that builds each in-site address once per process and then returns it as built.

    Only plain relative addresses inside a request are kept: a relative endpoint (``.checkin``,
    which depends on the current blueprint), ``_external``, ``_scheme``, ``_anchor``, ``_method``,
    values that can't be a key, host or subdomain routing and ``url_defaults`` functions (none are
    used here) all go to Flask every time. The key holds the application root the server gives
    (``SCRIPT_NAME``), so an app mounted under a prefix gets its own addresses.
    """
    build = app.url_for
    kept: dict[tuple, str] = {}
    plain = not (app.url_map.host_matching or app.subdomain_matching or app.config.get("SERVER_NAME"))

    def url_for(endpoint: str, *, _anchor=None, _method=None, _scheme=None, _external=None, **values) -> str:
        if (not plain or _anchor or _method or _scheme or _external or endpoint.startswith(".")
                or not has_request_context() or any(app.url_default_functions.values())):
            return build(endpoint, _anchor=_anchor, _method=_method, _scheme=_scheme, _external=_external,
                         **values)
        try:
            key = (endpoint, request.root_path, *sorted(values.items()))
            url = kept.get(key)
        except TypeError:  # a value that can't be a key (a list of query arguments)
            return build(endpoint, **values)
        if url is None:
            url = build(endpoint, **values)
            if len(kept) >= URLS_KEPT:
                kept.clear()
            kept[key] = url
        return url

    app.url_for = url_for
    app.jinja_env.globals["url_for"] = url_for


def init_app(app: Flask) -> None:
    """Serve ``/static/*.css`` and ``*.js`` trimmed; every other static file as Flask would;
    compile HTML templates without their indentation; and keep built addresses (:func:`remember_urls`)."""
    app.jinja_env.add_extension(CompactHtml)
    remember_urls(app)
    folder = app.static_folder

    def static(filename: str):
        suffix = Path(filename).suffix
        path = safe_join(folder, filename)
        if suffix not in MIMETYPES or path is None or not Path(path).is_file():
            return send_from_directory(folder, filename, max_age=app.get_send_file_max_age(filename))
        stat = Path(path).stat()
        body, etag = _compacted(path, stat.st_mtime_ns, stat.st_size)
        response = Response(body, mimetype=MIMETYPES[suffix])
        response.set_etag(etag)
        response.headers["Cache-Control"] = "no-cache"
        return response.make_conditional(request)

    app.view_functions["static"] = static
