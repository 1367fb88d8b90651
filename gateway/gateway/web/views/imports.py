"""Datenübermittlung: the chamber uploads its register export; training-records imports it in the
background, and these pages show how far it has come and which rows failed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from flask import Blueprint, Flask, abort, render_template, request, stream_with_context, url_for
from werkzeug.wrappers import Response

from gateway.web.auth import require
from gateway.web.forms import ImportForm
from gateway.web.import_format import COLUMNS
from gateway.web.navigation import is_clerk
from gateway.web.services import IMPORT_MAX_BYTES, ImportJob, ImportRowError, Page, ServiceError
from gateway.web.views.common import services
from gateway.web.views.sending import prepare, send_once

bp = Blueprint("imports", __name__, url_prefix="/datenuebermittlung")

UPLOADED = (
    "Die Datei wurde hochgeladen. Die Datenübermittlung läuft im Hintergrund; "
    "Sie können diese Seite schließen und später wiederkommen."
)
# The upload's multipart body: the file plus the form's few small fields.
UPLOAD_BODY_LIMIT = IMPORT_MAX_BYTES + 64 * 1024
REFRESH_SECONDS = 2


def allow_large_uploads(app: Flask) -> None:
    """Only the upload may be larger than the app's usual limit; set before CSRF reads the form."""

    @app.before_request
    def _upload_limit() -> None:
        if request.endpoint == "imports.index" and request.method == "POST":
            request.max_content_length = UPLOAD_BODY_LIMIT


@bp.route("", methods=["GET", "POST"])
@require(is_clerk)
def index() -> Response | tuple[str, int]:
    api = services()
    form = ImportForm()
    general_errors: list[str] = []
    if prepare(form, general_errors):
        upload = form.file.data

        def send(token: str) -> str:
            job = api.upload_import(
                upload.filename or "datei", upload.stream, upload.mimetype, idempotency_key=token
            )
            return url_for("imports.job", job_id=job.job_id)

        outcome = send_once(form, send, done=UPLOADED, general_errors=general_errors)
        if outcome is not None:
            return outcome
    jobs: Page[ImportJob] = api.imports(cursor=request.args.get("weiter") or None)
    body = render_template(
        "web/imports.html",
        page_title="Datenübermittlung",
        form=form,
        general_errors=general_errors,
        jobs=jobs,
        max_megabytes=IMPORT_MAX_BYTES // (1024 * 1024),
    )
    return body, 422 if request.method == "POST" else 200


@bp.get("/<uuid:job_id>")
@require(is_clerk)
def job(job_id: uuid.UUID) -> str:
    """One import: a progress bar with rows done of the total, errors so far and the time left;
    it refreshes itself while the import runs (``refresh.js``)."""
    api = services()
    found = api.import_job(str(job_id))
    errors: Page[ImportRowError] = Page(items=[])
    if found.error_count:
        errors = api.import_errors(str(job_id))
    return render_template(
        "web/import_job.html",
        page_title=f"Datenübermittlung: {found.filename}",
        job=found,
        errors=errors,
        refresh_seconds=REFRESH_SECONDS if found.in_progress else None,
    )


@bp.get("/<uuid:job_id>/fehlerbericht.csv")
@require(is_clerk)
def report(job_id: uuid.UUID) -> Response:
    """The error report (CSV for Excel), streamed from training-records."""
    try:
        download = services().import_report(str(job_id))
    except ServiceError as error:
        if error.status == 404:
            abort(404)
        raise

    def chunks() -> Iterator[bytes]:
        try:
            yield from download.chunks
        finally:
            if download.close is not None:
                download.close()

    response = Response(stream_with_context(chunks()), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{download.filename}"'
    if download.length and download.length.isdigit():
        response.headers["Content-Length"] = download.length
    return response


@bp.get("/dateiformat")
@require(is_clerk)
def file_format() -> str:
    return render_template(
        "web/import_format.html",
        page_title="Dateiformat der Datenübermittlung",
        max_megabytes=IMPORT_MAX_BYTES // (1024 * 1024),
        columns=COLUMNS,
    )
