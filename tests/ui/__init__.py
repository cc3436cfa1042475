"""Browser tests of the web app: axe-core, keyboard only, page semantics, reflow, a path prefix.

They drive Debian's Chromium (/usr/bin/chromium) with Playwright; Playwright's own browser download
is not used. Shared helpers live here, fixtures in ``conftest.py``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

QUESTION = "Who do you share my data with?"
SOURCE_LINK = "#conversation a:has-text('Open source 1 in the notice')"
QUESTION_BOX = "#question-box textarea"
IMPACTS = ("critical", "serious", "moderate", "minor")


def wait_ready(page: Any) -> None:
    """Gradio has rendered the residents' page (and the live-region script has run)."""
    page.wait_for_selector(QUESTION_BOX)
    page.wait_for_selector("#answer-status[aria-live]", state="attached")


def ask(page: Any, question: str = QUESTION) -> None:
    """Type a question in the box and wait until its answer, with sources, is on the page."""
    box = page.locator(QUESTION_BOX)
    box.fill(question)
    box.press("Enter")
    wait_answer(page)


def wait_answer(page: Any) -> None:
    page.wait_for_selector(SOURCE_LINK, timeout=60_000)
    page.wait_for_function("() => /Answer received/.test(document.querySelector('#answer-status').innerText)")


def open_form_with_errors(page: Any) -> None:
    page.get_by_role("tab", name="Contact the Data Protection Officer").click()
    page.get_by_role("button", name="Send to the Data Protection Officer").click()
    page.wait_for_selector("#error-summary h3")


def settle(page: Any) -> None:
    """Wait until finite CSS transitions and animations are over: axe measuring a fading-in heading
    reports its half-transparent colour as a contrast failure."""
    page.wait_for_function("""() => document.getAnimations().every(a =>
        a.playState !== 'running' || a.effect?.getTiming?.().iterations === Infinity)""")


def axe_summary(view: str, violations: list[dict]) -> str:
    """One line per view for stdout: counts by impact and the rules."""
    counts = Counter(v.get("impact") or "none" for v in violations)
    parts = " ".join(f"{i}={counts.get(i, 0)}" for i in IMPACTS)
    rules = ", ".join(f"{v['id']}({v.get('impact')}, {len(v['nodes'])} nodes)" for v in violations) or "none"
    return f"axe {view:<16} {parts}  rules: {rules}"


def axe_details(violations: list[dict]) -> str:
    """Every violation, any impact, with its first nodes: the assertion message."""
    lines = []
    for v in violations:
        lines.append(f"- [{v.get('impact')}] {v['id']}: {v['help']} ({v.get('helpUrl', '')})")
        for n in v["nodes"][:5]:
            lines.append(f"    {n.get('target')}  {n.get('html', '')[:160]}")
            if n.get("failureSummary"):
                lines.append("      " + n["failureSummary"].replace("\n", "\n      ")[:400])
    return "\n".join(lines) or "(none)"


# The focused element: its name, whether its focus is visible and whether anything covers it.
FOCUS_JS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return {body: true};
  const cs = getComputedStyle(el);
  const outline = cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0
                  && !/rgba\\(.*,\\s*0\\)$/.test(cs.outlineColor) && cs.outlineColor !== 'transparent';
  const shadow = cs.boxShadow !== 'none' && !/^rgba\\(0, 0, 0, 0\\) 0px 0px 0px 0px$/.test(cs.boxShadow);
  const r = el.getBoundingClientRect();
  const x = r.left + r.width / 2, y = r.top + r.height / 2;
  const inView = r.width > 0 && r.height > 0 && x >= 0 && y >= 0 && x <= innerWidth && y <= innerHeight;
  const hit = inView ? document.elementFromPoint(x, y) : null;
  const label = (el.labels && el.labels[0]) || el.closest('label');
  const name = (el.getAttribute('aria-label') || (label && label.innerText) || el.innerText || el.value || '').trim();
  const describe = e => e ? e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\\s+/).join('.') : '') : 'nothing';
  return {body: false, tag: el.tagName.toLowerCase(), type: el.type || null, role: el.getAttribute('role'),
          name: name.slice(0, 80), outline: cs.outlineStyle + ' ' + cs.outlineWidth + ' ' + cs.outlineColor,
          boxShadow: cs.boxShadow, visibleFocus: outline || shadow, inView,
          covered: !(hit && (hit === el || el.contains(hit) || hit.contains(el))), hit: describe(hit), el: describe(el),
          checked: el.checked === undefined ? null : el.checked};
}"""


def focused(page: Any, settle_ms: int = 1000) -> dict:
    """The focused element once the page has settled: a chat still scrolling to a new answer
    can move it for a moment after the key press, so an element out of view is measured again
    (every 100 ms, for up to ``settle_ms``) before it counts as out of view."""
    info = page.evaluate(FOCUS_JS)
    for _ in range(settle_ms // 100):
        if info.get("body") or info["inView"]:
            break
        page.wait_for_timeout(100)
        info = page.evaluate(FOCUS_JS)
    return info


def assert_focus_ok(info: dict, step: str) -> None:
    """A visible focus indicator, and the element is on screen and not under something else."""
    if info.get("body"):
        return
    where = f"{step}: focus on {info['el']} {info['name']!r}"
    assert info["visibleFocus"], f"{where} has no visible focus indicator (outline {info['outline']}, box-shadow {info['boxShadow']})"
    assert info["inView"], f"{where} is not scrolled into the viewport"
    assert not info["covered"], f"{where} is hidden behind {info['hit']}"


def press_until(page: Any, matches: Any, key: str = "Tab", limit: int = 60, log: list | None = None) -> dict:
    """Press ``key`` until ``matches(focused info)``; check the focus indicator at every step."""
    for i in range(1, limit + 1):
        page.keyboard.press(key)
        info = focused(page)
        if log is not None:
            log.append(f"{key} -> {info.get('el')} {info.get('name')!r}")
        assert_focus_ok(info, f"{key} #{i}")
        if not info.get("body") and matches(info):
            return info
    trail = "\n".join((log or [])[-limit:])
    raise AssertionError(f"never reached the element after {limit} x {key}:\n{trail}")


WIDTH_JS = """() => {
  const root = document.documentElement, W = root.clientWidth;
  const wide = [...document.querySelectorAll('body *')].filter(e => {
    const r = e.getBoundingClientRect(); const cs = getComputedStyle(e);
    return r.width > 0 && r.right > W + 1 && cs.visibility !== 'hidden' && !e.closest('.visually-hidden, [aria-hidden=true]');
  }).slice(0, 10).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + '.' + String(e.className).trim().split(/\\s+/).join('.') + ' right=' + Math.round(e.getBoundingClientRect().right));
  return {scrollWidth: root.scrollWidth, clientWidth: W, innerWidth: innerWidth, wide};
}"""


def widths(page: Any) -> dict:
    return page.evaluate(WIDTH_JS)
