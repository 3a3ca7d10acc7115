"""The model's own files, read offline: a local Hugging Face directory or the HF cache.

Nothing here imports torch or transformers or touches the network: ``config.json``,
``preprocessor_config.json`` and the JSON headers of ``*.safetensors`` files are read as
data, never the tensors. ``read_model`` turns a located source into ``ModelFacts``;
``card.card_from_facts`` turns facts (plus a curated card, when one matches) into the
``ModelCard`` the rules and the planner already understand.
"""
