"""Objects whose freeing can wait for the end of the process.

The ``boldrules`` process ends with ``os._exit`` once its command has returned
(``cli/program.py``): nothing is freed one by one then. A command that is done with a large
structure before it has finished (a plan's ten thousands of live objects once the plan is made:
0.1 s to free, between the last answer and the printed plan) hands it to ``keep``, and it is
freed with the process instead. Only such a process turns this on (``end_with_process``); in a
test or a program that uses the library, ``keep`` does nothing and the objects are freed as
usual.
"""

from __future__ import annotations

_kept: list[object] = []
_with_process = False


def end_with_process() -> None:
    """From now on, ``keep`` holds what it is given until the process ends (``os._exit``)."""
    global _with_process
    _with_process = True


def keep(*objects: object) -> None:
    """Hold ``objects`` until the process ends, if it ends without freeing; else nothing."""
    if _with_process:
        _kept.extend(objects)
