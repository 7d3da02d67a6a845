"""Defaults of a verify run that the command line, the library and the pytest plugin share."""

DEFAULT_SETTLE = 2.0  # seconds the probe is given to see an event applied
DEFAULT_FUZZ = 12  # schema-drawn bodies per event type
