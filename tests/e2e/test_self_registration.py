"""Self-registration and lockout end to end, in the distributed mode with real SMTP and Chromium.

1. The start page links to "Registrieren"; the person registers at identity.
2. The confirmation link arrives by e-mail; confirming (with the chosen password) activates the
   account, which then logs in. The used link says so.
3. Registering the same address again answers alike; the mail says a Zugang exists.
4. Five wrong passwords lock the account: the page says nothing new, the owner gets a mail,
   and the chamber's clerk lifts the lock under "Zugänge".
Every page is checked with axe-core at 1280 px and 375 px.
"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Browser, expect
from test_walking_skeleton import (  # type: ignore[import-not-found]
    DESKTOP,
    check_accessibility,
    log_in,
    log_out,
    mails_to,
    wait_for_credential_posts,
)

from chassis.demo import demo_account

pytestmark = pytest.mark.e2e


def test_register_confirm_log_in_lock_and_unlock(portal, browser: Browser) -> None:  # type: ignore[no-untyped-def]
    base = portal.base_url
    suffix = uuid.uuid4().hex[:8]
    email = f"rita.{suffix}@example.org"
    password = f"Mein Satz als Passwort {suffix}"

    # 1. Registrieren, linked from the start page.
    wait_for_credential_posts(3)
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(base + "/")
    page.get_by_role("link", name="Registrieren").first.click()
    expect(page.get_by_role("heading", name="Registrieren")).to_be_visible()
    check_accessibility(page)
    page.get_by_label("Vor- und Nachname").fill("Rita Registriert")
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort", exact=True).fill("qwertyuiop123")
    page.get_by_label("Passwort wiederholen").fill("qwertyuiop123")
    page.get_by_role("button", name="Registrieren").click()
    expect(page.get_by_text("Liste häufig verwendeter")).to_be_visible()
    check_accessibility(page)
    page.get_by_label("Passwort", exact=True).fill(password)
    page.get_by_label("Passwort wiederholen").fill(password)
    page.get_by_role("button", name="Registrieren").click()
    expect(page.get_by_role("status")).to_contain_text("Wir haben Ihnen eine E-Mail")
    check_accessibility(page)

    # 2. The link by e-mail; confirming activates the account.
    [mail] = mails_to(portal, (email,), 1, subject="Registrierung bestätigen")
    body = mail.get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"https?://\S+/auth/register/confirm/[\w-]+", body).group(0)
    page.goto(link)
    expect(page.get_by_role("heading", name="Registrierung bestätigen")).to_be_visible()
    check_accessibility(page)
    page.get_by_label("Ihr Passwort aus der Registrierung").fill(password)
    page.get_by_role("button", name="Registrierung bestätigen").click()
    expect(page.get_by_role("heading", name="Anmelden")).to_be_visible()
    page.goto(link)
    expect(page.get_by_role("alert")).to_contain_text("bereits verwendet")
    check_accessibility(page)
    context.close()
    wait_for_credential_posts(2)
    log_out(log_in(browser.new_context(viewport=DESKTOP), base, email, password))

    # 3. The same address again: the same answer, and a mail that a Zugang exists.
    wait_for_credential_posts(1)
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(base + "/auth/register")
    page.get_by_label("Vor- und Nachname").fill("Mallory")
    page.get_by_label("E-Mail-Adresse").fill(email.upper())
    page.get_by_label("Passwort", exact=True).fill(f"Ein anderes Passwort {suffix}")
    page.get_by_label("Passwort wiederholen").fill(f"Ein anderes Passwort {suffix}")
    page.get_by_role("button", name="Registrieren").click()
    expect(page.get_by_role("status")).to_contain_text("Wir haben Ihnen eine E-Mail")
    [existing] = mails_to(portal, (email,), 1, subject="bereits einen Zugang")
    assert "Passwort vergessen" in existing.get_body(preferencelist=("plain",)).get_content()
    page.goto(base + "/auth/register/link")
    expect(page.get_by_role("heading", name="Neuen Bestätigungslink anfordern")).to_be_visible()
    check_accessibility(page)

    # 4. Five wrong passwords: the same message as ever, a mail to the owner, the clerk unlocks.
    wait_for_credential_posts(6)
    page.goto(base + "/auth/login")
    for _ in range(6):
        page.get_by_label(re.compile("Benutzername")).fill(email)
        page.get_by_label("Passwort", exact=True).fill("falsches-Passwort-123")
        page.get_by_role("button", name="Anmelden").click()
        expect(page.get_by_role("alert")).to_contain_text("Die Anmeldung ist fehlgeschlagen")
    expect(page.get_by_role("alert")).not_to_contain_text("gesperrt bis")
    [locked] = mails_to(portal, (email,), 1, subject="vorübergehend gesperrt")
    assert "Passwort vergessen" in locked.get_body(preferencelist=("plain",)).get_content()
    context.close()

    wait_for_credential_posts(2)
    clerk = demo_account("clerk")
    page = log_in(browser.new_context(viewport=DESKTOP), base, clerk.login, clerk.password)
    page.get_by_role("link", name="Zugänge").click()
    expect(page.get_by_role("heading", name="Zugänge", level=1)).to_be_visible()
    page.get_by_label("E-Mail-Adresse oder Azubinummer").fill(email)
    page.get_by_role("button", name="Suchen").click()
    expect(page.get_by_text("gesperrt bis")).to_be_visible()
    check_accessibility(page)
    page.get_by_role("button", name="Sperre aufheben").click()
    expect(page.get_by_text("Die Sperre wurde aufgehoben")).to_be_visible()
    expect(page.get_by_text("nicht gesperrt")).to_be_visible()
    check_accessibility(page)
    log_out(page)
    log_out(log_in(browser.new_context(viewport=DESKTOP), base, email, password))
