"""The board API against its own OpenAPI document (schemathesis 4): for generated requests to
every operation, no 5xx, and every response's status, content type, headers and body conform.

Every default check runs except ``positive_data_acceptance``: a schema-valid request is often
rightly refused here (an unsigned envelope, a body whose SHA-256 is not the path, a proof range
beyond the current log), which no schema can express."""

from __future__ import annotations

import warnings

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.exceptions import StarletteDeprecationWarning

from tests.test_api import seeded_log
from unveil.api.app import create_app

LOG, STORAGE = seeded_log()  # a few entries, a stored bundle and a cosignature to read
APP = create_app(LOG)

with warnings.catch_warnings():  # schemathesis calls the app through starlette's TestClient
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    schema = schemathesis.openapi.from_asgi("/openapi.json", APP)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
"""The checks the brief requires; they run explicitly (``additional_checks``) besides the defaults."""


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi(case: schemathesis.Case) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StarletteDeprecationWarning)
        case.call_and_validate(additional_checks=CHECKS, excluded_checks=[positive_data_acceptance])


def test_the_document_lists_exactly_the_board_endpoints() -> None:
    document = APP.openapi()
    operations = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    assert operations == {
        ("POST", "/entries"),
        ("GET", "/entries"),
        ("GET", "/entries/{index}"),
        ("PUT", "/bundles/{sha256}"),
        ("GET", "/bundles/{sha256}"),
        ("GET", "/checkpoint"),
        ("GET", "/checkpoints/cosigned"),
        ("POST", "/cosignatures"),
        ("GET", "/proofs/inclusion"),
        ("GET", "/proofs/consistency"),
        ("GET", "/healthz"),
        ("PUT", "/cells/{sha256}"),
        ("GET", "/cells/{sha256}"),
        ("GET", "/view/summary"),
        ("GET", "/view/escrows/{escrow_id}/cells"),
        ("GET", "/view/escrows/{escrow_id}/sites"),
        ("GET", "/view/escrows/{escrow_id}/events"),
        ("GET", "/view/log"),
        ("GET", "/view/checkpoints"),
        ("GET", "/view/agreements"),
    }
    assert "HTTPValidationError" not in str(document)  # parameter errors are 400 ErrorBody here
