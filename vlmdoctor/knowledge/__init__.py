"""The knowledge layer: rule and model-card files, validated as they load."""
