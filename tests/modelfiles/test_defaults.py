"""Config-class defaults: the ast reader of configuration_*.py, and the committed data."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from vlmdoctor.modelfiles import defaults
from vlmdoctor.modelfiles.defaultscan import resolve, scan_source

ROOT = Path(__file__).resolve().parents[2]

INIT_STYLE = '''
from ...configuration_utils import PretrainedConfig
from ..auto import CONFIG_MAPPING


class AcmeTextConfig(PretrainedConfig):
    model_type = "acme_text"

    def __init__(self, vocab_size=32000, hidden_size=4096, num_attention_heads=32,
                 num_key_value_heads=None, rope_theta=10000.0, hidden_act="silu",
                 initializer_range=compute(), **kwargs):
        super().__init__(**kwargs)


class AcmeConfig(PretrainedConfig):
    model_type = "acme"

    def __init__(self, vision_config=None, text_config=None, image_seq_length=576, **kwargs):
        if isinstance(vision_config, dict):
            vision_config["model_type"] = (
                vision_config["model_type"] if "model_type" in vision_config else "clip_vision_model"
            )
            vision_config = CONFIG_MAPPING[vision_config["model_type"]](**vision_config)
        elif vision_config is None:
            vision_config = CONFIG_MAPPING["clip_vision_model"](image_size=336, patch_size=14)
        if text_config is None:
            text_config = AcmeTextConfig()
        self.text_config = text_config
'''

DATACLASS_STYLE = '''
class BaseTextConfig(PreTrainedConfig):
    model_type = "base_text"
    vocab_size: int = 1000
    hidden_size: int = 64
    initializer_range: float = interval(min=0.0, max=1.0)(default=0.02)


class ChildTextConfig(BaseTextConfig):
    model_type = "child_text"
    hidden_size: int = 128


class ChildConfig(PreTrainedConfig):
    model_type = "child"
    sub_configs_defaults = {
        "text_config": ChildTextConfig,
        "vision_config": SubConfigSpec(config_class=AutoConfig, model_type="siglip_vision_model",
                                       init_kwargs={"image_size": 448, "num_hidden_layers": 27}),
    }
    mm_tokens_per_image: int | None = 256
'''


def test_init_keyword_defaults_and_sub_configs() -> None:
    found = resolve(scan_source(INIT_STYLE))
    assert found["acme_text"]["defaults"] == {
        "vocab_size": 32000, "hidden_size": 4096, "num_attention_heads": 32,
        "num_key_value_heads": None, "rope_theta": 10000.0}  # computed/unused ones left out
    acme = found["acme"]
    assert acme["defaults"] == {"image_seq_length": 576}
    assert acme["subs"]["vision_config"] == {
        "model_type": "clip_vision_model", "init": {"image_size": 336, "patch_size": 14}}
    assert acme["subs"]["text_config"]["model_type"] == "acme_text"
    assert acme["subs"]["text_config"]["defaults"]["hidden_size"] == 4096


def test_dataclass_defaults_inherit_from_base_classes() -> None:
    found = resolve(scan_source(DATACLASS_STYLE))
    assert found["child_text"]["defaults"] == {"vocab_size": 1000, "hidden_size": 128}
    child = found["child"]
    assert child["defaults"] == {"mm_tokens_per_image": 256}
    assert child["subs"]["vision_config"] == {
        "model_type": "siglip_vision_model", "init": {"image_size": 448, "num_hidden_layers": 27}}
    assert child["subs"]["text_config"]["model_type"] == "child_text"


def test_a_file_that_does_not_parse_gives_nothing() -> None:
    assert scan_source("class (:\n") == []


def test_committed_data_covers_every_release_and_stays_small() -> None:
    path = ROOT / "rules" / "data" / "transformers-config-defaults.json.gz"
    assert path.stat().st_size < 64 * 1024
    data = json.loads(gzip.decompress(path.read_bytes()))
    releases = data["releases"]
    assert releases[0] == "4.30.0" and "4.50.0" in releases and "5.0.0" in releases
    assert len(releases) == len(set(releases)) >= 130
    # Values of two releases, as their wheels state them.
    assert defaults._entry("gemma3_text", "4.50.0")["defaults"]["num_key_value_heads"] == 4  # type: ignore[index]
    assert defaults._entry("llama", "4.36.0")["defaults"]["num_hidden_layers"] == 32  # type: ignore[index]
    assert defaults._entry("gemma3", "4.49.0") is None  # Gemma 3 arrived in 4.50.0


def test_release_choice() -> None:
    assert defaults.release_for("4.50.0.dev0") == "4.50.0"
    assert defaults.release_for("4.45.2") == "4.45.2"
    assert defaults.release_for("4.29.0") is None
    newest = defaults._data()["releases"][-1]
    assert defaults.release_for("99.0.0") == newest
    assert defaults.release_for(None) == newest
    assert defaults.release_for("not a version") == newest
