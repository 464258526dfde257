"""The OpenAPI schema generates without warnings and documents every auth operation fully;
the docs pages work without reaching any other host."""

import re

import pytest
import yaml
from django.core.management import call_command
from rest_framework.test import APIClient

from tests.conftest import staff_client_for

AUTH_PATHS = {
    "/api/v1/auth/register/",
    "/api/v1/auth/token/",
    "/api/v1/auth/token/refresh/",
    "/api/v1/auth/logout/",
    "/api/v1/auth/logout-all/",
    "/api/v1/auth/otp/request/",
    "/api/v1/auth/otp/verify/",
    "/api/v1/auth/me/",
    "/api/v1/auth/me/contact/",
    "/api/v1/auth/me/contact/verify/",
    "/api/v1/auth/password/change/",
    "/api/v1/auth/devices/",
    "/api/v1/auth/devices/{id}/revoke/",
}
# Reached without a token: they must not be documented as needing one.
PUBLIC_PATHS = {
    "/api/v1/auth/register/",
    "/api/v1/auth/token/",
    "/api/v1/auth/token/refresh/",
    "/api/v1/auth/logout/",
    "/api/v1/auth/otp/request/",
    "/api/v1/auth/otp/verify/",
}
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
ERROR_REF = "#/components/schemas/Error"


@pytest.fixture(scope="module")
def schema(tmp_path_factory) -> dict:
    path = tmp_path_factory.mktemp("openapi") / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    return yaml.safe_load(path.read_text())


def _operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def test_every_auth_endpoint_is_documented(schema):
    documented = {path for path in schema["paths"] if path.startswith("/api/v1/auth/")}

    assert documented == AUTH_PATHS


def test_every_operation_has_a_tag_and_a_summary(schema):
    missing = [
        f"{method.upper()} {path}"
        for path, method, operation in _operations(schema)
        if not operation.get("tags") or not operation.get("summary")
    ]

    assert missing == []


def test_every_operation_documents_an_error_response_with_the_error_shape(schema):
    def error_refs(operation: dict) -> list[str]:
        return [
            response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
            for status, response in operation["responses"].items()
            if str(status).startswith("4")
        ]

    undocumented = [
        f"{method.upper()} {path}"
        for path, method, operation in _operations(schema)
        if ERROR_REF not in error_refs(operation)
    ]

    assert undocumented == []


def test_every_documented_error_response_uses_the_error_component(schema):
    off_shape = [
        f"{method.upper()} {path} {status}"
        for path, method, operation in _operations(schema)
        for status, response in operation["responses"].items()
        if str(status)[0] in "45"
        and response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
        != ERROR_REF
    ]

    assert off_shape == []


def test_every_paginated_list_documents_the_invalid_page_404(schema, user):
    paginated = [
        (path, method)
        for path, method, operation in _operations(schema)
        if any(p["name"] == "page" and p["in"] == "query" for p in operation.get("parameters", []))
    ]

    assert ("/api/v1/orders/", "get") in paginated
    for path, method in paginated:
        responses = schema["paths"][path][method]["responses"]
        assert "404" in responses, (path, method)
    api = APIClient()
    api.force_authenticate(user)
    response = api.get("/api/v1/orders/?page=0")
    assert (response.status_code, response.json()) == (
        404,
        {"code": "not_found", "detail": "Invalid page."},
    )


def test_every_operation_with_query_parameters_documents_the_malformed_value_400(schema):
    with_query = [
        (path, method, operation)
        for path, method, operation in _operations(schema)
        if any(p["in"] == "query" for p in operation.get("parameters", []))
    ]

    assert any(path == "/api/v1/testengine/questions/" for path, _, _ in with_query)
    undocumented = [
        f"{method.upper()} {path}"
        for path, method, operation in with_query
        if "InvalidValue"
        not in operation["responses"]
        .get("400", {})
        .get("content", {})
        .get("application/json", {})
        .get("examples", {})
    ]
    assert undocumented == []


def test_a_nul_byte_in_a_filter_is_the_documented_400_and_not_a_500(db):
    staff = staff_client_for("testengine")

    response = staff.get("/api/v1/testengine/questions/?topic=alg%00ebra&tag=x%00")

    assert (response.status_code, response.json()) == (
        400,
        {"code": "invalid_value", "detail": "A value in the request is out of range or malformed."},
    )


def test_the_error_component_has_the_one_error_shape(schema):
    error = schema["components"]["schemas"]["Error"]

    assert set(error["properties"]) == {"code", "detail", "fields"}
    assert sorted(error["required"]) == ["code", "detail"]


def test_bearer_authentication_is_declared(schema):
    assert schema["components"]["securitySchemes"]["jwtAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }


def test_public_endpoints_need_no_token_and_the_others_need_the_bearer_token(schema):
    security = {
        (path, method): operation.get("security")
        for path, method, operation in _operations(schema)
        if path.startswith("/api/v1/auth/")
    }

    assert {key: value for key, value in security.items() if key[0] in PUBLIC_PATHS} == {
        key: [] for key in security if key[0] in PUBLIC_PATHS
    }
    assert {key: value for key, value in security.items() if key[0] not in PUBLIC_PATHS} == {
        key: [{"jwtAuth": []}] for key in security if key[0] not in PUBLIC_PATHS
    }


# --- error responses built from the errors ---------------------------------------------------


def _examples(response) -> list[tuple[str, dict]]:
    return [(example.name, example.value) for example in response.examples]


def test_error_responses_file_each_error_under_its_status_as_the_handler_answers_it():
    from core.api.schema import error_responses
    from sessions_app.errors import SectionLocked, SessionClosed, SessionNotFound

    responses = error_responses(
        401,
        SessionNotFound,
        SectionLocked("Section “SQL” is over.", fields={"question_id": ["Question 7 is locked."]}),
        SessionClosed,
        descriptions={409: "Closed."},
    )

    assert sorted(responses) == [401, 404, 409]
    assert _examples(responses[401]) == [
        (
            "401 not_authenticated",
            {
                "code": "not_authenticated",
                "detail": "Authentication credentials were not provided.",
            },
        )
    ]
    assert _examples(responses[404]) == [
        ("404 not_found", {"code": "not_found", "detail": "No such session."})
    ]
    assert _examples(responses[409]) == [
        (
            "409 section_locked (1)",
            {
                "code": "section_locked",
                "detail": "Section “SQL” is over.",
                "fields": {"question_id": ["Question 7 is locked."]},
            },
        ),
        ("409 session_closed (2)", {"code": SessionClosed.code, "detail": SessionClosed.detail}),
    ]
    assert (responses[404].description, responses[409].description) == ("Not found", "Closed.")


def test_error_responses_render_drf_validation_errors_as_the_api_answers_them():
    from rest_framework.exceptions import ValidationError

    from core.api.schema import error_responses

    responses = error_responses(
        ValidationError({"seq": ["This field is required."]}),
        ValidationError({"non_field_errors": ["Give one, not both."]}),
    )

    assert _examples(responses[400]) == [
        (
            "400 invalid (1)",
            {
                "code": "invalid",
                "detail": "Some fields are not valid.",
                "fields": {"seq": ["This field is required."]},
            },
        ),
        (
            "400 invalid (2)",
            {
                "code": "invalid",
                "detail": "Give one, not both.",
                "fields": {"non_field_errors": ["Give one, not both."]},
            },
        ),
    ]


def test_a_documented_error_is_the_error_class_the_operation_raises(schema):
    # The save's 410 comes from SessionExpired itself: renaming its code renames the schema's.
    from sessions_app.errors import SessionExpired

    response = schema["paths"]["/api/v1/sessions/{id}/responses/{question_id}/"]["put"][
        "responses"
    ]["410"]

    assert [
        example["value"] for example in response["content"]["application/json"]["examples"].values()
    ] == [{"code": SessionExpired.code, "detail": SessionExpired.detail}]


# --- the docs pages ------------------------------------------------------------------------

ASSET = re.compile(r"""\b(?:src|href)\s*=\s*["']([^"']*)["']""", re.IGNORECASE)


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_the_docs_pages_load_only_from_this_site(client, page):
    response = client.get(page)

    assert response.status_code == 200
    assets = ASSET.findall(response.content.decode())
    assert assets, "the page references no scripts or styles at all"
    assert [url for url in assets if not url.startswith("/") or url.startswith("//")] == []


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_every_local_asset_of_the_docs_pages_is_served(client, page):
    local = [url for url in ASSET.findall(client.get(page).content.decode()) if url[:1] == "/"]

    statuses = {url: client.get(url).status_code for url in local}

    assert len(local) >= 1
    assert statuses == dict.fromkeys(local, 200)


@pytest.mark.django_db
def test_the_docs_pages_point_at_the_served_schema(client):
    # Swagger UI's start-up script has its own URL (no inline script under the CSP).
    docs = client.get("/api/docs/?script").content.decode()
    schema = client.get("/api/schema/")

    assert 'url: "/api/schema/"' in docs
    assert schema.status_code == 200
    assert yaml.safe_load(schema.content)["info"]["title"] == "Examforge API"


def test_every_throttled_operation_documents_the_429(schema):
    # Found by schemathesis against production settings: logout shares the login
    # throttle but did not say it answers 429.
    from drf_spectacular.generators import SchemaGenerator

    generator = SchemaGenerator()
    generator._initialise_endpoints()
    throttled = {
        (path, method.lower())
        for path, _, method, view in generator._get_paths_and_endpoints()
        if path.startswith("/api/v1/") and view.get_throttles()
    }
    undocumented = sorted(
        f"{method.upper()} {path}"
        for path, method in throttled
        if "429" not in schema["paths"][path][method]["responses"]
    )

    assert len(throttled) >= 10  # the auth, coupon, order, practice, certificate throttles
    assert undocumented == []


def test_the_schema_documents_only_what_examforge_answers_never_the_http_servers_414(schema):
    # A request line longer than gunicorn reads gets 414 as HTML before the app: documented
    # in the API guide, not per operation (generated clients would type every result as
    # "or a string").
    with_414 = [
        f"{method.upper()} {path}"
        for path, method, operation in _operations(schema)
        if "414" in operation["responses"]
    ]
    non_json = [
        f"{method.upper()} {path} {status} {media}"
        for path, method, operation in _operations(schema)
        for status, response in operation["responses"].items()
        if str(status)[0] in "45"
        for media in response.get("content", {})
        if media != "application/json"
    ]

    assert with_414 == []
    assert non_json == []


def test_the_fuzzers_copy_of_the_schema_adds_the_http_servers_414(schema, monkeypatch):
    import copy
    import importlib.util
    import sys
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "fuzz", Path(__file__).resolve().parents[2] / "scripts" / "fuzz.py"
    )
    fuzz = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "fuzz", fuzz)
    spec.loader.exec_module(fuzz)

    annotated = fuzz.with_http_server_answers(copy.deepcopy(schema))

    session = annotated["paths"]["/api/v1/sessions/{id}/"]["get"]["responses"]
    assert list(session["414"]["content"]) == ["text/html"]
    assert "414" not in annotated["paths"]["/api/v1/auth/logout/"]["post"]["responses"]
    assert "414" not in schema["paths"]["/api/v1/sessions/{id}/"]["get"]["responses"]


def test_component_descriptions_speak_to_client_developers(schema):
    # A component's description comes from its serializer's docstring: words about the
    # code (its base classes, DRF options) must not reach the people generating clients.
    internal = re.compile(r"\bDRF\b|serializer|``partial``|\bstrict\b|validated_data", re.I)
    leaking = {
        name: component["description"]
        for name, component in schema["components"]["schemas"].items()
        if internal.search(component.get("description", ""))
    }

    assert leaking == {}
    assert "description" not in schema["components"]["schemas"]["LoginRequest"]


UUID_ID_PATHS = (
    "/api/v1/auth/devices/{id}/",
    "/api/v1/orders/{id}/",
    "/api/v1/sessions/{id}/",
)


def test_public_uuid_ids_have_one_type_in_paths_and_in_bodies(schema):
    # A strict client passes SessionDetail.id to submit, Order.id to invoice: the path
    # parameter must have the type of the field it is filled from.
    path_ids = {
        f"{method.upper()} {path}": parameter["schema"]
        for path, method, operation in _operations(schema)
        if path.startswith(UUID_ID_PATHS)
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "path" and parameter["name"] == "id"
    }
    components = schema["components"]["schemas"]
    body_ids = {
        name: {k: v for k, v in components[name]["properties"]["id"].items() if k != "readOnly"}
        for name in ("SessionDetail", "SessionSummary", "SubmitSummary", "Order", "Device")
    }

    assert len(path_ids) == 13  # devices 1, orders 4, sessions 8
    assert set(map(str, path_ids.values())) == {str({"type": "string", "format": "uuid"})}
    assert set(map(str, body_ids.values())) == {str({"type": "string", "format": "uuid"})}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/sessions/not-a-uuid/",
        "/api/v1/sessions/12/submit/",
        "/api/v1/sessions/not-a-uuid/result/",
        "/api/v1/orders/not-a-uuid/",
        "/api/v1/orders/12/invoice/",
    ],
)
def test_an_id_that_is_not_a_uuid_is_an_unknown_object(user, url):
    api = APIClient()
    api.force_authenticate(user)

    response = api.post(url) if url.endswith("submit/") else api.get(url)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_the_invoice_pdf_is_documented_as_a_binary_file(schema):
    # openapi-python-client reads application/octet-stream as a File (and skips a response
    # whose only media type it does not know, application/pdf).
    ok = schema["paths"]["/api/v1/orders/{id}/invoice/"]["get"]["responses"]["200"]
    binary = {"type": "string", "format": "binary"}

    assert {media: body["schema"] for media, body in ok["content"].items()} == {
        "application/pdf": binary,
        "application/octet-stream": binary,
    }


PUBLIC_OPERATIONS = {
    ("/api/v1/auth/register/", "post"),
    ("/api/v1/auth/token/", "post"),
    ("/api/v1/auth/token/refresh/", "post"),
    ("/api/v1/auth/logout/", "post"),
    ("/api/v1/auth/otp/request/", "post"),
    ("/api/v1/auth/otp/verify/", "post"),
    ("/api/v1/catalogue/categories/", "get"),
    ("/api/v1/catalogue/products/", "get"),
    ("/api/v1/certificates/{code}/", "get"),
    ("/api/v1/programs/{slug}/", "get"),
    ("/api/v1/payments/razorpay/webhook/", "post"),
}
OPTIONAL_TOKEN_OPERATIONS = {("/api/v1/catalogue/products/{slug}/", "get")}


def test_every_operation_states_its_security_public_optional_or_bearer(schema):
    # openapi-python-client takes any non-empty ``security`` (``[{}]`` included) as
    # "needs an AuthenticatedClient"; an omitted one would inherit a global default.
    security = {(path, method): op.get("security") for path, method, op in _operations(schema)}

    assert None not in security.values()
    assert {key for key, value in security.items() if value == []} == PUBLIC_OPERATIONS
    assert {
        key for key, value in security.items() if value == [{"jwtAuth": []}, {}]
    } == OPTIONAL_TOKEN_OPERATIONS
    others = set(security) - PUBLIC_OPERATIONS - OPTIONAL_TOKEN_OPERATIONS
    assert {str(security[key]) for key in others} == {str([{"jwtAuth": []}])}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/api/v1/catalogue/categories/", 200),
        ("/api/v1/catalogue/products/", 200),
        ("/api/v1/programs/no-such-program/", 404),
        ("/api/v1/certificates/0000-0000-0000-0000/", 404),
    ],
)
def test_public_reads_do_not_read_a_token_sent_along(url, status):
    # Documented ``security: []``: an expired token a client still holds is not a 401.
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Bearer expired.or.garbage")

    response = api.get(url)

    assert response.status_code == status


@pytest.mark.django_db
def test_a_product_page_takes_an_optional_token_that_must_be_valid(user):
    from tests.catalogue.factories import PublishedProductFactory

    product = PublishedProductFactory()
    url = f"/api/v1/catalogue/products/{product.slug}/"
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Bearer expired.or.garbage")
    learner = APIClient()
    learner.force_authenticate(user)

    empty = APIClient()
    empty.credentials(HTTP_AUTHORIZATION="")  # a generated AuthenticatedClient without token

    anonymous = APIClient().get(url)
    refused = bad.get(url)
    logged_in = learner.get(url)
    no_token = empty.get(url)

    assert (anonymous.status_code, anonymous.json()["ownership"]) == (200, None)
    assert (no_token.status_code, no_token.json()["ownership"]) == (200, None)
    assert (refused.status_code, refused.json()["code"]) == (401, "token_not_valid")
    assert logged_in.status_code == 200


ENUM_FIELDS = {
    ("Order", "status"): "OrderStatusEnum",
    ("Order", "gateway"): "PaymentGatewayEnum",
    ("SessionDetail", "status"): "SessionStatusEnum",
    ("SessionSummary", "status"): "SessionStatusEnum",
    ("SubmitSummary", "status"): "SessionStatusEnum",
    ("SessionDetail", "submit_reason"): "SubmitReasonEnum",
    ("SubmitSummary", "submit_reason"): "SubmitReasonEnum",
    ("Result", "submit_reason"): "SubmitReasonEnum",
    ("Ability", "stop_reason"): "AdaptiveStopReasonEnum",
    ("ReviewQuestion", "type"): "QuestionTypeEnum",
    ("ReviewQuestion", "outcome"): "AnswerOutcomeEnum",
    ("QuestionTime", "outcome"): "AnswerOutcomeEnum",
    ("SittingQuestion", "type"): "QuestionTypeEnum",
    ("PaperQuestion", "type"): "QuestionTypeEnum",
    ("PaperQuestion", "difficulty"): "DifficultyEnum",
    ("PaperQuestion", "tolerance_kind"): "ToleranceKindEnum",
    ("CorrectAnswer", "tolerance_kind"): "ToleranceKindEnum",
    ("Question", "status"): "QuestionStatusEnum",
    ("Question", "tolerance_kind"): "ToleranceKindEnum",
    ("SectionRule", "difficulty"): "DifficultyEnum",
    ("SectionRule", "question_type"): "QuestionTypeEnum",
    ("SectionRuleRequest", "difficulty"): "DifficultyEnum",
    ("RecommendedTest", "mode"): "TestModeEnum",
    ("TestSummary", "mode"): "TestModeEnum",
    ("LearnerTest", "reason"): "StartRefusalReasonEnum",
    ("Submission", "status"): "ProjectSubmissionStatusEnum",
    ("CertificateVerification", "status"): "CertificateStatusEnum",
    ("ProductSummary", "kind"): "ProductKindEnum",
    ("ProductSummary", "level"): "ProductLevelEnum",
    ("Enrollment", "source"): "EnrollmentSourceEnum",
    ("PaletteEntry", "state"): "PaletteStateEnum",
    ("SectionState", "state"): "SectionStateEnum",
}
NULLABLE_ENUM_FIELDS = {
    ("SessionDetail", "submit_reason"),
    ("CorrectAnswer", "tolerance_kind"),
    ("SectionRule", "difficulty"),
    ("SectionRule", "question_type"),
    ("SectionRuleRequest", "difficulty"),
    ("LearnerTest", "reason"),
}


def test_status_like_fields_are_named_reused_enums(schema):
    components = schema["components"]["schemas"]

    def enum_of(component: str, field: str) -> str | None:
        prop = components[component]["properties"][field]
        refs = [prop.get("$ref")] + [part.get("$ref") for part in prop.get("allOf", [])]
        names = [ref.rsplit("/", 1)[1] for ref in refs if ref]
        return names[0] if len(names) == 1 else None

    assert {key: enum_of(*key) for key in ENUM_FIELDS} == ENUM_FIELDS
    assert {
        key for key in ENUM_FIELDS if components[key[0]]["properties"][key[1]].get("nullable")
    } == NULLABLE_ENUM_FIELDS


def test_generated_names_read_naturally(schema):
    names = set(schema["components"]["schemas"])
    awkward = sorted(
        name
        for name in names
        if re.search(
            r"ListList$|InputRequest$|RequestRequest$|^(Blank|Null|Status|Kind|Mode)Enum$", name
        )
    )

    assert awkward == []
    assert {
        "LoginRequest",
        "OTPCodeRequest",
        "PaginatedProductSummaryList",
        "PaginatedSessionSummaryList",
        "PaginatedTestSummaryList",
        "QuestionStatusEnum",
    } <= names
    assert "enum" not in str(
        [c for c in schema["components"]["schemas"].values() if c.get("enum") == [""]]
    )


def test_answers_are_one_of_the_three_shapes_or_null_everywhere(schema):
    components = schema["components"]["schemas"]
    places = {
        "ResponseSaveRequest": "AnswerRequest",
        "BatchItemRequest": "AnswerRequest",
        "SavedResponse": "Answer",
        "SittingQuestion": "Answer",
        "ReviewQuestion": "Answer",
    }

    def answer_ref(component: str) -> tuple[str | None, bool]:
        prop = components[component]["properties"]["answer"]
        refs = [part["$ref"].rsplit("/", 1)[1] for part in prop.get("allOf", [])]
        return (refs[0] if refs else None, prop.get("nullable", False))

    assert {name: answer_ref(name) for name in places} == {
        name: (ref, True) for name, ref in places.items()
    }
    shapes = {
        ref["$ref"].rsplit("/", 1)[1]: components[ref["$ref"].rsplit("/", 1)[1]]
        for ref in components["Answer"]["oneOf"]
    }
    assert {
        name: (s["required"], s["properties"][s["required"][0]]) for name, s in shapes.items()
    } == {
        "ChoicesAnswer": (
            ["choices"],
            components["ChoicesAnswer"]["properties"]["choices"],
        ),
        "NumericAnswer": (["value"], components["NumericAnswer"]["properties"]["value"]),
        "TextAnswer": (["text"], components["TextAnswer"]["properties"]["text"]),
    }
    assert components["ChoicesAnswer"]["properties"]["choices"]["items"]["type"] == "integer"
    assert components["NumericAnswer"]["properties"]["value"]["type"] == "number"
    assert components["TextAnswer"]["properties"]["text"]["type"] == "string"
    key = components["CorrectAnswer"]["properties"]
    assert (key["value"]["type"], key["tolerance"]["type"]) == ("number", "number")
