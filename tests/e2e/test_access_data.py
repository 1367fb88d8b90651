"""Access data across the distributed portal, clicked through in Chromium (axe at 1280 and 375 px).

1. The chamber's data import enters a new company with a trainer and an apprentice.
2. identity gives the company a one-time Aktivierungscode; documents issues the access letter.
3. The clerk opens the letter (tagged PDF with Identnummer and code) on "Zugangsdaten" and marks it printed.
4. A person with an active account unlocks the company with the letter ("Zugang freischalten"): the
   session carries the Administrator role at once, no new login.
5. As the company's Administrator they create the trainer's account ("Account erstellen"); the
   invitation mail's link sets the password ("Zugang einrichten"), the list says "aktiv".
6. "Zugangsdaten erneut anfordern" answers the same for every number.
"""

from __future__ import annotations

import importlib.util
import re
import tempfile
import uuid
from pathlib import Path
from types import ModuleType

import pytest
from playwright.sync_api import Browser, expect

from chassis.demo import demo_account
from chassis.testing.waiting import wait_until

pytestmark = pytest.mark.e2e


def _walking_skeleton() -> ModuleType:
    """The walking skeleton's helpers (login, axe at both widths, PDF text): tests/ is no package."""
    spec = importlib.util.spec_from_file_location(
        "e2e_walking_skeleton", Path(__file__).with_name("test_walking_skeleton.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_skeleton = _walking_skeleton()
DESKTOP = _skeleton.DESKTOP
check_accessibility = _skeleton.check_accessibility
log_in = _skeleton.log_in
log_out = _skeleton.log_out
pdf_text = _skeleton.pdf_text
wait_for_credential_posts = _skeleton.wait_for_credential_posts

HEADER = (
    "Vertragsnummer;Identnummer;Firma;Straße;PLZ;Ort;Firma E-Mail;Zentrale Identnummer;Ausbilder Vorname;"
    "Ausbilder Nachname;Ausbilder E-Mail;Ausbildereignung;Azubi Vorname;Azubi Nachname;Azubi Geburtsdatum;"
    "Azubi E-Mail;Beruf;Fachrichtung;Beginn;Ende;Probezeit Monate;Teilzeit;Verkürzung Monate;Eingetragen am"
)
CODE = re.compile(r"[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}")
PASSWORD = "Tinas-erstes-Passwort-2026"


def test_company_letter_unlock_and_account_for_a_trainer(portal, browser: Browser) -> None:  # type: ignore[no-untyped-def]
    base = portal.base_url
    suffix = uuid.uuid4().hex[:6]
    number = f"48{uuid.uuid4().int % 100000:05d}"
    trainer_email = f"tina.{suffix}@example.org"
    row = (
        f"V-E2E-{suffix};{number};Neue Technik {suffix} GmbH;Hauptstraße 1;34117;Kassel;info.{suffix}@example.org;;"
        f"Tina;Trainer-{suffix};{trainer_email};ja;Paul;Probst-{suffix};14.03.2008;paul.{suffix}@example.org;"
        "25400;;01.09.2026;28.02.2030;4;nein;0;01.08.2026"
    )
    upload = Path(tempfile.mkdtemp()) / f"neu-{suffix}.csv"
    upload.write_text(HEADER + "\n" + row + "\n", encoding="utf-8")

    # 1. The import enters the company.
    clerk = demo_account("clerk")
    clerk_context = browser.new_context(viewport=DESKTOP)
    page = log_in(clerk_context, base, clerk.login, clerk.password)
    page.goto(base + "/datenuebermittlung")
    page.get_by_label("Datei (CSV oder Excel)").set_input_files(str(upload))
    page.get_by_role("button", name="Hochladen und übermitteln").click()
    expect(
        page.get_by_role("status").filter(has_text="Die Datenübermittlung ist abgeschlossen")
    ).to_be_visible(timeout=60_000)

    # 2./3. The letter is there to print, with the Identnummer and the code.
    page.get_by_role("navigation").get_by_role("link", name="Zugangsdaten").click()

    def letter_listed() -> bool:
        page.reload()
        return page.get_by_role("row").filter(has_text=number).count() == 1

    wait_until(letter_listed, 60, "the company's access letter", interval=0.5)
    check_accessibility(page)
    letter_row = page.get_by_role("row").filter(has_text=number)
    href = letter_row.get_by_role("link", name=re.compile("Anschreiben öffnen")).get_attribute("href")
    # The first opening renders the letter (WeasyPrint, seconds on a busy machine); if the portal's
    # call times out meanwhile, the stored rendering answers the next one.
    wait_until(
        lambda: clerk_context.request.get(base + str(href)).status == 200,
        90,
        "the rendered letter",
        interval=2,
    )
    text = pdf_text(clerk_context, base + str(href))
    assert number in text and "Zugang freischalten" in text
    found = CODE.search(text)
    assert found, text
    code = found.group(0)
    letter_row.get_by_role("button", name=re.compile("Als gedruckt markieren")).click()
    expect(page.get_by_text("Das Anschreiben ist als gedruckt markiert.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text=number)).to_have_count(0)
    log_out(page)
    clerk_context.close()

    # 4. An active account unlocks the company.
    wait_for_credential_posts(2)
    person = demo_account("trainer")
    context = browser.new_context(viewport=DESKTOP)
    page = log_in(context, base, person.login, person.password)
    page.get_by_role("main").get_by_role("link", name="Zugang freischalten").click()
    expect(page.get_by_role("heading", level=1, name="Zugang freischalten")).to_be_visible()
    check_accessibility(page)
    page.get_by_label("Zugang für").select_option("company")
    page.get_by_label("Identnummer bzw. Azubinummer").fill(number)
    page.get_by_label("Aktivierungscode").fill("AAAA-BBBB-CCCC")
    page.get_by_role("main").get_by_role("button", name="Zugang freischalten").click()
    expect(page.locator("#code-error")).to_contain_text(
        "Identnummer bzw. Azubinummer oder Aktivierungscode ist ungültig."
    )
    check_accessibility(page)
    page.get_by_label("Aktivierungscode").fill(code.lower())
    page.get_by_role("main").get_by_role("button", name="Zugang freischalten").click()
    expect(page.get_by_text(f"Sie sind jetzt Administrator/-in des Betriebs {number}")).to_be_visible()

    # 5. As the company's Administrator: Account erstellen for the trainer.
    page.get_by_role("navigation").get_by_role("link", name="Ausbilder/-in").click()
    if page.get_by_label("Betrieb").count():
        page.goto(base + f"/ausbilder?betrieb={number}")
    trainer_row = page.get_by_role("row").filter(has_text=f"Trainer-{suffix}")
    expect(trainer_row).to_contain_text("noch nicht angelegt")
    check_accessibility(page)
    trainer_row.get_by_role("link", name=re.compile("Account erstellen")).click()
    check_accessibility(page)
    page.get_by_role("main").get_by_role("button", name="Account erstellen").click()
    expect(page.get_by_text("Der Account wurde erstellt.")).to_be_visible()

    def invited_shown() -> bool:
        page.reload()
        return "eingeladen" in page.get_by_role("row").filter(has_text=f"Trainer-{suffix}").inner_text()

    wait_until(invited_shown, 60, "the trainer's account state 'eingeladen'", interval=0.5)

    def invitation_mail() -> bool:
        return any(trainer_email in str(m["To"]) for m in portal.mailbox.messages)

    wait_until(invitation_mail, 60, "the invitation mail", interval=0.5)
    mail = next(m for m in portal.mailbox.messages if trainer_email in str(m["To"]))
    body = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    link = re.search(r"https?://\S+/auth/invitation/\S+", body)
    assert link, body
    assert code not in body

    invited = browser.new_context(viewport=DESKTOP)
    setup = invited.new_page()
    setup.goto(link.group(0))
    expect(setup.get_by_role("heading", name="Zugang einrichten")).to_be_visible()
    check_accessibility(setup)
    setup.get_by_label("Neues Passwort", exact=True).fill(PASSWORD)
    setup.get_by_label("Neues Passwort wiederholen").fill(PASSWORD)
    setup.get_by_role("button", name="Zugang einrichten").click()
    expect(setup.get_by_text("Ihr Zugang ist eingerichtet")).to_be_visible()
    check_accessibility(setup)

    def active_shown() -> bool:
        page.reload()
        return "aktiv" in page.get_by_role("row").filter(has_text=f"Trainer-{suffix}").inner_text()

    wait_until(active_shown, 60, "the trainer's account state 'aktiv'", interval=0.5)
    context.close()

    # The new trainer logs in with the password set through the link.
    wait_for_credential_posts(2)
    trainer_page = log_in(invited, base, trainer_email, PASSWORD)
    expect(trainer_page.get_by_role("heading", name="Übersicht")).to_be_visible()

    # 6. Zugangsdaten erneut anfordern: the same answer, known number or not.
    answers = []
    for asked in (number, "4999999"):
        wait_for_credential_posts(1)
        request_page = invited.new_page()
        request_page.goto(base + "/auth/access-data/request")
        check_accessibility(request_page)
        request_page.get_by_label("Ausbildungsbetrieb (Identnummer)").check()
        request_page.get_by_label("Identnummer bzw. Azubinummer").fill(asked)
        request_page.get_by_label("Ihr Name (Ansprechpartner/-in)").fill("Nora Neu")
        request_page.get_by_role("button", name="Zugangsdaten anfordern").click()
        expect(request_page.get_by_role("status")).to_be_visible()
        answers.append(request_page.get_by_role("status").inner_text())
    assert answers[0] == answers[1]
    invited.close()
