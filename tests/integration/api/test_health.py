from __future__ import annotations

from fastapi.testclient import TestClient


def test_health_reports_database_and_storage(client: TestClient, dialect: str) -> None:
    body = client.get("/api/v1/health").json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["database"]["detail"].startswith(dialect)
    assert body["storage"]["ok"] is True


def test_openapi_document_is_served_with_stable_operation_ids(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    ids = {op["operationId"] for path in spec["paths"].values() for op in path.values()}
    assert {"login", "create_dataset", "get_rows", "export_dataset", "health"} <= ids
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert "/api/docs-assets/swagger-ui-bundle.js" in page.text  # served locally, not from a CDN
    assert client.get("/api/docs-assets/swagger-ui-bundle.js").status_code == 200
