"""The Content-Security-Policy in Chromium: map pages and the HTML export run, unblocked."""

import pytest

from tests.browser import painted_share, wait_for_map

pytestmark = pytest.mark.browser

# Recorded by the browser itself, before any page script runs.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline'));
});
"""


def open_map(page, url: str) -> dict:
    page.add_init_script(RECORD_VIOLATIONS)
    response = page.goto(url)
    assert "'nonce-" in response.headers["content-security-policy"]
    return wait_for_map(page)


@pytest.mark.parametrize("path", ["/", "/quartiers/sceaux-les-blagis", "/experimentations/1"])
def test_map_pages_run_under_the_policy_with_no_violation(page, live_server, path):
    counts = open_map(page, live_server + path)
    assert counts.get("quartier") == 4 and counts.get("coupure", 0) >= 1
    assert page.evaluate("window.__cspViolations") == []
    assert page.watch.errors == []


def test_a_script_without_the_nonce_is_blocked(page, live_server):
    open_map(page, live_server + "/")
    page.evaluate("""() => { const s = document.createElement('script');
        s.textContent = 'window.__injected = true;'; document.body.appendChild(s); }""")
    page.wait_for_function("() => window.__cspViolations.some(v => v.startsWith('script-src'))")
    assert page.evaluate("window.__injected === undefined")
    page.watch.errors.clear()  # the refusal is logged as a console error, as it should


def test_the_html_export_runs_in_its_sandbox(page, live_server):
    """The export as the server sends it (body and CSP), shown in the page instead of
    downloaded: its inline scripts run, and it has no access to the app's origin."""
    export = page.request.get(live_server + "/exports/sceaux-les-blagis.html")
    assert export.ok
    csp = export.headers["content-security-policy"]
    assert csp.startswith("sandbox allow-scripts;")
    preview = live_server + "/apercu-export.html"
    page.route(
        preview,
        lambda route: route.fulfill(
            status=200,
            body=export.body(),
            headers={"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": csp},
        ),
    )
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto(preview)
    assert wait_for_map(page).get("quartier") == 4
    assert painted_share(page) > 0.2
    assert page.evaluate("window.origin") == "null"  # sandboxed: an opaque origin
    assert page.evaluate("window.__cspViolations") == []
    assert page.watch.errors == []
