"""The transformers release index: built from the release wheels, loaded on demand."""
