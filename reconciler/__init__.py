"""boldrules: keep a Bold Commerce shop's price rules in git.

The import package is ``reconciler``; the module map and the layer rule are in CONTRIBUTING.md.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("boldrules")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
