"""``python -m sim.cli``: the command line (as the ``socialsim`` console script)."""

from .common import app

app()
