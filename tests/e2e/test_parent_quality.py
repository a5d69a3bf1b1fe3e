"""The parent pages as a person experiences them: no serious or critical axe-core violations (light
and dark), nothing wider than a 360 px phone, the notification help for blocked and iPhone, and a
first visit of at most 105 KB."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import axe_playwright_python
import pytest

from coach.models import PushSubscription
from coach.services.families.checkins import parse_checkin, record_checkin
from tests.parent_helpers import checkin_body, make_delivery, make_prompt

from .conftest import PHONE, allow_notifications, make_parent, sign_in, wait_for_worker

pytestmark = pytest.mark.e2e

AXE_SOURCE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")
AXE_RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
}"""
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/18.1 Mobile/15E148 Safari/604.1")
# 105 KB since the second release's parent app (journal calendar, reminders switch, Later, the
# programme's place): trimmed to 99-101 KB depending on the prompts a lived-in family was sent, so
# the old 100 KB failed on data alone. docs/parent-app.md "Measured" has the history.
WEIGHT_BUDGET = 105 * 1024


def lived_in_family(live):
    """A family with a prompt today, a week of check-ins across themes, and one device."""
    family = make_parent(live, child_name="Ada")
    with live.context():
        today = make_delivery(family)
        for days_ago, theme, note in ((1, "repair", "We had a cuddle after the tears."),
                                      (3, "rupture", None), (8, "cues", "He looked away at the feed.")):
            delivery = make_delivery(family, local_date=today.local_date - timedelta(days=days_ago),
                                     prompt=make_prompt(theme))
            when = (datetime.now(UTC) - timedelta(days=days_ago)).isoformat()
            data = parse_checkin(checkin_body(delivery_id=delivery.id, answer=0, felt=4, note=note,
                                              client_created_at=when, shared_with_worker=bool(note)))
            record_checkin(family, data, family.user)
        PushSubscription.create(user=family.user_id, endpoint=f"https://fcm.googleapis.com/fcm/send/{uuid.uuid4()}",
                                p256dh="B" * 87, auth="A" * 22,
                                user_agent="Mozilla/5.0 (Linux; Android 14) Chrome/130.0 Mobile")
    return family, today


def serious_violations(page) -> list[dict]:
    page.evaluate(AXE_SOURCE)  # evaluated through DevTools, so the page's CSP still holds for its own code
    return [v for v in page.evaluate(AXE_RUN) if v["impact"] in ("serious", "critical")]


def test_axe_finds_no_serious_problems_light_and_dark(page, live):
    family, today = lived_in_family(live)
    sign_in(page, family)
    found = {}
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        for path in ("/", f"/checkin/{today.id}", "/journal", "/settings"):
            page.goto(path)
            page.locator("#notify-card, h1").first.wait_for()
            problems = serious_violations(page)
            if problems:
                found[f"{scheme} {path}"] = problems
    assert not found


LAYOUT_SHIFT = """() => new Promise((resolve) => {
  let total = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if (!entry.hadRecentInput) total += entry.value;
  }).observe({ type: "layout-shift", buffered: true });
  setTimeout(() => resolve(total), 300);  // let the modules finish showing what they show
})"""


def test_nothing_scrolls_sideways_at_360_px_or_shifts(page, live):
    family, today = lived_in_family(live)
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, family)
    for path in ("/", f"/checkin/{today.id}", "/journal", "/settings", "/settings/delete", "/offline"):
        page.goto(path)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 360, f"{path} is {width}px wide"
        shift = page.evaluate(LAYOUT_SHIFT)
        assert shift < 0.01, f"{path} shifts its layout by {shift:.3f}"
    page.set_viewport_size(PHONE)


def test_blocked_notifications_explain_how_to_allow_them(page, context, live):
    context.grant_permissions(["background-sync"], origin=live.url)  # so notifications are denied
    sign_in(page, make_parent(live))
    page.get_by_role("link", name="How to turn reminders on in this browser").click()  # home links to the steps
    card = page.locator("#notify-card")
    card.get_by_text("Notifications are blocked").wait_for()
    assert card.get_by_text("Site settings").is_visible()
    assert card.get_by_role("switch", name="Reminders on this phone").is_disabled()


def test_iphone_safari_gets_the_add_to_home_screen_guide(browser, live):
    context = browser.new_context(base_url=live.url, viewport=PHONE, user_agent=IPHONE, is_mobile=True)
    try:
        page = context.new_page()
        sign_in(page, make_parent(live))
        page.get_by_role("link", name="How to turn reminders on in this browser").wait_for()
        page.goto("/settings")
        card = page.locator("#notify-card")
        card.get_by_text("Add to Home Screen").wait_for()
        assert card.get_by_role("switch", name="Reminders on this phone").is_disabled()
    finally:
        context.close()


def test_first_visit_weighs_at_most_100_kb(page, context, live, record_property):
    """Every distinct file a first visit fetches (pages and the service worker's install), each
    counted whole, as if nothing were cached or compressed."""
    allow_notifications(context, live)
    family, today = lived_in_family(live)
    urls: set[str] = set()
    context.on("request", lambda request: urls.add(request.url.split("?")[0]))
    sign_in(page, family)  # lands on home
    wait_for_worker(page)  # installed: the whole app shell is fetched
    urls.discard(f"{live.url}/login")
    home = set(urls)
    for path in (f"/checkin/{today.id}", "/journal", "/settings"):
        page.goto(path)
    # An installing browser also fetches the manifest's icons; iOS the apple-touch-icon.
    manifest = context.request.get(f"{live.url}/manifest.webmanifest").json()
    urls |= {f"{live.url}{icon['src']}" for icon in manifest["icons"]}
    urls.add(f"{live.url}/static/icons/apple-touch-icon.png")
    sizes = {url: len(context.request.get(url).body()) for url in urls}
    home_bytes = sum(sizes[url] for url in home)
    total = sum(sizes.values())
    record_property("home_first_visit_bytes", home_bytes)
    record_property("all_parent_pages_bytes", total)
    print(f"\nfirst visit of home: {home_bytes / 1024:.1f} KB over {len(home)} files; "
          f"home + check-in + journal + settings: {total / 1024:.1f} KB over {len(sizes)} files")
    assert total <= WEIGHT_BUDGET, sorted(sizes.items(), key=lambda item: -item[1])
