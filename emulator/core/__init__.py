"""The pure core: vendor model, catalogue, lifecycles, authenticators, edge-case mutations, planning.

The rule, stated once here and enforced by ``tests/emulator/test_layers.py`` over the real import
graph: modules of the core (this package and ``emulator.vendors``) do no I/O and never read the
clock or global randomness. Seed, clock readings and ids come in as arguments, so the same inputs
give the same bytes on any machine and any day. They import nothing from the layers above them
(``emulator.readers``, ``emulator.delivery``, ``emulator.loadgen``, ``emulator.web``,
``emulator.cli``, ``contracts``) and no I/O or web module (sockets, SQLite, threads, files, flask,
requests). Which vendors exist beyond the built-in ones is the one fact taken from the
environment, read by the top-level package (``emulator.EXTRA_VENDORS``) and handed to the catalogue.
"""
