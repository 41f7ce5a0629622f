"""``python -m discover`` runs the ``strassen`` command."""
from .cli import main

main(prog_name="strassen")
