"""Readers: YAML with located errors, delivery settings, scenarios and event lists, and the loader
that turns a source plus settings layers into a streaming plan."""
