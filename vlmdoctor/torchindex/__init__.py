"""The torch release index: names per module, built from the release wheels, loaded on demand."""
