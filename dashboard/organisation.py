"""Your organisation in the dashboard: pick a shipped example or upload an HR export (issue 10).

An upload is written to a folder of this browser session (the model reads organisations from
files, and a scenario file downloaded from the page then names it); every file is checked by the
one validation layer (:mod:`sim.orgchart`), whose one-line message is what the page shows.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from pathlib import Path
from typing import Any

import streamlit as st

from sim.errors import UserInputError
from sim.orgchart import MAX_ORG_BYTES, example_organisations, read_org_chart, read_ties, real_ties
from sim.scenario import make_scenario

GENERATED = "generated"
UPLOADED = "(uploaded HR export)"
#: Uploads larger than this are refused by the widget (an HR export of 100k people is ~5 MB).
MAX_UPLOAD_MB = min(200, MAX_ORG_BYTES // 1_000_000)


def options() -> list[str]:
    """What the organisation choice offers: a generated firm, the shipped examples, an upload."""
    return [GENERATED, *example_organisations()]


def label(choice: str) -> str:
    if choice == GENERATED:
        return "generated (employees and departments below)"
    if choice == UPLOADED:
        return choice
    return {"aucs": "aucs: Aarhus CS department, 61 people, real ties",
            "generated_2000": "generated_2000: a 2,000-person org chart"}.get(choice, choice)


def _session_folder() -> Path:
    folder = st.session_state.get("_org_folder")
    if folder is None or not Path(folder).is_dir():
        folder = tempfile.mkdtemp(prefix=UPLOAD_PREFIX)
        st.session_state["_org_folder"] = folder
    return Path(folder)


UPLOAD_PREFIX = "socialsim-org-"


def check_served(values: dict[str, Any], source: str) -> None:
    """Refuse an ``organisation``/``ties`` a visitor may not make the server read.

    A link or an uploaded scenario file comes from anyone who can reach the page: it may name a
    shipped example, or a file this dashboard wrote from an upload (a folder ``socialsim-org-*``
    in the temporary folder), never any other path on the server (it would read, and quote
    rows of, whatever file was named, and tell whether it exists).
    """
    for key in ("organisation", "ties"):
        value = values.get(key)
        if not isinstance(value, str) or not value or value == "none" or value in example_organisations():
            continue
        path = Path(value)
        served = (path.is_absolute() and path.parent.name.startswith(UPLOAD_PREFIX)
                  and path.parent.parent == Path(tempfile.gettempdir()) and ".." not in path.parts)
        if not served:
            raise UserInputError(f"{value[:80]!r} is not an organisation this page can open; allowed: "
                                 f"{', '.join(example_organisations())} or a file uploaded on the page",
                                 source=source, key=key)


def save_upload(name: str, data: bytes) -> str:
    """Write an uploaded CSV to this session's folder; its path (named by its content, so the same
    upload is the same file and the same scenario hash)."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(name).stem)[:40] or "organisation"
    path = _session_folder() / f"{stem}-{hashlib.sha256(data).hexdigest()[:12]}.csv"
    if not path.exists():
        path.write_bytes(data)
    return str(path)


def keep_upload(upload: Any, ties: Any = None) -> tuple[str, str]:
    """Keep an uploaded HR export (and its optional ties) in the session's folder and check them.

    Returns their paths; raises :class:`UserInputError` whose one line names the visitor's files,
    not the server's copies.
    """
    saved: dict[str, str] = {}
    try:
        path = save_upload(upload.name, upload.getvalue())
        saved[path] = f"uploaded file {upload.name[:80]!r}"
        ties_path = ""
        if ties is not None:
            ties_path = save_upload(ties.name, ties.getvalue())
            saved[ties_path] = f"uploaded file {ties.name[:80]!r}"
        chart = read_org_chart(path)
        if ties_path:
            read_ties(ties_path, chart)
    except UserInputError as exc:
        message = str(exc)
        for stored, shown in saved.items():
            message = message.replace(stored, shown).replace(Path(stored).name, shown)
        raise UserInputError(message) from None
    except OSError as exc:
        raise UserInputError(f"uploaded file {upload.name[:80]!r}: cannot be kept on the server "
                             f"({exc.strerror or exc}); allowed: a smaller file") from None
    return path, ties_path


def apply(values: dict[str, Any], organisation: str, ties: str = "") -> dict[str, Any]:
    """``values`` (a scenario dict) on that organisation, validated; raises UserInputError.

    ``organisation`` "" or :data:`GENERATED` is a generated firm (the population section's size).
    """
    organisation = "" if organisation == GENERATED else organisation
    changed = {**values, "organisation": organisation, "ties": ties if organisation else ""}
    return make_scenario(changed, source="organisation").to_dict()


def describe(values: dict[str, Any]) -> str:
    """One line on the organisation a scenario runs on."""
    if not values.get("organisation"):
        return f"a generated firm: {values['employees']:,} employees in {values['departments']} departments"
    name = Path(values["organisation"]).name
    real = real_ties(values["organisation"], values.get("ties") or "")
    ties = "its real ties" if real else "ties generated inside its departments"
    return f"{name}: {values['employees']:,} employees in {values['departments']} departments, {ties}"


__all__ = ["GENERATED", "UPLOADED", "MAX_UPLOAD_MB", "UserInputError", "apply", "check_served", "describe", "keep_upload",
           "label", "options", "save_upload"]
