"""How many records a text file holds, counted a second way: from its lines, without the CSV reader.

The run compares this count with the rows the reader yielded, so that a reader that glues rows together,
skips one or stops early cannot pass unnoticed. The rules are those the reader promises, written again as a
plain scan of characters (no csv module, nothing shared with the reader but the decoded lines):

- a line ends at LF (or CRLF); in a file without any LF, at CR; a CR alone inside a line is a character;
  NUL is no character at all (the reader removes it);
- a record is one line, unless a field opens with a quote and the line ends before the quote closes: then
  the record runs on to the line where it does close;
- such a record stands only if every quote closes where a value can end (before the delimiter or the line's
  end), it closes before the file ends, it spans fewer than ``MAX_QUOTED_LINES`` lines and it has the
  header's number of fields; otherwise its first line is a record of its own and counting resumes on the
  next line;
- a record that holds nothing but spaces, quotes and the delimiters between its fields is blank and not
  counted.
"""

from __future__ import annotations

import re
from functools import cache

MAX_QUOTED_LINES = 1_000  # a quoted value spanning more lines is taken for a quote that never closes

_START, _FIELD, _QUOTED, _CLOSED = range(4)


def count_records(lines: list[str], delimiter: str, after: int, width: int) -> int:
    """Records on the lines after line index ``after`` (the header's last line), blank ones left out."""
    count = 0
    i = after + 1
    n = len(lines)
    complete = _complete(delimiter)
    if any("\0" in line for line in lines):
        lines = [line.replace("\0", "") for line in lines]
    while i < n:
        line = lines[i]
        if '"' not in line:
            count += not _blank(line, delimiter)
            i += 1
            continue
        if complete.fullmatch(line):  # one line holding a whole record, its quotes all closed
            blank = _blank(line, delimiter)
            if not blank or '"' not in line.replace('""', ""):  # (a quoted delimiter is no blank: scan it)
                count += not blank
                i += 1
                continue
        last, fields, content = _scan(lines, i, delimiter)
        if last is None or (last > i and (fields != width or last - i >= MAX_QUOTED_LINES)):
            last, content = i, not _blank(line, delimiter)  # the line on its own, its quotes as characters
        count += content
        i = last + 1
    return count


@cache
def _complete(delimiter: str) -> re.Pattern:
    """A line that is a whole record: every field either quoted (quotes inside doubled) and closed before the
    delimiter or the end, or not starting with a quote."""
    d = re.escape(delimiter)
    field = f'(?:"(?:[^"]|"")*"|(?!")[^{d}\r\n]*)'
    return re.compile(f"{field}(?:{d}{field})*(?:\r\n|\n|\r)?", re.S)


def _blank(text: str, delimiter: str) -> bool:
    inner = text.strip(f' \t\r\n"{delimiter}')
    if inner and not inner[0].isspace():  # the first character that is no space, quote or delimiter
        return False
    return not inner.replace(delimiter, "").replace('"', "").strip()


def _body(line: str) -> str:
    """The line without its line end."""
    if line.endswith("\r\n"):
        return line[:-2]
    if line.endswith(("\n", "\r")):
        return line[:-1]
    return line


def _scan(lines: list[str], start: int, delimiter: str) -> tuple[int | None, int, bool]:
    """(index of the record's last line, its number of fields, whether it holds anything but spaces and
    quotes); None as the last line when a quote closes in the middle of a value or never closes."""
    state, fields, content = _START, 1, False
    for j in range(start, len(lines)):
        body = _body(lines[j])
        k, size = 0, len(body)
        while k < size:
            c = body[k]
            if state == _QUOTED:
                if c != '"':  # on to the next quote of the line
                    q = body.find('"', k)
                    q = size if q < 0 else q
                    content = content or bool(body[k:q].strip())
                    k = q
                    continue
                if k + 1 < size and body[k + 1] == '"':  # a doubled quote is one quote character
                    k += 2
                    continue
                if k + 1 < size and body[k + 1] != delimiter:
                    return None, fields, content  # the quote closes in the middle of a value
                state = _CLOSED
            elif c == delimiter:
                fields += 1
                state = _START
            elif state == _START and c == '"':
                state = _QUOTED
            else:
                content = content or not (c.isspace() or c == '"')
                state = _FIELD
            k += 1
        if state != _QUOTED:
            return j, fields, content
    return None, fields, content
