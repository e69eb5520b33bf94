"""Names that become folder names: benchmarks, systems, adapters, run ids.

Each is used as one path component under a run or cache folder (``results/<system>``,
``adapters/<adapter>``, ``runs/<benchmark>/<run-id>``), so it must not be able to climb out of it:
no path separators, no leading dot (``.``, ``..`` and hidden names), nothing but the characters
the planner itself uses in names (``base+dapt+sft[dapt_trainable=False]``).
"""

from __future__ import annotations

import re

SAFE_NAME = re.compile(r"\w[\w.,+=@\[\]-]{0,199}")
ALLOWED = "letters, digits and _ . , + = @ [ ] -, not starting with one of . , + = @ [ ] -, at most 200 characters"


def is_safe_name(name: str) -> bool:
    """True when ``name`` can be used as a single folder name inside a run or cache folder."""
    return bool(SAFE_NAME.fullmatch(name))


def check_name(name: str, what: str) -> str:
    """``name``, or a ``ValueError`` saying which characters a ``what`` may use."""
    if not is_safe_name(name):
        raise ValueError(f"{what} {name!r} cannot name a folder: use {ALLOWED}")
    return name
