"""``python -m reconciler`` runs the same command line as ``boldrules``."""

from reconciler.cli.program import run

if __name__ == "__main__":
    run()
