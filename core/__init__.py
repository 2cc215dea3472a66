"""The bottom layer: the records every stage passes on, the vocabulary and the settings."""
