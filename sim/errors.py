"""User-facing errors.

Everything a user can get wrong (a scenario file, a lever value, a population, a path) is
reported as one :class:`UserInputError` whose message names the file, the key and what is
allowed. The CLI prints that one line and exits with status 2; nothing else in the package
should print tracebacks at a user.
"""

from __future__ import annotations

import unicodedata


def printable(text: str) -> str:
    """``text`` with control characters escaped (``\\x1b``, ``\\n``), safe to print on a terminal.

    A scenario name or file name can hold escape sequences; printed raw they would move the
    cursor, recolour or clear the user's terminal.
    """
    out = []
    for ch in str(text):
        if ch == "\t":
            out.append(" ")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") and ch != "\u200d":
            out.append(ch.encode("unicode_escape").decode("ascii"))
        else:
            out.append(ch)
    return "".join(out)


class UserInputError(ValueError):
    """Bad input from a user: a scenario, a lever value, a path.

    Args:
        message: what is wrong and what is allowed, in one line.
        source: the file (or "keyword argument", "command line") the input came from.
        key: the scenario key or option at fault, if there is one.
    """

    def __init__(self, message: str, *, source: str | None = None, key: str | None = None):
        self.source = source
        self.key = key
        self.detail = message
        where = ": ".join(part for part in (source, key) if part)
        super().__init__(f"{where}: {message}" if where else message)


class ScenarioError(UserInputError):
    """A scenario that cannot be loaded or validated."""
