"""boldrules: keep a Bold Commerce shop's price rules in git.

The import package is ``reconciler``; the module map and the layer rule are in CONTRIBUTING.md.
``__all__`` is the Python surface the README promises (*From Python*); every other module is
internal. tests/test_exported_members.py holds the two lists together.
"""

import importlib.metadata

try:
    __version__ = importlib.metadata.version("boldrules")
except importlib.metadata.PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__", "client", "clientsettings", "config", "connect", "sandbox", "targets"]
