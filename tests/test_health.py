import pytest

from stocktool.aws.session import reset_clients

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

DEPENDENCIES = {"database", "s3", "dynamodb", "sqs", "sns", "cloudwatch"}


def test_health_is_200_with_each_dependency_and_its_round_trip(aws, client):
    resp = client.get("/health")
    body = resp.json()
    assert resp.status_code == 200, body
    assert body["status"] == "ok" and body["down"] == []
    assert set(body["checks"]) == DEPENDENCIES
    for check in body["checks"].values():
        assert check["ok"] is True
        assert check["ms"] >= 0


def test_health_is_503_naming_what_is_down_when_the_endpoint_stops(aws, client, settings):
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"  # nothing listens on the discard port
    try:
        resp = client.get("/health")
    finally:
        reset_clients()
    body = resp.json()
    assert resp.status_code == 503
    assert body["status"] == "degraded"
    assert body["down"] == ["cloudwatch", "dynamodb", "s3", "sns", "sqs"]
    assert body["checks"]["database"]["ok"] is True
    assert "error" in body["checks"]["s3"]


def test_health_skips_what_is_disabled(aws, client, settings):
    settings.CLOUDWATCH_ENABLED = False
    settings.SNS_ENABLED = False
    body = client.get("/health").json()
    assert set(body["checks"]) == DEPENDENCIES - {"cloudwatch", "sns"}
