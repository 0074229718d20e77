"""axe-core (Deque's accessibility engine, the npm package pinned in tests/e2e/package.json and
installed by `make test`) run in Debian's Chromium through Playwright.

`violations(page)` injects axe into the page as it is and returns every violation of axe's
default rule set (WCAG 2.x A and AA and the best practices), each with its rule, impact and the
selectors of the nodes, so a failing test says what to fix. The page's own Content-Security-Policy
forbids injected scripts: the checking context is opened with `bypass_csp`, which changes
nothing else about the page.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"


def require_axe() -> Path:
    if not AXE.exists():
        reason = "axe-core not installed (npm ci --prefix tests/e2e; `make test` does it)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return AXE


def violations(page: Any) -> list[str]:
    """Every axe violation on the page, one line each: rule (impact): selectors."""
    page.add_script_tag(path=str(require_axe()))
    found = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        f"{v['id']} ({v['impact']}) {v['help']}: " + "; ".join(", ".join(n["target"]) for n in v["nodes"][:5])
        for v in found
    ]
