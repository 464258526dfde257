"""The contract step's generator gate (contract/run.py): a schema the Python generator
cannot fully read fails the step; the invoice's PDF comes out of the client as a File."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

RUN = Path(__file__).resolve().parents[2] / "contract" / "run.py"
_spec = importlib.util.spec_from_file_location("contract_run", RUN)
assert _spec
assert _spec.loader
contract = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(contract)


def _schema(tmp_path: Path, content_type: str, body: dict) -> Path:
    document = {
        "openapi": "3.0.3",
        "info": {"title": "Examforge API", "version": "1.0.0"},
        "paths": {
            "/api/v1/orders/{id}/invoice/": {
                "get": {
                    "operationId": "orders_invoice_retrieve",
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {
                        "200": {"description": "ok", "content": {content_type: {"schema": body}}}
                    },
                }
            }
        },
    }
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps(document))
    return path


def test_a_pdf_download_is_a_file_in_the_client(tmp_path):
    schema = _schema(tmp_path, "application/pdf", {"type": "string", "format": "binary"})
    out = tmp_path / "examforge_client"

    contract.generate_python(schema, out)

    module = (out / "api" / "default" / "orders_invoice_retrieve.py").read_text()
    assert "File(payload=BytesIO(response.content))" in module


def test_a_generator_warning_fails_the_step(tmp_path):
    schema = _schema(tmp_path, "application/xml", {"type": "object"})  # unreadable to it

    with pytest.raises(contract.StepFailed, match=r"reported 1 problem"):
        contract.generate_python(schema, tmp_path / "examforge_client")
