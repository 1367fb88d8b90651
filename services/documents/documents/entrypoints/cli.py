"""``bp-documents``: migrate, worker, DLQ tools, seed-demo, render-pending and a sample PDF."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import click

from chassis.cli import service_cli
from documents.bootstrap import DocumentsRuntime, bootstrap, seed_demo
from documents.domain.commands import RenderDocument
from documents.domain.model import (
    APPRENTICE,
    COMPANY,
    AccessData,
    BrokenSeal,
    Confirmation,
    ContractRecord,
    UnreadableSeal,
)
from documents.domain.queries import ListUnrendered


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
    activation_url = runtime.issuing.activation_url
    for kind, extra in ((COMPANY, None), (APPRENTICE, access)):
        confirmation = Confirmation(contract, kind, now, extra, activation_url if extra else None)
        path = output_dir / confirmation.filename
        path.write_bytes(runtime.reading.renderer.render(confirmation.document_content()))
        click.echo(str(path))


@click.command("render-pending")
@click.option("--limit", type=click.IntRange(min=1), help="Render at most this many documents.")
@click.option("--batch", default=100, show_default=True, type=click.IntRange(1, 1000))
@click.pass_obj
def render_pending(runtime: DocumentsRuntime, limit: int | None, batch: int) -> None:
    """Render the PDFs of documents nobody has opened yet, ahead of their first opening.

    Optional: documents render on their first opening anyway. Safe to run while the
    service serves (each PDF is stored with a compare-and-set; no read receipt is
    recorded) and to stop and run again. Run it before changing DOCUMENTS_SECRET_KEY:
    a document's sealed content opens only with the secret it was sealed with.
    """
    rendered = skipped = 0
    broken: list[uuid.UUID] = []
    after: uuid.UUID | None = None
    while limit is None or rendered + skipped + len(broken) < limit:
        size = batch if limit is None else min(batch, limit - rendered - skipped - len(broken))
        ids: list[uuid.UUID] = runtime.bus.handle(ListUnrendered(after=after, limit=size))
        if not ids:
            break
        for document_id in ids:
            try:
                stored = runtime.bus.handle(RenderDocument(document_id))
            except UnreadableSeal:
                raise click.ClickException(
                    f"document {document_id}: its sealed content does not open with DOCUMENTS_SECRET_KEY "
                    "(was it changed?); nothing more rendered"
                ) from None
            except BrokenSeal as exc:
                click.echo(f"document {document_id}: {exc}", err=True)
                broken.append(document_id)
                continue
            if stored:
                rendered += 1
            else:
                skipped += 1  # opened (and so rendered) meanwhile
        after = ids[-1]
    click.echo(f"{runtime.name}: rendered {rendered} document(s), {skipped} already rendered meanwhile")
    if broken:
        raise click.ClickException(f"{len(broken)} document(s) could not be rendered: see above")


cli = service_cli(bootstrap, seed_demo=seed_demo, extra_commands=[sample_pdf, render_pending])
