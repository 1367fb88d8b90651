"""The web UI explains the import file and offers its sample, but it talks to training-records
over HTTP and cannot import its code: the UI's copies must stay what training-records reads."""

from __future__ import annotations

from pathlib import Path

from gateway.routes import UPLOAD_PATHS
from gateway.web.import_format import COLUMNS as UI_COLUMNS
from gateway.web.services import IMPORT_MAX_BYTES
from training_records.domain.import_rows import COLUMNS
from training_records.service_layer.importing import MAX_UPLOAD_BYTES

ROOT = Path(__file__).resolve().parents[2]


def test_the_ui_documents_exactly_the_columns_the_import_reads() -> None:
    assert [(c.key, c.label, c.required) for c in UI_COLUMNS] == [
        (c.name, c.label, c.required) for c in COLUMNS
    ]


def test_the_ui_offers_the_sample_file_training_records_ships() -> None:
    shipped = ROOT / "services/training-records/training_records/data/import-sample.csv"
    offered = ROOT / "gateway/gateway/web/static/datenuebermittlung-muster.csv"
    assert offered.read_bytes() == shipped.read_bytes()


def test_the_ui_and_the_edge_take_the_files_the_service_takes() -> None:
    assert IMPORT_MAX_BYTES == MAX_UPLOAD_BYTES
    for upload in UPLOAD_PATHS:
        assert upload.body_limit.endswith("m")
        # The multipart body is the file plus a little: the edge allows at least a MiB more.
        assert int(upload.body_limit[:-1]) * 1024 * 1024 >= MAX_UPLOAD_BYTES + 1024 * 1024
