"""The walking skeleton's flow, clicked through in Chromium against the distributed portal.

1. The chamber clerk registers a training contract ("eingetragen").
2. identity prepares the apprentice's account (Azubinummer + activation code).
3. documents issues the Eintragungsbestätigung for company and apprentice.
4. notifications e-mails both over SMTP (no code in any mail).
5. The apprentice activates the account and logs in through OIDC (code + PKCE S256).
6. The apprentice sees the unread-documents notice and opens the PDF; the company
   sees under "Ausbildungsverhältnisse" that and when it was opened.
7. The apprentice forgets the password: "Passwort vergessen" with the Azubinummer,
   the reset link arrives by e-mail, a new password is set and works.
Every page visited is checked with axe-core (WCAG 2.1 AA) at desktop and phone width.
"""

from __future__ import annotations

import io
import re
import time
import uuid

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, expect
from pypdf import PdfReader

from chassis.demo import DEMO_COMPANY, demo_account
from chassis.testing.waiting import wait_until
from gateway.routes import RATE_LIMITS, RateClass

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}

axe = Axe()


def check_accessibility(page: Page) -> None:
    """No axe-core violations, at desktop and at phone width."""
    for viewport in (DESKTOP, PHONE):
        page.set_viewport_size(viewport)
        results = axe.run(page, options=AXE_OPTIONS)
        assert results.violations_count == 0, (
            f"{page.url} @ {viewport['width']}px:\n{results.generate_report()}"
        )
    page.set_viewport_size(DESKTOP)


def log_in(context: BrowserContext, base_url: str, login: str, password: str) -> Page:
    page = context.new_page()
    page.goto(base_url + "/")
    check_accessibility(page)
    page.get_by_role("link", name="Anmelden").first.click()
    expect(page.get_by_role("heading", name="Anmelden")).to_be_visible()
    check_accessibility(page)
    page.get_by_label(re.compile("Benutzername")).fill(login)
    page.get_by_label("Passwort", exact=True).fill(password)
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("heading", name="Übersicht")).to_be_visible()
    return page


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Abmelden").click()
    expect(page.get_by_role("link", name="Anmelden").first).to_be_visible()


def mails_to(portal, addresses: tuple[str, ...], count: int, subject: str | None = None) -> list:  # type: ignore[no-untyped-def,type-arg]
    """The mails to ``addresses`` (and with ``subject`` in theirs), once ``count`` have arrived:
    other tests of the session share the SMTP sink."""

    def matching() -> list:  # type: ignore[type-arg]
        return [
            m
            for m in list(portal.mailbox.messages)
            if any(a in str(m["To"]) for a in addresses) and (subject is None or subject in str(m["Subject"]))
        ]

    wait_until(lambda: len(matching()) >= count, 60, f"{count} mail(s) to {addresses}", interval=0.2)
    return matching()


def wait_for_credential_posts(count: int) -> None:
    """Wait until the edge surely lets ``count`` more credential posts through.

    nginx limits logins, activations and password resets per client address (the
    route table's rate, with a burst), and this whole test is one address.
    """
    per_minute = int(RATE_LIMITS[RateClass.CREDENTIALS].rate.removesuffix("r/m"))
    time.sleep(count * 60 / per_minute)


def pdf_text(context: BrowserContext, url: str) -> str:
    response = context.request.get(url)
    assert response.status == 200, response.status
    assert response.headers["content-type"].startswith("application/pdf")
    body = response.body()
    assert body.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


def test_contract_to_opened_confirmation(portal, browser: Browser) -> None:  # type: ignore[no-untyped-def]
    base = portal.base_url
    suffix = uuid.uuid4().hex[:6]
    apprentice_email = f"jonas.{suffix}@example.org"

    # 1. The chamber clerk registers the contract.
    clerk = demo_account("clerk")
    clerk_context = browser.new_context(viewport=DESKTOP)
    page = log_in(clerk_context, base, clerk.login, clerk.password)
    check_accessibility(page)
    page.get_by_role("link", name="Ausbildungsverhältnisse").first.click()
    expect(page.get_by_role("heading", name="Ausbildungsverhältnisse")).to_be_visible()
    check_accessibility(page)
    page.get_by_role("main").get_by_role("link", name="Ausbildungsvertrag eintragen").click()
    expect(page.get_by_role("heading", name="Ausbildungsvertrag eintragen")).to_be_visible()
    check_accessibility(page)

    # Bad input first: a German message at the field, nothing registered.
    page.get_by_label("Ausbildungsbetrieb").select_option(DEMO_COMPANY["company_number"])
    page.get_by_label("Vorname").fill("Jonas")
    page.get_by_label("Nachname").fill(f"Neumann-{suffix}")
    page.get_by_label("Geburtsdatum").fill("2008-03-14")
    page.get_by_label("E-Mail-Adresse").fill(apprentice_email)
    page.get_by_label("Ausbildungsberuf").select_option("13100")
    page.get_by_label("Beginn der Ausbildung").fill("2026-09-01")
    page.get_by_label("Ende der Ausbildung").fill("2026-08-01")
    page.get_by_role("button", name="Ausbildungsvertrag eintragen").click()
    expect(page.locator(".field-error").first).to_be_visible()
    check_accessibility(page)

    page.get_by_label("Ende der Ausbildung").fill("2029-08-31")
    page.get_by_label("Probezeit").select_option("4")
    page.get_by_role("button", name="Ausbildungsvertrag eintragen").click()
    expect(page.get_by_text("Das Ausbildungsverhältnis wurde eingetragen.")).to_be_visible()
    row = page.get_by_role("row").filter(has_text=f"Neumann-{suffix}")
    expect(row).to_contain_text("eingetragen")
    check_accessibility(page)

    # 2./3. Account prepared and confirmations issued: the clerk's contract page shows the
    # progress and then both documents; the chamber prints the apprentice's for the post.
    row.get_by_role("link", name=re.compile("Details")).click()
    expect(page.get_by_role("heading", name=re.compile("Ausbildungsverhältnis"))).to_be_visible()

    def both_documents_issued() -> bool:
        page.reload()
        return page.get_by_role("link", name=re.compile("Ausfertigung für Auszubildende")).count() == 1 and (
            page.get_by_role("link", name=re.compile("Ausfertigung für den Ausbildungsbetrieb")).count() == 1
        )

    wait_until(both_documents_issued, 60, "both Eintragungsbestätigungen", interval=0.5)
    check_accessibility(page)
    apprentice_copy = page.get_by_role("link", name=re.compile("Ausfertigung für Auszubildende"))
    text = pdf_text(clerk_context, base + apprentice_copy.get_attribute("href"))
    assert "Eintragungsbestätigung" in text and f"Neumann-{suffix}" in text
    apprentice_number = re.search(r"Azubinummer\s*:?\s*(\d{8})", text).group(1)
    activation_code = re.search(r"Aktivierungscode\s*:?\s*([A-Z0-9][A-Z0-9 -]{6,}[A-Z0-9])", text).group(1)
    log_out(page)
    clerk_context.close()

    # 4. Both e-mails arrived over SMTP, without any code in them.
    mails = mails_to(portal, (apprentice_email, DEMO_COMPANY["email"]), 2)
    recipients = {str(m["To"]) for m in mails}
    assert any(apprentice_email in r for r in recipients)
    assert any(DEMO_COMPANY["email"] in r for r in recipients)
    for mail in mails:
        assert "Dokument" in str(mail["Subject"])
        raw = mail.as_string()
        assert activation_code not in raw and activation_code.replace("-", "") not in raw

    # 5. The apprentice activates the account and logs in through OIDC.
    apprentice_context = browser.new_context(viewport=DESKTOP)
    page = apprentice_context.new_page()
    page.goto(base + "/auth/activate")
    expect(page.get_by_role("heading", name="Account aktivieren")).to_be_visible()
    check_accessibility(page)
    password = f"Sicheres-Passwort-{suffix}!"
    page.get_by_label("Azubinummer").fill(apprentice_number)
    page.get_by_label("Aktivierungscode").fill(activation_code)
    page.get_by_label("Neues Passwort", exact=True).fill(password)
    page.get_by_label("Neues Passwort wiederholen").fill(password)
    page.get_by_role("button", name="Account aktivieren").click()
    expect(page.get_by_role("status").or_(page.get_by_role("heading", name="Anmelden")).first).to_be_visible()

    page = log_in(apprentice_context, base, apprentice_number, password)
    # 6. The notice about unread documents, then the document itself.
    expect(page.get_by_text("Es liegen neue oder noch nicht gelesene Dokumente vor.")).to_be_visible()
    check_accessibility(page)
    page.get_by_role("link", name="Dokumente", exact=True).first.click()
    expect(page.get_by_role("heading", name="Dokumente")).to_be_visible()
    check_accessibility(page)
    link = page.get_by_role("link", name=re.compile("öffnen \\(PDF\\)"))
    expect(link).to_have_count(1)
    text = pdf_text(apprentice_context, base + link.get_attribute("href"))
    assert apprentice_number in text
    page.reload()
    expect(page.get_by_text("Gelesen")).to_be_visible()
    log_out(page)
    apprentice_context.close()

    # The company sees that, and when, the apprentice opened it.
    admin = demo_account("company_admin")
    company_context = browser.new_context(viewport=DESKTOP)
    page = log_in(company_context, base, admin.login, admin.password)
    page.get_by_role("link", name="Ausbildungsverhältnisse").first.click()
    row = page.get_by_role("row").filter(has_text=f"Neumann-{suffix}")

    def receipt_shown() -> bool:
        page.reload()
        return "Auszubildende/r: geöffnet am" in (row.text_content() or "")

    wait_until(receipt_shown, 60, "the apprentice's read receipt on the company's list", interval=0.5)
    assert re.search(
        r"Auszubildende/r: geöffnet am \d\d\.\d\d\.\d{4} um \d\d:\d\d Uhr", row.text_content() or ""
    )
    check_accessibility(page)
    company_context.close()

    # A used activation code is refused with a clear German message.
    again = browser.new_context(viewport=DESKTOP)
    page = again.new_page()
    page.goto(base + "/auth/activate")
    page.get_by_label("Azubinummer").fill(apprentice_number)
    page.get_by_label("Aktivierungscode").fill(activation_code)
    page.get_by_label("Neues Passwort", exact=True).fill(password + "x")
    page.get_by_label("Neues Passwort wiederholen").fill(password + "x")
    page.get_by_role("button", name="Account aktivieren").click()
    expect(page.get_by_role("alert")).to_contain_text("bereits")
    again.close()

    # 7. Passwort vergessen: the link comes by e-mail, the new password works.
    wait_for_credential_posts(3)  # request, new password, login
    forgetful = browser.new_context(viewport=DESKTOP)
    page = forgetful.new_page()
    page.goto(base + "/auth/login")
    page.get_by_role("link", name="Passwort vergessen").click()
    expect(page.get_by_role("heading", name="Passwort vergessen")).to_be_visible()
    check_accessibility(page)
    page.get_by_label("Benutzername oder E-Mail-Adresse").fill(apprentice_number)
    page.get_by_role("button", name="Link anfordern").click()
    expect(page.get_by_role("status")).to_contain_text("erhalten Sie in Kürze eine E-Mail")
    check_accessibility(page)
    [reset_mail] = mails_to(portal, (apprentice_email,), 1, subject="Passwort zurücksetzen")
    assert apprentice_email in str(reset_mail["To"])
    body = reset_mail.get_body(preferencelist=("plain",)).get_content()
    reset_url = re.search(r"https?://\S+/auth/password/reset/[\w-]+", body).group(0)
    page.goto(reset_url)
    expect(page.get_by_role("heading", name="Neues Passwort vergeben")).to_be_visible()
    check_accessibility(page)
    new_password = f"Noch-sichereres-Passwort-{suffix}!"
    page.get_by_label("Neues Passwort", exact=True).fill(new_password)
    page.get_by_label("Neues Passwort wiederholen").fill(new_password)
    page.get_by_role("button", name="Passwort speichern").click()
    expect(page.get_by_role("status")).to_contain_text("Ihr neues Passwort ist gespeichert")
    forgetful.close()
    page = log_in(browser.new_context(viewport=DESKTOP), base, apprentice_number, new_password)
    log_out(page)


# -- self-registration and lockout ------------------------------------------------------------------
# 1. The start page links to "Registrieren"; the person registers at identity.
# 2. The confirmation link arrives by e-mail; confirming (with the chosen password) activates the
#    account, which then logs in. The used link says so.
# 3. Registering the same address again answers alike; the mail says a Zugang exists.
# 4. Five wrong passwords lock the account: the page says nothing new, the owner gets a mail,
#    and the chamber's clerk lifts the lock under "Zugangssperren".


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
    page.get_by_role("navigation", name="Hauptnavigation").get_by_role("link", name="Zugangssperren").click()
    expect(page.get_by_role("heading", name="Zugangssperren", level=1)).to_be_visible()
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
