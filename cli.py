"""Thin shim so ``python cli.py ...`` works from a checkout; the installed command is ``strassen``."""
from discover.cli import main

if __name__ == "__main__":
    main()
