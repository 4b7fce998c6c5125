"""Browser checks of accessibility and layout: axe-core's audit and horizontal overflow.

axe-core comes from npm (``scripts/install-test-deps.sh`` puts it in ``node_modules/``).
The pages' CSP runs only same-origin script files, so axe is served at a same-origin
address by a Playwright route of the page (never by the app) and loaded as a script file:
the policy under test stays the one the app sends.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urljoin

import pytest

from geoapp.config import PROJECT_ROOT

AXE = Path(PROJECT_ROOT) / "node_modules" / "axe-core" / "axe.min.js"
AXE_PATH = "/__tests__/axe.min.js"
# What RGAA-minded reviewers reject outright; "moderate"/"minor" are reported, not failed.
BLOCKING_IMPACTS = ("serious", "critical")


def axe_violations(page) -> list[dict]:
    """axe-core's violations on the page as loaded (WCAG 2.x A/AA and best practices)."""
    if not AXE.exists():
        pytest.fail(f"axe-core introuvable ({AXE}) : lancez scripts/install-test-deps.sh.")
    if not page.evaluate("() => !!window.axe"):
        page.route(f"**{AXE_PATH}", lambda route: route.fulfill(path=str(AXE)))
        page.add_script_tag(url=urljoin(page.url, AXE_PATH))
    return page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
             .map(v => ({id: v.id, impact: v.impact, help: v.help,
                         nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}))"""
    )


def blocking_violations(page) -> list[dict]:
    """The violations of impact "serious" or "critical" (the ones that fail a test)."""
    return [v for v in axe_violations(page) if v["impact"] in BLOCKING_IMPACTS]


def horizontal_overflow(page) -> int:
    """How many CSS pixels the page is wider than its viewport (0: no sideways scroll)."""
    return page.evaluate(
        "() => Math.max(0, document.documentElement.scrollWidth - window.innerWidth)"
    )


def tab_to(page, selector: str, *, limit: int = 80) -> None:
    """Press Tab until ``selector`` has the focus (as a keyboard user would)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reaches {selector}")
