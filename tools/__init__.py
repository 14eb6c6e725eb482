"""Repository tooling: run the course and refresh the stored notebooks.

Run as ``python -m tools.run_course`` from the repository root. The notebooks never import this
package; it needs the ``tools`` extra (nbclient, nbformat, kaleido). The website (``make
html``) is built by Sphinx from book/conf.py, not from here."""
