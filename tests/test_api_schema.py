"""schemathesis against the generated OpenAPI document: no 5xx, no response that contradicts it.

A bounded number of examples per operation, as a body clerk with a token, inside the
per-test rollback. Checks: not_a_server_error and response_schema_conformance (errors are
application/problem+json, documented as every operation's default response).
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from tests.filing_support import make_registry


@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def clerk_headers(app):
    return make_registry().headers()


@schema.parametrize()
@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_api_conforms(case, client, clerk_headers):
    response = client.open(**case.as_transport_kwargs(headers=clerk_headers))
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
