"""Escaping values for Markdown that lands on a pull request or in a committed report.

Everything a record, a suite or a machine supplies (cell labels, error texts, CPU models,
suite names) may hold text meant to be read as markup — ``</details><img src=…>`` in an
error would render in a PR comment. :func:`escape` makes any value literal text inside a
table cell or a line: HTML special characters become entities, Markdown's inline markup
characters are backslash-escaped, pipes cannot split a cell and newlines cannot end one.
"""

from __future__ import annotations

import html
import re
from typing import Any

_MARKUP = re.compile(r"([\\`*_\[\]|~])")


def escape(value: Any) -> str:
    """``value`` as literal Markdown text (one line, safe in a table cell)."""
    text = html.escape(str(value), quote=False)  # quotes only matter inside HTML attributes
    text = _MARKUP.sub(r"\\\1", text)
    return " ".join(text.splitlines())
