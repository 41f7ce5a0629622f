"""``python -m discover.cli`` runs the ``strassen`` command."""
from . import main

main(prog_name="strassen")
