"""``python -m reconciler`` runs the same command line as ``boldrules``."""

from reconciler.cli import main

if __name__ == "__main__":
    main()
