"""Line numbers of keys in a TOML text (``tomllib`` does not report them).

:func:`key_lines` scans the text once and maps every key path to the line
where it is defined, so validation messages can say ``project.toml:12``.
A path is a tuple of keys and array indices, e.g. ``("scenario", 1,
"grouping", "gap")`` for ``gap`` in the second ``[[scenario]]`` block. The
scanner understands table headers, arrays of tables, dotted keys, inline
tables (one level of nesting per line) and skips multi-line strings; it never
raises -- an unknown construct simply has no line.
"""

from __future__ import annotations

import re

__all__ = ["key_lines", "line_of"]

Path_ = tuple[str | int, ...]

_BARE = r"[A-Za-z0-9_-]+"
_KEY = rf'(?:{_BARE}|"(?:[^"\\]|\\.)*"|\'[^\']*\')'
_DOTTED = rf"{_KEY}(?:\s*\.\s*{_KEY})*"
_ASSIGN = re.compile(rf"^\s*({_DOTTED})\s*=")
_HEADER = re.compile(rf"^\s*\[\s*({_DOTTED})\s*\]\s*(?:#.*)?$")
_AHEADER = re.compile(rf"^\s*\[\[\s*({_DOTTED})\s*\]\]\s*(?:#.*)?$")
_PART = re.compile(_KEY)


def _split(dotted: str) -> list[str]:
    parts = []
    for m in _PART.finditer(dotted):
        tok = m.group(0)
        if tok[0] in "\"'":
            tok = tok[1:-1]
        parts.append(tok)
    return parts


def _resolve(keys: list[str], arrays: dict[tuple[str, ...], int]) -> list[str | int]:
    """Insert the current index after every prefix that is an array of tables."""
    out: list[str | int] = []
    plain: list[str] = []
    for k in keys:
        out.append(k)
        plain.append(k)
        idx = arrays.get(tuple(plain))
        if idx is not None:
            out.append(idx)
    return out


def _inline_keys(text: str, prefix: tuple[str | int, ...], line: int, found: dict[Path_, int]) -> None:
    """Record the keys of an inline table ``{ a = 1, b = { c = 2 } }``."""
    depth_prefix: list[tuple[str | int, ...] | None] = []
    i = 0
    pending: tuple[str | int, ...] | None = prefix
    in_str: str | None = None
    token_start = True
    while i < len(text):
        ch = text[i]
        if in_str:
            if ch == "\\" and in_str == '"':
                i += 2
                continue
            if ch == in_str:
                in_str = None
            i += 1
            continue
        if ch == "{":
            depth_prefix.append(pending)
            pending = None
            token_start = True
            i += 1
            continue
        if ch == "}":
            if depth_prefix:
                depth_prefix.pop()
            i += 1
            continue
        if ch == ",":
            token_start = True
            i += 1
            continue
        if ch in "\"'" and not token_start:
            in_str = ch
            i += 1
            continue
        if token_start and not ch.isspace():
            m = _ASSIGN.match(text[i:])
            if m and depth_prefix and depth_prefix[-1] is not None:
                path = depth_prefix[-1] + tuple(_split(m.group(1)))
                found.setdefault(path, line)
                pending = path
                i += m.end()
                token_start = False
                continue
            token_start = False
            if ch in "\"'":
                in_str = ch
                i += 1
                continue
        if ch == "[":
            pending = None
        i += 1


def key_lines(text: str) -> dict[Path_, int]:
    """Map each key path of a TOML ``text`` to its 1-based line number.

    Examples
    --------
    >>> t = '[project]\\nname = "x"\\n[[scenario]]\\nname = "a"\\n[[scenario]]\\nname = "b"\\n'
    >>> lines = key_lines(t)
    >>> lines[("project", "name")], lines[("scenario", 1, "name")], lines[("scenario", 1)]
    (2, 6, 5)
    """
    found: dict[Path_, int] = {}
    arrays: dict[tuple[str, ...], int] = {}
    table: tuple[str | int, ...] = ()
    in_multi: str | None = None
    for lineno, line in enumerate(text.splitlines(), start=1):
        if in_multi:
            if in_multi in line:
                in_multi = None
            continue
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        m = _AHEADER.match(line)
        if m:
            keys = _split(m.group(1))
            arrays[tuple(keys)] = arrays.get(tuple(keys), -1) + 1
            # reset nested arrays below this one
            for k in [k for k in arrays if len(k) > len(keys) and k[: len(keys)] == tuple(keys)]:
                del arrays[k]
            table = tuple(_resolve(keys, arrays))
            found.setdefault(table, lineno)
            found.setdefault(table[:-1], lineno)
            continue
        m = _HEADER.match(line)
        if m:
            table = tuple(_resolve(_split(m.group(1)), arrays))
            found.setdefault(table, lineno)
            continue
        m = _ASSIGN.match(line)
        if m:
            path = table + tuple(_split(m.group(1)))
            found.setdefault(path, lineno)
            rest = line[m.end():]
            for quote in ('"""', "'''"):
                if rest.count(quote) == 1:
                    in_multi = quote
            if "{" in rest:
                _inline_keys(rest, path, lineno, found)
    return found


def line_of(lines: dict[Path_, int], path: Path_) -> int | None:
    """Line of ``path``, else of its closest defined parent, else ``None``."""
    p = tuple(path)
    while p:
        if p in lines:
            return lines[p]
        p = p[:-1]
    return None
