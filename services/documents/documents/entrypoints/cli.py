"""``bp-documents``: migrate, worker, DLQ tools, seed-demo and a sample PDF."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import click

from chassis.cli import service_cli
from documents.bootstrap import DocumentsRuntime, bootstrap, seed_demo
from documents.domain.model import APPRENTICE, COMPANY, AccessData, Confirmation, ContractRecord


@click.command("sample-pdf")
@click.argument("output_dir", type=click.Path(file_okay=False, path_type=Path))
@click.pass_obj
def sample_pdf(runtime: DocumentsRuntime, output_dir: Path) -> None:
    """Render both Eintragungsbestätigungen of a made-up contract into OUTPUT_DIR (for review)."""
    output_dir.mkdir(parents=True, exist_ok=True)
    contract = ContractRecord(
        contract_id=uuid.uuid4(),
        contract_number="2026-000001",
        registered_on=date.today(),
        start_date=date(2026, 9, 1),
        end_date=date(2029, 8, 31),
        occupation_code="78100",
        occupation_title="Industriekaufmann/Industriekauffrau",
        company_number="4711001",
        company_name="Muster Maschinenbau GmbH",
        company_email="ausbildung@muster-maschinenbau.example",
        apprentice_first_name="Lena",
        apprentice_last_name="Lernwillig",
        apprentice_birth_date=date(2008, 5, 17),
        apprentice_email="azubi@demo.example",
        apprentice_number="20260099",
    )
    now = datetime.now(UTC)
    access = AccessData(contract.contract_id, "20260099", "MUSTER-CODE-1234", now + timedelta(days=14))
    issuing = runtime.issuing
    for kind, extra in ((COMPANY, None), (APPRENTICE, access)):
        confirmation = Confirmation(contract, kind, now, extra, issuing.activation_url if extra else None)
        path = output_dir / confirmation.filename
        path.write_bytes(issuing.renderer.registration_confirmation(confirmation))
        click.echo(str(path))


cli = service_cli(bootstrap, seed_demo=seed_demo, extra_commands=[sample_pdf])
