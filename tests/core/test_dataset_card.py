"""Stage folders load with ``datasets.load_dataset(<folder>)`` thanks to their README card."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from harness.runner.dataset_card import dataset_configs, write_dataset_card


def _split_stage(folder: Path) -> Path:
    folder.mkdir()
    pq.write_table(pa.table({"text": ["a", "b", "c"], "law_id": ["x", "y", "z"]}), folder / "train.parquet")
    pq.write_table(pa.table({"text": ["d"], "law_id": ["x"]}), folder / "validation.parquet")
    for name, rows in (("dapt_train.jsonl", 2), ("dapt_validation.jsonl", 1)):
        (folder / name).write_text("".join(json.dumps({"text": f"t{i}"}) + "\n" for i in range(rows)))
    # what every stage folder also holds: the record and reports
    (folder / "record.json").write_text(json.dumps({"seconds": 1.0}))
    (folder / "corpus_report.md").write_text("# report\n")
    return folder


def test_configs_group_files_by_split_word(tmp_path: Path) -> None:
    configs = dataset_configs(_split_stage(tmp_path / "split"))
    assert configs == [
        {
            "config_name": "default",
            "data_files": [
                {"split": "train", "path": "train.parquet"},
                {"split": "validation", "path": "validation.parquet"},
            ],
            "default": True,
        },
    ]


def test_a_stage_folder_loads_with_datasets(tmp_path: Path) -> None:
    import datasets

    folder = _split_stage(tmp_path / "split")
    assert write_dataset_card(folder, "mx_legal: split stage")
    loaded = datasets.load_dataset(str(folder), cache_dir=str(tmp_path / "hf"))
    assert loaded["train"]["text"] == ["a", "b", "c"] and loaded["validation"].num_rows == 1
    # one builder per folder: the JSON lines beside Parquet load by name
    dapt = datasets.load_dataset("json", data_files=str(folder / "dapt_train.jsonl"), cache_dir=str(tmp_path / "hf"))
    assert dapt["train"].num_rows == 2
    jsonl_only = tmp_path / "instructions"
    jsonl_only.mkdir()
    (jsonl_only / "instructions.jsonl").write_text('{"instruction": "a", "response": "b"}\n')
    (jsonl_only / "record.json").write_text("{}")
    assert dataset_configs(jsonl_only)[0]["data_files"] == [{"split": "train", "path": "instructions.jsonl"}]
    # a stage's own README is kept; a folder without tables gets none
    assert not write_dataset_card(folder, "again")
    empty = tmp_path / "adapter"
    empty.mkdir()
    (empty / "record.json").write_text("{}")
    assert not write_dataset_card(empty, "adapter") and not (empty / "README.md").exists()
