"""Configuration, filenames, the vault, secrets in repr, and the confirmation's HTML."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from chassis.config import MissingSecret, ServiceSettings
from documents.adapters.pdf import WeasyPrintRenderer, de_datetime
from documents.adapters.vault import FernetVault, UnreadableSeal
from documents.config import DEFAULT_CUTOFF, DocumentsSettings
from documents.domain.model import AccessData, Confirmation, ContractRecord, safe_filename


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


def test_html_holds_register_data_and_access_data_only_for_the_apprentice() -> None:
    renderer = WeasyPrintRenderer()
    issued = datetime(2026, 8, 3, 7, 0, tzinfo=UTC)
    record = contract()
    company_html = renderer.html_for(Confirmation(record, "company", issued))
    apprentice_html = renderer.html_for(
        Confirmation(record, "apprentice", issued, access(), "https://portal.example/auth/activate")
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


def test_html_for_an_already_active_account_names_no_code() -> None:
    without_code = AccessData(uuid.uuid4(), "20269876", None, None)
    html = WeasyPrintRenderer().html_for(
        Confirmation(contract(), "apprentice", datetime(2026, 8, 3, 7, 0, tzinfo=UTC), without_code, None)
    )
    assert "bereits einen Account" in html and "20269876" in html
    assert "Aktivierungscode" not in html and "/auth/activate" not in html


def test_german_date_time_in_berlin_time() -> None:
    assert de_datetime(datetime(2026, 1, 15, 23, 30, tzinfo=UTC)) == "16.01.2026, 00:30 Uhr"
