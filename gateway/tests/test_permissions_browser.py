"""Roles, rights, deputies and acting for someone in Debian's Chromium, against the real portal.

The embedded portal runs as `make run` starts it (every service, SQLite, the in-memory bus):
identity decides every grant, the token exchange narrows the portal's tokens, and the pages
are checked with axe-core and for fit at 1280 px and 375 px.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect, sync_playwright

from chassis.demo import demo_account
from chassis.testing.browser import launch_chromium
from gateway.embedded_testing import Embedded, start_portal

WIDTHS = [(1280, 900), (375, 740)]


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Embedded]:
    # Every browser here logs in from 127.0.0.1, many times a minute: the local run's credentials
    # limit is raised (gateway.routes.local_rate_limits), as for the benchmarks; the limit itself
    # is tested in tests/test_ratelimit.py.
    running = start_portal(
        tmp_path_factory.mktemp("permissions"),
        {
            "BP_MAIL_SINK_PORT": "0",
            "BP_BENCH_CREDENTIALS_RATE": "100r/s",
            "BP_BENCH_CREDENTIALS_BURST": "100",
        },
    )
    try:
        yield running
    finally:
        running.process.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = launch_chromium(playwright)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


FITS = """() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  for (const e of document.querySelectorAll('body *')) {
    const box = e.getBoundingClientRect();
    if (box.width <= 1 || e.closest('.visually-hidden, .skip-link') || getComputedStyle(e).display === 'none') continue;
    if (box.right > width + 0.5) out.push(e.tagName + ' ' + (e.textContent || '').trim().slice(0, 30));
  }
  return out.slice(0, 5);
}"""


@pytest.fixture
def check(axe: Axe) -> Callable[[Page], None]:
    def run(page: Page) -> None:
        results = axe.run(page)
        assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"
        assert page.evaluate(FITS) == [], f"{page.url} does not fit {page.viewport_size}"

    return run


class Person:
    """One person in a browser of their own, at one width."""

    def __init__(self, browser: Browser, portal: Embedded, key: str, size: tuple[int, int]) -> None:
        self.context = browser.new_context(viewport={"width": size[0], "height": size[1]}, locale="de-DE")
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.portal = portal
        account = demo_account(key)
        self.page.goto(portal.base_url + "/anmelden")
        self.page.locator("input[name=login]").fill(account.login)
        self.page.locator("input[name=password]").fill(account.password)
        self.page.get_by_role("button", name="Anmelden").click()
        expect(self.page.get_by_role("heading", level=1, name="Übersicht")).to_be_visible()

    def nav(self, label: str) -> None:
        navigation = self.page.get_by_role("navigation", name="Hauptnavigation")
        if self.page.viewport_size and self.page.viewport_size["width"] < 600:
            toggle = self.page.get_by_role("button", name="Menü")
            if toggle.count() and toggle.is_visible():
                toggle.click()
        navigation.get_by_role("link", name=label, exact=True).click()


@pytest.mark.parametrize("size", WIDTHS, ids=["desktop", "375px"])
def test_grant_deputy_approval_and_acting_for_a_company(
    browser: Browser, portal: Embedded, check: Callable[[Page], None], size: tuple[int, int]
) -> None:
    # The company's Administrator switches the exam registration on and grants it to himself.
    admin = Person(browser, portal, "company_admin", size)
    admin.nav("Berechtigungen verwalten")
    page = admin.page
    expect(page.get_by_role("heading", level=1, name="Berechtigungen verwalten")).to_be_visible()
    check(page)
    if page.get_by_role("link", name="einschalten (Prüfungsanmeldung)").count():
        page.get_by_role("link", name="einschalten (Prüfungsanmeldung)").click()
        expect(page.get_by_role("heading", level=1, name="Änderung bestätigen")).to_be_visible()
        check(page)
        page.get_by_role("button", name="Bestätigen").click()
    expect(page.get_by_text("eingeschaltet", exact=True)).to_be_visible()
    grant = page.get_by_role("link", name="geben (Prüfungsanmeldung, Markus Muster)")
    if grant.count():
        grant.click()
        page.get_by_role("button", name="Bestätigen").click()
    expect(page.get_by_role("link", name="entziehen (Prüfungsanmeldung, Markus Muster)")).to_be_visible()
    # The last Administrator stays.
    page.get_by_role("link", name="entziehen (Administrator/-in, Markus Muster)").click()
    page.get_by_role("button", name="Bestätigen").click()
    expect(page.get_by_role("alert")).to_contain_text("letzte Administrator")
    check(page)
    page.goto(portal.base_url + "/berechtigungen/firmen")
    expect(
        page.get_by_role("heading", level=1, name="Welche Firmen darf ich administrieren?")
    ).to_be_visible()
    check(page)

    # He names Anna Ausbilder as the company's deputy (Verwalter/-in); it waits for the chamber.
    admin.nav("Profil – Vertretung")
    expect(page.get_by_role("heading", level=1, name="Profil – Vertretung")).to_be_visible()
    check(page)
    page.get_by_label("E-Mail-Adresse der Vertreterin bzw. des Vertreters").fill(
        demo_account("trainer").email
    )
    page.get_by_label("Vertretung für").select_option("4711001")
    page.get_by_role("button", name="Vertretung beantragen").click()
    expect(page.get_by_text("wartet auf Bestätigung der IHK").first).to_be_visible()
    check(page)

    # Without approval Anna cannot act for the company.
    anna = Person(browser, portal, "trainer", size)
    anna.nav("Profil – Berechtigungen")
    expect(anna.page.get_by_role("heading", level=1, name="Profil – Berechtigungen")).to_be_visible()
    expect(anna.page.get_by_text("Vertretung für")).to_have_count(0)
    check(anna.page)

    # The chamber approves.
    clerk = Person(browser, portal, "clerk", size)
    clerk.nav("Vertretungen bestätigen")
    expect(clerk.page.get_by_role("heading", level=1, name="Vertretungen bestätigen")).to_be_visible()
    check(clerk.page)
    clerk.page.get_by_role("button", name="Bestätigen (Anna Ausbilder)").first.click()
    expect(
        clerk.page.get_by_role("status").or_(clerk.page.get_by_text("Die Vertretung wurde bestätigt."))
    ).to_be_visible()

    # Anna switches into the company's context ("Zum Programm") and back.
    anna.page.reload()
    button = anna.page.get_by_role("button", name="Zum Programm (Vertretung für 4711001)")
    button.first.click()
    expect(anna.page.get_by_text("in Vertretung für")).to_be_visible()
    check(anna.page)
    anna.nav("Ausbildungsverhältnisse")
    expect(anna.page.get_by_role("heading", level=1)).to_be_visible()
    anna.nav("Profil – Berechtigungen")
    anna.page.get_by_role("button", name="Zurück zu allen meinen Rollen").click()
    expect(anna.page.get_by_text("in Vertretung für")).to_have_count(0)

    # The Administrator removes the deputy: the confirmation page, then no more acting.
    admin.nav("Profil – Vertretung")
    page.get_by_role("link", name="Entfernen (Anna Ausbilder)").first.click()
    check(page)
    page.get_by_role("button", name="Bestätigen").click()
    anna.page.reload()
    expect(anna.page.get_by_role("button", name="Zum Programm (Vertretung für 4711001)")).to_have_count(0)
    for person in (admin, anna, clerk):
        person.context.close()


@pytest.mark.parametrize("size", WIDTHS, ids=["desktop", "375px"])
def test_the_chambers_administration_grants_chamber_roles(
    browser: Browser, portal: Embedded, check: Callable[[Page], None], size: tuple[int, int]
) -> None:
    boss = Person(browser, portal, "chamber_admin", size)
    boss.nav("Rollen der Kammer")
    page = boss.page
    expect(page.get_by_role("heading", level=1, name="Rollen der Kammer")).to_be_visible()
    check(page)
    page.get_by_label("E-Mail-Adresse des Kontos").fill(demo_account("clerk").email)
    page.get_by_role("button", name="Konto suchen").click()
    toggle = page.get_by_role("link", name="geben (Prüfungsorganisation)")
    if toggle.count():
        toggle.click()
        check(page)
        page.get_by_role("button", name="Bestätigen").click()
    expect(
        page.get_by_role("link", name="entziehen (Prüfungsorganisation, Sabine Schreiber)")
    ).to_be_visible()
    check(page)
    boss.context.close()


def test_nobody_else_reaches_the_pages(browser: Browser, portal: Embedded) -> None:
    anna = Person(browser, portal, "trainer", WIDTHS[0])
    for path in ("/berechtigungen", "/kammer/rollen", "/kammer/vertretungen"):
        response = anna.page.goto(portal.base_url + path)
        assert response is not None and response.status == 403, path
    anna.context.close()
