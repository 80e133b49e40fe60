"""``python -m kpispec`` runs the command line."""

from kpispec.cli import main

main()
