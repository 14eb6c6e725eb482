"""Repository tooling: run the course, refresh the stored notebooks, build the HTML pages.

Run as ``python -m tools.run_course`` and ``python -m tools.html_build`` from the repository
root. The notebooks never import this package; it needs the ``tools`` extra (nbclient,
nbformat, nbconvert, kaleido)."""
