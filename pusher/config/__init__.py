"""Configuration: the settings models (one leaf module per section) and the loader."""
