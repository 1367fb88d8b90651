"""The HTTP client of the services' APIs against a real (stand-in) HTTP server."""

from __future__ import annotations

import json
import socket
import threading
from typing import Any

import pytest
import requests
from werkzeug.wrappers import Request, Response

from gateway.web.services import UNAVAILABLE, HttpServices, ServiceError


def client(base_url: str, timeout: float = 5.0) -> HttpServices:
    return HttpServices(base_url, "token-123", http=requests.Session(), timeout=timeout, request_id="req-1")


def json_response(body: Any, status: int = 200, mimetype: str = "application/json") -> Response:
    return Response(json.dumps(body), status=status, mimetype=mimetype)


def test_requests_carry_the_token_and_request_id_and_parse_pages(serve) -> None:
    seen: list[Request] = []

    def handler(request: Request) -> Response:
        seen.append(request)
        item = {
            "id": "c-1",
            "contract_number": "2026-000001",
            "state": "registered",
            "start_date": "2026-08-01",
            "end_date": "2029-07-31",
            "occupation": {"code": "78100", "title": "Industriekaufmann/Industriekauffrau"},
            "company": {"company_number": "4711001", "name": "Muster"},
            "apprentice": {"first_name": "Lena", "last_name": "Lernwillig", "account_state": "active"},
            "confirmation_opened_at": {"company": None, "apprentice": "2026-11-24T13:03:00+00:00"},
        }
        return json_response({"items": [item], "next_cursor": "c3"})

    page = client(serve(handler)).contracts(cursor="c2")
    (request,) = seen
    assert request.path == "/api/training/contracts"
    assert (request.args["cursor"], request.args["limit"]) == ("c2", "20")
    assert request.headers["Authorization"] == "Bearer token-123"
    assert request.headers["X-Request-ID"] == "req-1"
    assert (page.next_cursor, page.first) == ("c3", False)
    (contract,) = page.items
    assert contract.apprentice_name == "Lena Lernwillig"
    assert contract.account_state == "active"
    assert contract.apprentice_opened_at is not None and contract.apprentice_opened_at.hour == 13


def test_whole_lists_follow_next_cursor(serve) -> None:
    seen: list[dict[str, str]] = []

    def handler(request: Request) -> Response:
        seen.append(dict(request.args))
        if "cursor" not in request.args:
            return json_response({"items": [{"company_number": "1", "name": "A"}], "next_cursor": "n1"})
        return json_response({"items": [{"company_number": "2", "name": "B"}], "next_cursor": None})

    companies = client(serve(handler)).companies()
    assert [c.company_number for c in companies] == ["1", "2"]
    assert seen == [{"limit": "100"}, {"limit": "100", "cursor": "n1"}]


def test_a_problem_document_is_kept_for_the_field_mapping(serve) -> None:
    problem = {
        "status": 422,
        "errors": [{"pointer": "#/apprentice/email", "detail": "Not a valid email address."}],
    }
    base = serve(lambda _request: json_response(problem, 422, "application/problem+json"))
    with pytest.raises(ServiceError) as caught:
        client(base).occupations()
    assert caught.value.status == 422
    assert caught.value.field_errors == problem["errors"]


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_become_the_german_unavailable_message(serve, status: int) -> None:
    base = serve(lambda _request: Response("boom", status=status))
    with pytest.raises(ServiceError) as caught:
        client(base).occupations()
    assert caught.value.message == UNAVAILABLE


def test_an_unreachable_service_is_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nobody listens there
    with pytest.raises(ServiceError) as caught:
        client(f"http://127.0.0.1:{port}").occupations()
    assert caught.value.status == 503
    assert caught.value.message == UNAVAILABLE


def test_a_slow_service_times_out_as_unavailable(serve) -> None:
    release = threading.Event()

    def slow(_request: Request) -> Response:
        release.wait(5)
        return json_response({"items": []})

    base = serve(slow)
    try:
        with pytest.raises(ServiceError) as caught:
            client(base, timeout=0.3).occupations()
        assert caught.value.status == 503
    finally:
        release.set()


def test_a_body_that_is_not_json_is_a_bad_gateway(serve) -> None:
    base = serve(lambda _request: Response("<html>", mimetype="text/html"))
    with pytest.raises(ServiceError) as caught:
        client(base).occupations()
    assert caught.value.status == 502


def test_pdf_content_is_streamed_with_a_safe_file_name(serve) -> None:
    def pdf(_request: Request) -> Response:
        return Response(
            b"%PDF-1.7 test",
            mimetype="application/pdf",
            headers={"Content-Disposition": 'inline; filename="../../etc/Eintragung 2026.pdf"'},
        )

    stream = client(serve(pdf)).document_content("00000000-0000-4000-8000-000000000001")
    assert b"".join(stream.chunks) == b"%PDF-1.7 test"
    assert stream.filename == "Eintragung-2026.pdf"
    stream.close()


def test_registering_sends_the_form_token_as_idempotency_key(serve) -> None:
    from datetime import date

    from gateway.web.services import NewContract

    seen: list[Request] = []

    def handler(request: Request) -> Response:
        request.get_data()
        seen.append(request)
        return json_response(
            {"id": "c-9", "contract_number": "2026-000009", "state": "registered"}, status=201
        )

    new = NewContract(
        company_number="4711001",
        occupation_code="78100",
        first_name="Jonas",
        last_name="Neumann",
        birth_date=date(2008, 3, 14),
        email="jonas@example.test",
        start_date=date(2026, 8, 1),
        end_date=date(2029, 7, 31),
    )
    base = serve(handler)
    contract = client(base).register_contract(new, idempotency_key="form-token-123")
    assert contract.contract_id == "c-9"
    client(base).register_contract(new)
    keyed, plain = seen
    assert keyed.method == "POST" and keyed.path == "/api/training/contracts"
    assert keyed.headers["Idempotency-Key"] == "form-token-123"
    assert keyed.headers["Authorization"] == "Bearer token-123"
    assert "Idempotency-Key" not in plain.headers


# -- the register's endpoints ---------------------------------------------------------------------


def test_contract_filters_terms_and_trainer_are_read(serve) -> None:
    from datetime import date

    from gateway.web.services import ContractFilters

    seen: list[dict[str, str]] = []

    def handler(request: Request) -> Response:
        seen.append(dict(request.args))
        item = {
            "id": "c-1",
            "contract_number": "2026-000001",
            "state": "interrupted",
            "terms": {"specialism": None, "probation_months": 4, "part_time": True, "shortened_by_months": 6},
            "trainer": {"id": "t-1", "name": "Anna Ausbilder"},
            "interrupted_since": "2027-02-01",
            "ended_on": None,
            "termination_reason": None,
            "head_office_number": "4711000",
        }
        return json_response({"items": [item], "next_cursor": None})

    filters = ContractFilters(name="Lern", state="interrupted", start_from=date(2026, 8, 1))
    (contract,) = client(serve(handler)).contracts(filters=filters).items
    assert seen == [{"name": "Lern", "state": "interrupted", "start_from": "2026-08-01", "limit": "20"}]
    assert (
        contract.terms.probation_months,
        contract.terms.part_time,
        contract.terms.shortened_by_months,
    ) == (
        4,
        True,
        6,
    )
    assert contract.trainer is not None and contract.trainer.name == "Anna Ausbilder"
    assert contract.interrupted_since == date(2027, 2, 1)
    assert contract.head_office_number == "4711000" and contract.running


def test_a_change_is_posted_with_its_key_and_the_history_read(serve) -> None:
    from datetime import date

    from gateway.web.services import ChangeRequest

    seen: list[tuple[str, str, Any]] = []

    def handler(request: Request) -> Response:
        seen.append((request.method, request.path, request.get_json(silent=True)))
        if request.path.endswith("/history"):
            change = {
                "id": "h-1",
                "kind": "extended",
                "effective_on": "2029-06-01",
                "recorded_at": "2029-06-02T09:00:00+00:00",
                "recorded_by": "sub-1",
                "details": {"previous_end_date": "2029-07-31", "end_date": "2030-01-31"},
            }
            return json_response({"items": [change]})
        return json_response({"id": "c-1", "state": "registered"}, status=201)

    api = client(serve(handler))
    contract_id = "c0ffee00-0000-4000-8000-000000000001"
    api.change_contract(
        contract_id, ChangeRequest("extended", end_date=date(2030, 1, 31)), idempotency_key="k"
    )
    (change,) = api.contract_history(contract_id)
    assert seen[0] == (
        "POST",
        f"/api/training/contracts/{contract_id}/changes",
        {"kind": "extended", "end_date": "2030-01-31"},
    )
    assert (change.kind, change.effective_on, change.details["end_date"]) == (
        "extended",
        date(2029, 6, 1),
        "2030-01-31",
    )


def test_an_upload_is_multipart_and_progress_is_read(serve) -> None:
    import io

    seen: list[Request] = []

    def handler(request: Request) -> Response:
        seen.append(request)
        upload = request.files["file"]
        assert (upload.filename, upload.read()) == ("register.csv", b"a;b\n1;2\n")
        progress = {
            "job": {
                "id": "j-1",
                "filename": "register.csv",
                "status": "queued",
                "total_rows": 0,
                "done_rows": 0,
            },
            "percent": 0,
            "seconds_left": None,
        }
        return json_response(progress, status=202)

    job = client(serve(handler)).upload_import(
        "register.csv", io.BytesIO(b"a;b\n1;2\n"), "text/csv", idempotency_key="k"
    )
    assert (job.job_id, job.status, job.in_progress, job.seconds_left) == ("j-1", "queued", True, None)
    assert seen[0].headers["Idempotency-Key"] == "k"


def test_the_public_search_sends_no_token(serve) -> None:
    seen: list[Request] = []

    def handler(request: Request) -> Response:
        seen.append(request)
        hit = {
            "company_name": "Muster GmbH",
            "occupation_title": "Industriekaufmann/Industriekauffrau",
            "entry": {
                "company_number": "4711001",
                "occupation_code": "78100",
                "places": 2,
                "postal_code": "34117",
                "city": "Kassel",
            },
        }
        return json_response({"items": [hit], "next_cursor": "n"})

    public = HttpServices(serve(handler), None, http=requests.Session())
    page = public.search_atlas("78100", "341")
    (request,) = seen
    assert "Authorization" not in request.headers
    assert dict(request.args) == {"occupation_code": "78100", "place": "341", "limit": "10"}
    assert page.next_cursor == "n" and page.items[0].entry.offer.places == 2


def test_ids_that_are_no_uuids_never_reach_a_service(serve) -> None:
    base = serve(lambda _request: json_response({}))
    with pytest.raises(ServiceError) as caught:
        client(base).import_job("../contracts")
    assert caught.value.status == 404
