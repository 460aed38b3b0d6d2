"""S3 landing against a real S3 HTTP endpoint (moto_server on 127.0.0.1), used through s3fs."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from decimal import Decimal

import boto3
import pytest

from .conftest import BASIC_CONFIG, HEADER, Project, line
from .servers import moto_s3


def csv_bytes(rows: list[dict[str, object]]) -> bytes:
    import csv

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(HEADER)
    for r in rows:
        w.writerow(["" if r.get(c) is None else r.get(c) for c in HEADER])
    return buf.getvalue().encode()


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_s3() as url:
        yield url


@pytest.fixture
def s3(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.setenv("S3_KEY", "testing")
    monkeypatch.setenv("S3_SECRET", "testing")
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    return client


@pytest.fixture
def s3_project(
    project: Project, endpoint: str, s3: object, request: pytest.FixtureRequest
) -> Project:
    bucket = "sales-" + request.node.name.replace("_", "-")[:40].lower()
    s3.create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
    project.write_config(
        BASIC_CONFIG.replace("landing: landing/pos", f"landing: s3://{bucket}/incoming")
        + "    archive: processed/\n    name_pattern: 'sales_\\d{4}-\\d{2}-\\d{2}\\.csv'\n"
        + f"s3:\n  endpoint_url: {endpoint}\n  region: us-east-1\n"
        + "  access_key_id: env:S3_KEY\n  secret_access_key: env:S3_SECRET\n"
    )
    project.bucket = bucket  # type: ignore[attr-defined]
    return project


def keys(s3: object, bucket: str) -> list[str]:
    listing = s3.list_objects_v2(Bucket=bucket)  # type: ignore[attr-defined]
    return sorted(o["Key"] for o in listing.get("Contents", []))


def test_s3_landing_loads_archives_and_rejects(s3_project: Project, s3: object) -> None:
    bucket = s3_project.bucket  # type: ignore[attr-defined]
    put = s3.put_object  # type: ignore[attr-defined]
    put(
        Bucket=bucket,
        Key="incoming/sales_2025-01-01.csv",
        Body=csv_bytes([line("T1", 1), line("T2", 1, price="2.50")]),
    )
    put(
        Bucket=bucket,
        Key="incoming/sales_2025-01-02.csv",
        Body=b"transaction_id,sold_at\nT9,2025-01-02\n",
    )
    put(Bucket=bucket, Key="incoming/notes.csv", Body=csv_bytes([line("T3", 1)]))
    result = s3_project.cli("run", "--json")
    assert result.code == 1
    files = {f["uri"].rsplit("/", 1)[-1]: f for f in result.json()["files"]}
    assert files["sales_2025-01-01.csv"]["status"] == "loaded"
    assert files["sales_2025-01-01.csv"]["uri"] == f"s3://{bucket}/incoming/sales_2025-01-01.csv"
    assert files["sales_2025-01-02.csv"]["status"] == "rejected"
    assert files["notes.csv"]["status"] == "rejected"
    assert files["notes.csv"]["reasons"] == {"bad_file_name": 1}
    assert Decimal(str(s3_project.kpis()["net_sales"])) == Decimal("12.50")
    assert keys(s3, bucket) == [
        "incoming/failed/notes.csv",
        "incoming/failed/notes.csv.error.json",
        "incoming/failed/sales_2025-01-02.csv",
        "incoming/failed/sales_2025-01-02.csv.error.json",
        "incoming/processed/sales_2025-01-01.csv",
    ]
    report = s3.get_object(Bucket=bucket, Key="incoming/failed/sales_2025-01-02.csv.error.json")  # type: ignore[attr-defined]
    assert "missing_column" in json.loads(report["Body"].read())["error"]


def test_s3_same_bytes_again_load_nothing(s3_project: Project, s3: object) -> None:
    bucket = s3_project.bucket  # type: ignore[attr-defined]
    body = csv_bytes([line("T1", 1)])
    s3.put_object(Bucket=bucket, Key="incoming/sales_2025-01-01.csv", Body=body)  # type: ignore[attr-defined]
    s3_project.run()
    s3.put_object(Bucket=bucket, Key="incoming/sales_2025-01-05.csv", Body=body)  # type: ignore[attr-defined]
    again = s3_project.run()
    assert [f["status"] for f in again["files"]] == ["skipped"]
    assert s3_project.kpis()["lines"] == 1


def test_s3_bad_endpoint_is_a_clear_error(project: Project) -> None:
    project.write_config(
        BASIC_CONFIG.replace("landing: landing/pos", "landing: s3://nobucket/x")
        + "s3:\n  endpoint_url: http://127.0.0.1:9\n  access_key_id: a\n  secret_access_key: b\n"
    )
    result = project.cli("run", "--json")
    assert result.code == 1
    assert "cannot list s3://nobucket/x" in result.stderr


def test_s3_a_bucket_that_does_not_exist_is_an_error_not_an_empty_landing(
    s3_project: Project, s3: object
) -> None:
    # an existing bucket with nothing under the prefix yet: quietly nothing to load
    assert s3_project.cli("run", "--json").json()["files"] == []
    config = s3_project.config.read_text()
    bucket = config.split("s3://", 1)[1].split("/", 1)[0]
    s3_project.write_config(config.replace(f"s3://{bucket}/", "s3://no-such-bucket-x/"))
    result = s3_project.cli("run", "--json")
    assert result.code == 1 and "no bucket 'no-such-bucket-x'" in result.stderr
