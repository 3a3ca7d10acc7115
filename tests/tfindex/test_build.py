"""The maintainer script's pure part: two tiny fake wheels in, deterministic index bytes out."""

from __future__ import annotations

import gzip
import json
import zipfile
from pathlib import Path

import pytest

from vlmdoctor.tfindex.build import build_index
from vlmdoctor.tfindex.index import from_document
from vlmdoctor.tfindex.ranges import decode_ranges, encode_ranges
from vlmdoctor.tfindex.releases import Placement
from vlmdoctor.tfindex.wheelscan import scan_wheel

OLD_AUTO = 'CONFIG_MAPPING_NAMES = OrderedDict([("llama", "LlamaConfig"), ("clip", "CLIPConfig")])\n'
NEW_AUTO = (
    "from .auto_mappings import CONFIG_MAPPING_NAMES\n"
    'CONFIG_MAPPING_NAMES.update({"mimi_encoder": "MimiEncoderConfig"})\n'
)
NEW_MAPPINGS = 'CONFIG_MAPPING_NAMES = OrderedDict({"llama": "LlamaConfig", "newvlm": "NewConfig"})\n'
OLD_INIT = (
    '_import_structure = {"cache_utils": ["DynamicCache"], "models.llama": []}\n'
    '_import_structure["models.llama"].extend(["LlamaModel"])\n'
)
NEW_INIT = (
    '_import_structure = {"cache_utils": ["DynamicCache", "StaticCache"]}\n'
    "import_structure = define_import_structure(_file, prefix='models')\n"
)


def _wheel(path: Path, files: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in sorted(files.items()):
            zf.writestr(name, text)
    return path


def _wheels(tmp_path: Path) -> tuple[Path, Path]:
    old = _wheel(tmp_path / "transformers-4.30.0-py3-none-any.whl", {
        "transformers/__init__.py": OLD_INIT,
        "transformers/models/auto/configuration_auto.py": OLD_AUTO,
        "transformers/cache_utils.py": "class DynamicCache:\n    pass\nSEEN_TOKENS = 1\n",
        "transformers/generation/utils.py": "from ..cache_utils import DynamicCache\n"
                                            "class GreedySearchOutput: ...\n",
        "transformers/models/llama/modeling_llama.py": "def _get_unpad_data(x):\n    return x\n"
                                                       "class LlamaModel: ...\n",
        "transformers/models/llama/modeling_tf_llama.py": "class TFLlamaModel: ...\n",
    })
    new = _wheel(tmp_path / "transformers-5.0.0-py3-none-any.whl", {
        "transformers/__init__.py": NEW_INIT,
        "transformers/models/auto/configuration_auto.py": NEW_AUTO,
        "transformers/models/auto/auto_mappings.py": NEW_MAPPINGS,
        "transformers/cache_utils.py": "class DynamicCache: ...\nclass StaticCache: ...\n",
        "transformers/generation/utils.py": "try:\n    from ..x import GenerateOutput\n"
                                            "except ImportError:\n    pass\n",
        "transformers/models/llama/modeling_llama.py": "class LlamaModel: ...\n"
                                                       "__all__ = ['LlamaModel']\n",
        "transformers/models/llama/feature_extraction_llama.py": "class LlamaFE: ...\n"
                                                                 "__all__ = ['LlamaFE']\n",
        "transformers/models/llama/modular_llama.py": "__all__ = ['NotExported']\n",
    })
    return old, new


def test_wheel_scan_reads_both_mapping_formats_and_both_init_styles(tmp_path: Path) -> None:
    old, new = _wheels(tmp_path)
    a, b = scan_wheel(old), scan_wheel(new)
    assert a["model_types"] == ["clip", "llama"]
    assert b["model_types"] == ["llama", "mimi_encoder", "newvlm"]
    modules_a, modules_b = a["modules"], b["modules"]
    assert isinstance(modules_a, dict) and isinstance(modules_b, dict)
    assert "LlamaModel" in modules_a["transformers"] and "DynamicCache" in modules_a["transformers"]
    assert "LlamaModel" in modules_b["transformers"]  # from models' __all__ via define_import_structure
    assert "LlamaFE" in modules_b["transformers"]  # a file the index does not list itself
    assert "NotExported" not in modules_b["transformers"]  # modular_* files are never exported
    assert "transformers.models.llama.modeling_tf_llama" not in modules_a
    assert modules_a["transformers.generation.utils"] == ["DynamicCache", "GreedySearchOutput"]
    assert modules_b["transformers.generation.utils"] == ["GenerateOutput"]


def test_index_bytes_are_deterministic_and_ranges_right(tmp_path: Path) -> None:
    old, new = _wheels(tmp_path)
    scans = {"5.0.0": scan_wheel(new), "4.30.0": scan_wheel(old)}
    first = build_index(scans)
    again = build_index(dict(reversed(list(scans.items()))))
    assert first == again
    assert first == build_index({"4.30.0": scan_wheel(old), "5.0.0": scan_wheel(new)})
    index = from_document(json.loads(gzip.decompress(first)))
    assert index.releases == ("4.30.0", "5.0.0")
    assert index.model_type_spans("newvlm") == [(1, 1)]
    assert index.has_name("transformers.models.llama.modeling_llama", "_get_unpad_data", "4.30.2")
    assert index.has_name("transformers.models.llama.modeling_llama", "_get_unpad_data", "5.0.0") is False
    assert index.has_name("transformers.cache_utils", "StaticCache", "4.30.0") is False
    assert index.has_name("transformers.cache_utils", "StaticCache", "5.0.1") is True
    # newer than the index: read as its newest release (and flagged, so that it is said)
    assert index.has_name("transformers.cache_utils", "StaticCache", "6.0.0") is True
    assert index.place("6.0.0") == Placement(pos=1, version="6.0.0", read_as="5.0.0", newer=True)
    assert index.has_name("transformers.cache_utils", "StaticCache", "4.29.0") is None
    assert index.has_name("transformers.nowhere", "X", "5.0.0") is None


def test_yanked_releases_are_listed_and_the_bytes_stay_deterministic(tmp_path: Path) -> None:
    old, new = _wheels(tmp_path)
    scans = {"4.30.0": scan_wheel(old), "5.0.0rc1": scan_wheel(new), "5.0.0": scan_wheel(new)}
    data = build_index(scans, yanked=["5.0.0", "4.30.0", "9.9.9"])
    assert data == build_index(dict(reversed(list(scans.items()))), yanked=["4.30.0", "5.0.0"])
    document = json.loads(gzip.decompress(data))
    assert (document["format"], document["releases"], document["yanked"]) == (
        3, ["4.30.0", "5.0.0rc1", "5.0.0"], ["4.30.0", "5.0.0"])
    index = from_document(document)
    assert index.yanked == {"4.30.0", "5.0.0"}
    assert (index.finals(), index.recommendable()) == ([0, 2], [])


def test_range_encoding_round_trips() -> None:
    assert encode_ranges([5, 1, 2, 3, 9, 10]) == "1-3,5,9-10"
    assert decode_ranges("1-3,5,9-10") == [(1, 3), (5, 5), (9, 10)]


def test_the_split_index_answers_as_the_whole_one(tmp_path: Path) -> None:
    """The committed index is two files: a small head, and the names read on first use."""
    from vlmdoctor.tfindex.build import split_index
    from vlmdoctor.tfindex.index import load_index

    old, new = _wheels(tmp_path)
    whole = build_index({"4.30.0": scan_wheel(old), "5.0.0": scan_wheel(new)})
    head, names = split_index(whole)
    assert split_index(whole) == (head, names)  # deterministic
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "transformers-index.json.gz").write_bytes(head)
    (tmp_path / "data" / "transformers-names.json.gz").write_bytes(names)
    split = load_index(tmp_path / "data" / "transformers-index.json.gz")
    full = from_document(json.loads(gzip.decompress(whole)))
    assert split._names_doc == {}  # nothing read yet
    for module in full.modules:
        assert split.names(module) == full.names(module)
    assert split._names_doc != {}


def test_the_script_builds_the_same_bytes_from_its_cache_with_any_number_of_jobs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No network: the release listing (with the yanked flags) and the wheels are in the cache."""
    import importlib

    from packaging.version import Version

    monkeypatch.syspath_prepend(str(Path(__file__).parents[2] / "scripts"))
    script = importlib.import_module("build_transformers_index")
    _, new = _wheels(tmp_path)
    new.rename(tmp_path / "transformers-5.0.0-py3-none-any.whl")
    (tmp_path / "releases.json").write_text('{"5.0.0": true, "4.30.0": false, "4.20.0": false}')
    listing = script.release_listing(tmp_path, Version("4.30.0"), refresh=False)
    assert listing == {"4.30.0": False, "5.0.0": True}
    wheels = {v: script.wheel_for(v, tmp_path) for v in listing}
    outputs = []
    for jobs, parsed in ((2, tmp_path / "p2"), (1, tmp_path / "p1"), (1, tmp_path / "p2")):
        parsed.mkdir(exist_ok=True)
        outputs.append(build_index(script.scan_all(wheels, parsed, jobs), yanked=["5.0.0"]))
    assert outputs[0] == outputs[1] == outputs[2]  # parallel, serial, and from the parse cache
    assert sorted(p.name for p in (tmp_path / "p2").iterdir()) == [
        "transformers-4.30.0-py3-none-any.whl.p2.json", "transformers-5.0.0-py3-none-any.whl.p2.json"]
