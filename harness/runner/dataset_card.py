"""Hugging Face dataset cards for tabular stage outputs, so ``datasets.load_dataset(<folder>)`` works.

A stage folder holds its data (``*.parquet``, ``*.jsonl``) next to ``record.json`` and reports;
``load_dataset`` on such a folder would try to read every file as one table and fail.  A
``README.md`` whose YAML front matter lists ``configs`` (the card format of the Hub) tells it which
files are the data and how they split: ``train.parquet`` and ``validation.parquet`` become the
``train`` and ``validation`` splits of the default config, ``dapt_train.jsonl`` the ``train`` split
of a ``dapt`` config, and a file with no split word in its name the ``train`` split of a config of
its own name.

``datasets`` reads every config of a folder with one builder (parquet *or* json), so the card lists
the files of one format only: Parquet where there is any (the other files load with
``load_dataset("json", data_files=…)``).
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from harness.paths import write_atomic

DATA_SUFFIXES = (".parquet", ".jsonl")
_SPLIT = re.compile(r"^(?:(?P<pre>.+)_)?(?P<split>train|validation|test)(?:_(?P<post>.+))?$")


def dataset_configs(folder: Path) -> list[dict[str, object]]:
    """``configs`` for the data files directly in ``folder`` (empty when there are none)."""
    groups: dict[str, list[dict[str, str]]] = {}
    files = [p for p in sorted(folder.iterdir()) if p.is_file() and p.suffix in DATA_SUFFIXES]
    suffix = next((s for s in DATA_SUFFIXES if any(p.suffix == s for p in files)), None)
    for path in files:
        if path.suffix != suffix:
            continue
        match = _SPLIT.match(path.stem)
        if match:
            name = match.group("pre") or match.group("post") or "default"
            split = match.group("split")
        else:
            name, split = path.stem, "train"
        groups.setdefault(name, []).append({"split": split, "path": path.name})
    names = sorted(groups, key=lambda n: (n != "default", n))
    configs: list[dict[str, object]] = []
    for i, name in enumerate(names):
        config: dict[str, object] = {"config_name": name, "data_files": groups[name]}
        if i == 0:
            config["default"] = True
        configs.append(config)
    return configs


def front_matter(configs: list[dict[str, object]], **metadata: object) -> str:
    """The card's YAML block (``---`` … ``---``)."""
    body = yaml.safe_dump({**metadata, "configs": configs}, sort_keys=False, allow_unicode=True)
    return f"---\n{body}---\n"


def write_dataset_card(folder: Path, title: str, body: str = "", **metadata: object) -> bool:
    """Write ``folder/README.md`` for its data files; False (nothing written) when it has none or
    the stage wrote its own README."""
    configs = dataset_configs(folder)
    if not configs or (folder / "README.md").exists():
        return False
    text = body or f"# {title}\n\nA stage output of the harness; see `record.json` for how it was made.\n"
    write_atomic(folder / "README.md", front_matter(configs, **metadata) + "\n" + text)
    return True
