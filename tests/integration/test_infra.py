"""infra/: the template lints, and `make package` yields a deployable, lint-clean template."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024


REGIONS = ["cn-north-1", "cn-northwest-1", "ap-east-1", "us-east-1"]  # China first (PIPL), and global


def cfn_lint(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).with_name("cfn-lint")), "--regions", *REGIONS, "--", str(path)],
        capture_output=True,
        text=True,
    )


def test_template_passes_cfn_lint():
    result = cfn_lint(ROOT / "infra" / "template.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def packaged(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pkg") / "package"
    subprocess.run(
        [sys.executable, "-m", "infra.package", "--stage", "prod", "--out", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return out


def test_package_passes_cfn_lint(packaged):
    result = cfn_lint(packaged / "sam.json")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_function_is_wired_to_the_stack_resources(packaged):
    template = json.loads((packaged / "sam.json").read_text())
    functions = {k: v for k, v in template["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}
    assert {"APIHandler", "SlaSweep"} <= set(functions)
    for name, fn in functions.items():
        variables = fn["Properties"]["Environment"]["Variables"]
        assert variables["FZT_TABLE_PETITIONS"] == {"Ref": "PetitionsTable"}, name
        assert variables["FZT_STAGE"] == "prod"
    assert "PetitionsTable" in template["Resources"] and "OrdersTopic" in template["Resources"]
    # No literal partition in any ARN: the same template deploys to aws-cn.
    assert "arn:aws:" not in json.dumps(template)


def test_tables_have_recovery_and_encryption(packaged):
    template = json.loads((packaged / "sam.json").read_text())
    tables = [r for r in template["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table"]
    assert len(tables) == 7
    for t in tables:
        assert t["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        assert t["Properties"]["SSESpecification"]["SSEEnabled"] is True


def test_bundle_fits_lambda_size_limit(packaged):
    with zipfile.ZipFile(packaged / "deployment.zip") as z:
        unzipped = sum(i.file_size for i in z.infolist())
    assert unzipped < LAMBDA_UNZIPPED_LIMIT, f"{unzipped / 2**20:.0f} MiB unzipped"


def test_athena_tables_declare_the_exported_columns():
    """infra's Glue tables and the export writer (chalicelib/audit/tables.py) cannot drift apart."""
    from cfnlint.decode import decode_str

    from chalicelib.audit.tables import TABLES

    template, _ = decode_str((ROOT / "infra" / "template.yaml").read_text(encoding="utf-8"))
    glue = {
        r["Properties"]["TableInput"]["Name"]: r["Properties"]["TableInput"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Glue::Table"
    }
    types = {"VARCHAR": "string", "INTEGER": "int", "BOOLEAN": "boolean", "TIMESTAMP": "timestamp"}
    assert set(glue) == set(TABLES)
    for name, columns in TABLES.items():
        declared = {c["Name"]: c["Type"] for c in glue[name]["StorageDescriptor"]["Columns"]}
        assert declared == {c: types[t] for c, t in columns.items()}, name
        assert glue[name]["Parameters"]["projection.enabled"] == "true"
        assert [k["Name"] for k in glue[name]["PartitionKeys"]] == ["dt"]


def test_operators_sign_in_through_the_stacks_user_pool_or_the_citys_provider(packaged):
    """Where Cognito serves, the functions read the stack's own pool, client and hosted UI;
    in the China regions, the city's provider from parameters. The pool client sends the
    browser back to the console's URL (a parameter: referencing the API would be a cycle)."""
    template = json.loads((packaged / "sam.json").read_text())
    variables = template["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]
    audience = variables["FZT_OIDC_AUDIENCE"]["Fn::If"]
    assert audience == ["HasCognito", {"Ref": "OperatorUserPoolClient"}, {"Ref": "OidcAudience"}]
    for key in ("FZT_OIDC_ISSUER", "FZT_OIDC_AUTHORIZE_URL", "FZT_OIDC_TOKEN_URL"):
        condition, cognito, city = variables[key]["Fn::If"]
        assert condition == "HasCognito" and "Fn::Sub" in cognito and "Ref" in city, key
        assert template["Parameters"][city["Ref"]]["Default"] == ""
    client = template["Resources"]["OperatorUserPoolClient"]["Properties"]
    assert client["AllowedOAuthFlows"] == ["code"] and client["GenerateSecret"] is False
    assert client["CallbackURLs"]["Fn::If"][1] == [{"Ref": "ConsoleUrl"}]
    assert template["Resources"]["OperatorUserPoolDomain"]["Condition"] == "HasCognito"


def test_the_api_is_regional_and_compresses(packaged):
    """Regional: edge-optimised endpoints are not offered in the China regions. Compressed
    above 1 KB: the console's first load shrinks to about a third (bench/console_size)."""
    template = json.loads((packaged / "sam.json").read_text())
    api = template["Resources"]["RestAPI"]["Properties"]
    assert api["EndpointConfiguration"] == "REGIONAL"
    assert api["MinimumCompressionSize"] == 1024


def test_the_daily_export_has_lambdas_longest_timeout(packaged):
    """The export scans every table (bench/export.py: about 600,000 rows at 100,000 petitions);
    the 30 s the API's functions get would cut it short."""
    template = json.loads((packaged / "sam.json").read_text())
    fn = template["Resources"]["AuditDailyExport"]["Properties"]
    assert (fn["Timeout"], fn["MemorySize"]) == (900, 1024)
    assert template["Resources"]["APIHandler"]["Properties"]["Timeout"] == 30
