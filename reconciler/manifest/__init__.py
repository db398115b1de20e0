"""Manifests: the files a project names → the objects they declare for one target, every problem
of every file at once.

``load_manifests(project, target)`` is the one entry point (``load.py``); it returns
``Manifests`` of ``Declared`` objects or raises ``errors.ManifestInvalid``. In pipeline order:

* ``reading.py``: one file read (a template rendered first), through the read cache, the quick
  path or the careful one, and checked against ``schemas/manifest.schema.json``;
* ``templates.py``: a ``*.yaml.j2`` template rendered with the target's ``vars``, its lines
  mapped back so problems point at the template;
* ``parsed.py``: one document as parsed (``Document``), and how a path in it is named
  (``describe``) and located (``problem``);
* ``checks.py``: what the schema cannot see, across every file (identities declared twice,
  ``adopt`` hints, field sets, codes, selections, dates); ``references.py``: references to
  objects no manifest declares, as each kind says what it refers to.

Which files the project names is ``discover.py``'s, shared with the sample carts.
"""

from reconciler.manifest.load import (
    Declared,
    Manifests,
    check_files,
    load_manifests,
    manifest_paths,
    warm_cache,
)

__all__ = [
    "Declared",
    "Manifests",
    "check_files",
    "load_manifests",
    "manifest_paths",
    "warm_cache",
]
