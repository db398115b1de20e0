"""manifest/templates.py (through load_manifests): templates render with the target's vars, and every way one fails is a
line at the template's own file and line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from reconciler import manifest

from .test_manifest import make_project


def test_templates_see_the_targets_vars(tmp_path: Path) -> None:
    template = """\
        rulesets:
        {% for tier in ["gold", "silver"] %}
          - external_id: {{ tier }}-{{ currency | lower }}
            product_selection: {type: PRODUCTS_ALL}
            rules:
              - external_id: r
                type: DISCOUNT
                conditions: [{type: CUSTOMER_GROUP, value: {{ tier }}}]
                actions: [{type: PRICE_ADJUST_PERCENT, value: {{ pct }}}]
        {% endfor %}
        """
    project = make_project(
        tmp_path,
        {"pricing/tiers.yaml.j2": template, "pricing/plain.yml": "{}\n"},
        project=(
            "targets:\n"
            "  staging: {sandbox: s.sqlite, vars: {currency: CAD, pct: -10}}\n"
            "  production: {api_url: https://x.example, token_env: T, vars: {currency: USD, pct: -5}}\n"
            "default_target: staging\n"
        ),
    )
    staging = manifest.load_manifests(project, project.target("staging"))
    production = manifest.load_manifests(project, project.target("production"))
    assert staging.files == ("pricing/plain.yml", "pricing/tiers.yaml.j2")
    assert [d.key.name for d in staging.objects] == ["gold-cad", "silver-cad"]
    assert [d.key.name for d in production.objects] == ["gold-usd", "silver-usd"]
    assert production.objects[0].data["rules"][0]["actions"][0]["value"] == -5


#: Loads a project's manifests in a fresh interpreter and prints, as JSON, the problems and how
#: far the process's peak resident memory rose above what the imports alone took.
_PEAK_PROBE = """
import json, resource, sys
from reconciler import config, errors, manifest
from pathlib import Path
project = config.load_project(Path(sys.argv[1]))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    manifest.load_manifests(project, project.target(None))
    problems = []
except errors.ManifestInvalid as exc:
    problems = [str(p) for p in exc.problems]
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"problems": problems, "rise_kib": after - before}))
"""


def test_template_that_renders_too_much_is_refused(tmp_path: Path) -> None:
    template = (
        "{% for i in range(100000) %}{% for j in range(100) %}xxxxxxxxx{% endfor %}{% endfor %}"
    )
    # Rendered whole, it would be 90 million characters (90 MB for the text alone, several
    # times that in the pieces Jinja joins); stopped by the step budget at 2,000,000 steps, it
    # stays far below. Memory, unlike time, does not depend on how busy the machine is; a
    # process of its own measures it (peak RSS) without tracemalloc's slowdown.
    project = make_project(tmp_path, {"pricing/t.yaml.j2": template})
    done = subprocess.run(
        [sys.executable, "-c", _PEAK_PROBE, str(project.root)],
        capture_output=True,
        text=True,
        check=True,
        timeout=50,
    )
    found = json.loads(done.stdout)
    assert found["problems"] == [
        "pricing/t.yaml.j2:1:1: template: the template takes more than 2,000,000 steps (loop "
        "iterations, calls and filters): refused; make its loops smaller"
    ]
    assert found["rise_kib"] < 160 * 1024
