"""boldrules' own objects in the shop, read: the project's apply lock and its ownership record."""

from __future__ import annotations

from reconciler import lock, ownership
from reconciler.doctor.recording import Doctor, Failed


def checks(checker: Doctor) -> None:
    """The apply lock and the ownership record, read (``--write`` writes them)."""
    bold = checker.bold

    def held() -> str:
        holder = lock.read_lock(bold, checker.project)
        if holder is None:
            return f"no apply running ({lock.lock_id(checker.project)} absent)"
        return f"held by {holder.describe()}" + (
            " (expired)" if holder.expired(checker.now()) else ""
        )

    checker.check("apply lock (read)", "get_ruleset", held, fixable=False)

    def record() -> str:
        found = ownership.read_record(bold, checker.project)
        if found is None:
            name = ownership.record_id(checker.project)
            return f"no ownership record yet ({name}): the first apply writes it"
        if isinstance(found, ownership.Damaged):
            raise Failed(f"the ownership record is damaged: {found.reason}")
        return f"{ownership.record_id(checker.project)} lists {len(found.members)} objects"

    checker.check("ownership record (read)", "get_ruleset", record, fixable=False)
