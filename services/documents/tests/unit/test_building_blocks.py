"""Configuration, filenames, the vaults, secrets in repr, sealed content, the confirmation's HTML and PDF."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from chassis.config import MissingSecret, ServiceSettings
from documents.adapters.pdf import (
    TEMPLATES,
    UnknownTemplate,
    WeasyPrintRenderer,
    de_date,
    de_datetime,
)
from documents.adapters.vault import PENDING_ACCESS, SEALED_CONTENT, FernetVault, UnreadableSeal
from documents.config import DEFAULT_CUTOFF, DocumentsSettings
from documents.domain.model import (
    REGISTRATION_CONFIRMATION,
    REGISTRATION_CONFIRMATION_VERSION,
    AccessData,
    BrokenSeal,
    Confirmation,
    ContractRecord,
    DocumentContent,
    safe_filename,
)


@pytest.fixture
def settings(tmp_path: Path) -> Callable[..., ServiceSettings]:
    def make(**env: str) -> ServiceSettings:
        base = {"BP_PUBLIC_URL": "https://portal.example/", "BP_DATA_DIR": str(tmp_path)}
        return ServiceSettings.from_env("documents", {**base, **env})

    return make


def test_cutoff_defaults_to_february_2018_and_is_configurable(settings) -> None:
    assert (
        DocumentsSettings.from_settings(settings()).digital_confirmation_cutoff
        == DEFAULT_CUTOFF
        == date(2018, 2, 1)
    )
    own = DocumentsSettings.from_settings(settings(DOCUMENTS_DIGITAL_CONFIRMATION_CUTOFF="2020-01-01"))
    assert own.digital_confirmation_cutoff == date(2020, 1, 1)
    assert own.activation_url == "https://portal.example/auth/activate"
    with pytest.raises(ValueError, match="DOCUMENTS_DIGITAL_CONFIRMATION_CUTOFF"):
        DocumentsSettings.from_settings(settings(DOCUMENTS_DIGITAL_CONFIRMATION_CUTOFF="01.02.2018"))


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (
            ("Eintragungsbestätigung", "2026-000001", "Betrieb"),
            "Eintragungsbestaetigung-2026-000001-Betrieb.pdf",
        ),
        (('a"b', "c\r\nd", "../e"), "a-b-c-d-..-e.pdf"),
        (("ÄÖÜß", "x y"), "AeOeUess-x-y.pdf"),
        (("\"';",), "dokument.pdf"),
    ],
)
def test_safe_filename(parts, expected) -> None:
    name = safe_filename(*parts)
    assert name == expected
    assert name.isascii() and '"' not in name and "/" not in name


def test_vault_round_trip_and_tampering() -> None:
    vault = FernetVault("s3cret")
    sealed = vault.seal("ABC-123")
    assert b"ABC-123" not in sealed
    assert vault.open(sealed) == "ABC-123"
    with pytest.raises(UnreadableSeal):
        FernetVault("other secret").open(sealed)
    with pytest.raises(UnreadableSeal):
        vault.open(sealed[:-3] + b"AAA")


def test_each_purpose_has_its_own_key() -> None:
    pending, contents = (
        FernetVault("s3cret", purpose=PENDING_ACCESS),
        FernetVault("s3cret", purpose=SEALED_CONTENT),
    )
    assert FernetVault("s3cret").open(pending.seal("x")) == "x"  # pending access: the key it always had
    with pytest.raises(UnreadableSeal):
        contents.open(pending.seal("ABC-123"))
    with pytest.raises(UnreadableSeal):
        pending.open(contents.seal("ABC-123"))


def test_vault_key_is_configured_generated_only_when_embedded_or_refused(
    settings: Callable[..., ServiceSettings], tmp_path: Path
) -> None:
    assert settings(DOCUMENTS_SECRET_KEY="configured").required_secret_key() == "configured"
    generated = settings(BP_MODE="embedded").required_secret_key()
    assert settings(BP_MODE="embedded").required_secret_key() == generated  # stable across restarts
    assert (tmp_path / "secrets" / "DOCUMENTS_SECRET_KEY").stat().st_mode & 0o077 == 0
    with pytest.raises(MissingSecret, match=r"^DOCUMENTS_SECRET_KEY is not set"):
        settings().required_secret_key()


def access() -> AccessData:
    return AccessData(uuid.uuid4(), "20269876", "SECRET-CODE-42", datetime(2026, 8, 17, 12, 0, tzinfo=UTC))


def test_the_activation_code_never_shows_in_repr() -> None:
    assert "SECRET-CODE-42" not in repr(access())


def contract() -> ContractRecord:
    return ContractRecord(
        contract_id=uuid.uuid4(),
        contract_number="2026-000123",
        registered_on=date(2026, 8, 3),
        start_date=date(2026, 9, 1),
        end_date=date(2029, 8, 31),
        occupation_code="78100",
        occupation_title="Industriekaufmann/Industriekauffrau",
        company_number="4711001",
        company_name="Müller & <Söhne> GmbH",
        company_email="a@b.example",
        apprentice_first_name="Jonas",
        apprentice_last_name="Jüngling",
        apprentice_birth_date=date(2009, 3, 14),
        apprentice_email="j@b.example",
        apprentice_number="20269876",
    )


def apprentice_confirmation() -> Confirmation:
    issued = datetime(2026, 8, 3, 7, 0, tzinfo=UTC)
    return Confirmation(contract(), "apprentice", issued, access(), "https://portal.example/auth/activate")


def test_sealed_content_is_canonical_json_with_its_digest() -> None:
    content = apprentice_confirmation().document_content(salt="00" * 16)
    text = content.canonical()
    assert json.loads(text) == {
        "template": REGISTRATION_CONFIRMATION,
        "template_version": REGISTRATION_CONFIRMATION_VERSION,
        "salt": "00" * 16,
        "fields": content.fields,
    }
    # One form only: sorted keys, no white space, UTF-8 rather than escapes.
    assert text == json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert text.startswith('{"fields":{"access":{"activation_code":"SECRET-CODE-42",')
    assert "Jüngling" in text and "\\u" not in text
    assert content.sha256 == hashlib.sha256(text.encode()).hexdigest()
    # Only what the PDF shows: no e-mail addresses, no contract id.
    assert "@" not in text and str(apprentice_confirmation().contract.contract_id) not in text
    assert content.fields["issued_at"] == "2026-08-03T07:00:00+00:00"
    assert content.fields["access"]["expires_at"] == "2026-08-17T12:00:00+00:00"
    # The code is a secret: not in repr.
    assert "SECRET-CODE-42" not in repr(content)


def test_sealed_content_opens_only_as_sealed() -> None:
    content = apprentice_confirmation().document_content()
    text = content.canonical()
    assert DocumentContent.from_canonical(text, sha256=content.sha256) == content
    altered = text.replace("SECRET-CODE-42", "SECRET-CODE-43")
    with pytest.raises(BrokenSeal, match="digest"):
        DocumentContent.from_canonical(altered, sha256=content.sha256)
    spaced = json.dumps(json.loads(text), sort_keys=True, ensure_ascii=False)
    with pytest.raises(BrokenSeal, match="canonical"):
        DocumentContent.from_canonical(spaced, sha256=hashlib.sha256(spaced.encode()).hexdigest())
    with pytest.raises(BrokenSeal, match="not a document"):
        DocumentContent.from_canonical("[1]", sha256=hashlib.sha256(b"[1]").hexdigest())


def test_the_salt_hides_what_the_digest_commits_to() -> None:
    confirmation = apprentice_confirmation()
    first, second = confirmation.document_content(), confirmation.document_content()
    assert first.fields == second.fields and first.salt != second.salt
    assert first.sha256 != second.sha256
    assert len(first.salt) == 32


def test_every_version_the_domain_seals_has_a_template() -> None:
    assert (REGISTRATION_CONFIRMATION, REGISTRATION_CONFIRMATION_VERSION) in TEMPLATES
    content = apprentice_confirmation().document_content()
    with pytest.raises(UnknownTemplate):
        WeasyPrintRenderer().html_for(dataclasses.replace(content, template_version=999))


def test_html_holds_register_data_and_access_data_only_for_the_apprentice() -> None:
    renderer = WeasyPrintRenderer()
    issued = datetime(2026, 8, 3, 7, 0, tzinfo=UTC)
    record = contract()
    company_html = renderer.html_for(Confirmation(record, "company", issued).document_content())
    apprentice_html = renderer.html_for(
        Confirmation(
            record, "apprentice", issued, access(), "https://portal.example/auth/activate"
        ).document_content()
    )
    for html in (company_html, apprentice_html):
        assert '<html lang="de">' in html
        assert "<title>Eintragungsbestätigung 2026-000123</title>" in html
        for text in ("2026-000123", "03.08.2026", "14.03.2009", "01.09.2026", "31.08.2029", "Jonas Jüngling"):
            assert text in html
        assert "Müller &amp; &lt;Söhne&gt; GmbH" in html  # escaped, never markup
    assert "Ihre Zugangsdaten zum Bildungsportal" in apprentice_html
    assert "SECRET-CODE-42" in apprentice_html and "20269876" in apprentice_html
    assert "https://portal.example/auth/activate" in apprentice_html
    assert "17.08.2026, 14:00 Uhr" in apprentice_html  # Berlin summer time
    assert "SECRET-CODE-42" not in company_html and "Zugangsdaten zum Bildungsportal</h2>" not in company_html
    assert "<h1>Eintragungsbestätigung für den Ausbildungsbetrieb</h1>" in company_html
    assert "<h1>Eintragungsbestätigung für Auszubildende</h1>" in apprentice_html
    assert company_html.startswith("<!DOCTYPE html>")


def test_html_for_an_already_active_account_names_no_code() -> None:
    without_code = AccessData(uuid.uuid4(), "20269876", None, None)
    html = WeasyPrintRenderer().html_for(
        Confirmation(
            contract(), "apprentice", datetime(2026, 8, 3, 7, 0, tzinfo=UTC), without_code, None
        ).document_content()
    )
    assert "bereits einen Account" in html and "20269876" in html
    assert "Aktivierungscode" not in html and "/auth/activate" not in html


def test_german_date_time_in_berlin_time() -> None:
    assert de_datetime(datetime(2026, 1, 15, 23, 30, tzinfo=UTC)) == "16.01.2026, 00:30 Uhr"
    assert de_datetime("2026-01-15T23:30:00+00:00") == "16.01.2026, 00:30 Uhr"
    assert de_date("2026-01-15T23:30:00+00:00") == "16.01.2026"  # a point in time: its day in Germany
    assert de_date("2009-03-14") == de_date(date(2009, 3, 14)) == "14.03.2009"


def test_the_same_content_renders_to_the_same_bytes() -> None:
    renderer = WeasyPrintRenderer()
    # Pinned for fontTools' font subsets (WeasyPrint's fallback without HarfBuzz's subsetter).
    assert "SOURCE_DATE_EPOCH" in os.environ
    content = apprentice_confirmation().document_content()
    first = renderer.render(content)
    time.sleep(1.1)  # the font subsets' timestamp has a resolution of one second
    again = renderer.render(DocumentContent.from_canonical(content.canonical(), sha256=content.sha256))
    assert first.startswith(b"%PDF-") and first == again
