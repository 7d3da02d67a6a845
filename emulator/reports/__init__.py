"""Pure renderers of reports: the verify matrix, SVG charts of a run, self-contained HTML pages.

Pure as the core is (``tests/emulator/test_layers.py`` checks it): functions from data to text, no
I/O, no clock. The command line writes their pages to files and the dashboard embeds their
fragments, so a chart or a matrix is drawn by one implementation wherever it shows.
"""
