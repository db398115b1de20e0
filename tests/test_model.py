"""model.py: keys and resources compute their derived values once, without a lock."""

from __future__ import annotations

import threading

from reconciler import model


def test_a_derived_value_is_computed_once_per_object() -> None:
    key = model.ruleset_key("spring")
    assert "match" not in key.__dict__
    first = key.match
    assert key.__dict__["match"] is first
    assert key.match is first
    assert isinstance(model.Key.__dict__["match"], model._once)


def test_threads_deriving_values_at_once_do_not_wait_for_each_other() -> None:
    # Python 3.11's functools.cached_property holds one lock for every instance of a class:
    # a thread computing one resource's exact form made the others wait. Here a computation
    # that waits on a barrier only finishes when both threads are inside one at once.
    meeting = threading.Barrier(2, timeout=10)

    class Slow:
        @model._once
        def value(self) -> int:
            meeting.wait()
            return 1

    objects = [Slow(), Slow()]
    found: list[int] = []
    threads = [threading.Thread(target=lambda o=o: found.append(o.value)) for o in objects]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert found == [1, 1]
