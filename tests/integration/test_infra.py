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


FORESIGHT_ONLY = ("ForesightBroadcasts", "ForesightMonthlyReports")


def test_every_function_is_wired_to_the_stack_resources(packaged):
    template = json.loads((packaged / "sam.json").read_text())
    functions = {k: v for k, v in template["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}
    assert {"APIHandler", "SlaSweep"} <= set(functions)
    for name, fn in functions.items():
        variables = fn["Properties"]["Environment"]["Variables"]
        # The foresight schedules (broadcasts, reports) touch no petition: their own table instead.
        table = ("FZT_TABLE_FORESIGHT", "ForesightTable") if name in FORESIGHT_ONLY else None
        table = table or ("FZT_TABLE_PETITIONS", "PetitionsTable")
        assert variables[table[0]] == {"Ref": table[1]}, name
        assert variables["FZT_STAGE"] == "prod"
    assert "PetitionsTable" in template["Resources"] and "OrdersTopic" in template["Resources"]
    # No literal partition in any ARN: the same template deploys to aws-cn.
    assert "arn:aws:" not in json.dumps(template)


def test_tables_have_recovery_and_encryption(packaged):
    template = json.loads((packaged / "sam.json").read_text())
    tables = [r for r in template["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table"]
    assert len(tables) == 12
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
    types = {
        "VARCHAR": "string",
        "INTEGER": "int",
        "BOOLEAN": "boolean",
        "TIMESTAMP": "timestamp",
        "DOUBLE": "double",
    }
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


# --- IAM: each function's own role, and only what the function touches ------------------------------------

LOGS = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents")
READ = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query")
WRITE = ("dynamodb:PutItem", "dynamodb:UpdateItem")
TABLE_WRITES = {  # every DynamoDB action that changes a table
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:PartiQLInsert",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PartiQLDelete",
}
# Citizen: the sign-in codes of the citizen entrance (only the API signs citizens in)
EVERY_TABLE = (
    "Petitions",
    "Events",
    "Timers",
    "Outbox",
    "Directory",
    "Idempotency",
    "Violations",
    "Citizen",
    "Foresight",
    "Grid",  # §10: claim-pool items, door-knock visits, evidence upload records
    "Center",  # §11: mediation cases and their events, 逢六说事 meetings (only the API touches it)
    "Supervision",  # §12: rollup counters, chiefs' boards, urges, accountability actions
)
WITH_INDEXES = ("Petitions", "Events", "Timers", "Outbox", "Violations", "Center")  # the template's GSIs
EXPORTED = ("Petitions", "Events", "Outbox", "Violations")  # chalicelib/audit/export.py SOURCES
# Every petition change moves the rollup counters and supervision records in its transaction.
PETITION_WRITES = ("Petitions", "Events", "Timers", "Outbox", "Violations", "Supervision")
SMS_CONDITION = {"Null": {"sns:Protocol": "true"}}


def _key(resource, condition=None) -> str:
    return json.dumps([resource, condition], sort_keys=True)


def _on(actions, resources) -> set[tuple[str, str]]:
    return {(a, _key(r)) for a in actions for r in resources}


def _tables(actions, names) -> set[tuple[str, str]]:
    return _on(actions, [{"Fn::GetAtt": [f"{n}Table", "Arn"]} for n in names])


def _indexes(names) -> set[tuple[str, str]]:
    return _on(["dynamodb:Query"], [{"Fn::Sub": "${%sTable.Arn}/index/*" % n} for n in names])


_LOG_GROUPS = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/*"
_BASE = _on(LOGS, [{"Fn::Sub": _LOG_GROUPS}])
_PUBLISH = _on(["sns:Publish"], [{"Ref": "OrdersTopic"}, {"Ref": "SupervisionTopic"}]) | {
    ("sns:Publish", _key("*", SMS_CONDITION))
}
# The export merges the day's changed rows into their partitions: it reads a partition back.
_EXPORTS = _on(["s3:PutObject", "s3:GetObject"], [{"Fn::Sub": "${ExportBucket.Arn}/exports/*"}])
_EXPORT_JOBS = _on(["s3:PutObject", "s3:GetObject"], [{"Fn::Sub": "${ExportBucket.Arn}/export-jobs/*"}])
_REPORTS = _on(["s3:PutObject", "s3:GetObject"], [{"Fn::Sub": "${ExportBucket.Arn}/reports/*"}])
_EVIDENCE = _on(["s3:PutObject", "s3:GetObject"], [{"Fn::Sub": "${ExportBucket.Arn}/evidence/*"}])
_PETITION_WORK = (
    _tables(READ, (*PETITION_WRITES, "Directory"))
    | _indexes(("Petitions", "Events", "Timers", "Outbox", "Violations"))
    | _tables(WRITE, PETITION_WRITES)
    | _PUBLISH
)

# Written out here, not read from infra/package.py: a change of FUNCTIONS must change this too.
EXPECTED_GRANTS = {
    # Every route; POST /v1/exports runs the export in this function, hence Scan and the bucket.
    # POST /v1/exports records a job and invokes the export function for it (issue 17): no Scan.
    "APIHandler": _BASE
    | _tables(READ + WRITE, EVERY_TABLE)
    | _indexes(WITH_INDEXES)
    | _PUBLISH
    | _EXPORT_JOBS
    | _on(["lambda:InvokeFunction"], [{"Fn::GetAtt": ["AuditDailyExport", "Arn"]}])
    | _REPORTS
    | _EVIDENCE,
    # and the grid's claim pool: an unclaimed petition handed to the center closes its pool item
    "SlaSweep": _BASE | _PETITION_WORK | _tables(READ + WRITE, ("Grid",)),
    "NotifyInboundSms": _BASE | _PETITION_WORK | _tables(READ + WRITE, ("Foresight",)),
    # The outbox table's stream (issue 17): reads its stream, publishes, marks through the unit of work.
    "NotifyOutboxStream": _BASE
    | _PETITION_WORK
    | _on(
        [
            "dynamodb:DescribeStream",
            "dynamodb:GetRecords",
            "dynamodb:GetShardIterator",
            "dynamodb:ListStreams",
        ],
        [{"Fn::Sub": "${OutboxTable.Arn}/stream/*"}],
    ),
    # 发一封短信 each minute: its own table, the directory, SMS; 未诉先办 hourly: petition work too.
    "ForesightBroadcasts": _BASE
    | _tables(READ, ("Directory", "Foresight"))
    | _tables(WRITE, ("Foresight",))
    | _PUBLISH,
    "ForesightHotspotDetection": _BASE | _PETITION_WORK | _tables(READ + WRITE, ("Foresight",)),
    "ForesightMonthlyReports": _BASE
    | _tables(READ, ("Directory", "Supervision", "Foresight", "Center", "Petitions", "Events"))
    | _indexes(("Center", "Petitions", "Events"))
    | _tables(WRITE, ("Foresight",))
    | _REPORTS,
    # Reads the day's changes (events' by_day index, batch reads, violations by district), Scans on
    # the first export; the bucket's exports/ and export-jobs/ (jobs and the watermark).
    "AuditDailyExport": _BASE
    | _tables(["dynamodb:Scan"], EXPORTED)
    | _tables(READ, (*EXPORTED, "Directory", "Supervision"))  # + 年度考核 from the rollups
    | _indexes(("Petitions", "Events", "Outbox", "Violations"))
    | _EXPORTS
    | _EXPORT_JOBS,
}


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _functions(template: dict) -> dict[str, dict]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}


def _statements(template: dict, function: str) -> list[dict]:
    role = template["Resources"][function]["Properties"]["Role"]["Fn::GetAtt"][0]
    policies = template["Resources"][role]["Properties"]["Policies"]
    return [s for p in policies for s in p["PolicyDocument"]["Statement"]]


def _grants(template: dict, function: str) -> set[tuple[str, str]]:
    out = set()
    for s in _statements(template, function):
        assert s["Effect"] == "Allow" and "NotAction" not in s and "NotResource" not in s, s
        condition = s.get("Condition")
        out |= {(a, _key(r, condition)) for a in _as_list(s["Action"]) for r in _as_list(s["Resource"])}
    return out


def _actions(template: dict, function: str) -> set[str]:
    return {a for a, _ in _grants(template, function)}


@pytest.fixture(scope="module")
def sam(packaged) -> dict:
    return json.loads((packaged / "sam.json").read_text())


def test_every_function_has_a_role_of_its_own(sam):
    functions = _functions(sam)
    assert set(functions) == set(EXPECTED_GRANTS), "a new function needs its grants in infra/package.py"
    roles = [fn["Properties"]["Role"]["Fn::GetAtt"] for fn in functions.values()]
    assert all(attribute == "Arn" for _, attribute in roles)
    names = [role for role, _ in roles]
    assert len(set(names)) == len(names), f"shared roles: {names}"
    for role in names:
        assert sam["Resources"][role]["Type"] == "AWS::IAM::Role"
        assert len(sam["Resources"][role]["Properties"]["Policies"]) == 1, role
        assert "ManagedPolicyArns" not in sam["Resources"][role]["Properties"], role


@pytest.mark.parametrize("function", sorted(EXPECTED_GRANTS))
def test_each_role_grants_exactly_what_its_function_touches(sam, function):
    granted = _grants(sam, function)
    expected = EXPECTED_GRANTS[function]
    assert granted == expected, {"extra": sorted(granted - expected), "missing": sorted(expected - granted)}


def test_the_daily_export_reads_tables_and_writes_only_its_files(sam):
    actions = _actions(sam, "AuditDailyExport")
    assert not {a for a in actions if a.startswith("sns:")}
    assert not actions & TABLE_WRITES
    # issue 17: the day's changes through indexes and batch reads; Scans on a full export
    assert {a for a in actions if a.startswith("dynamodb:")} == {"dynamodb:Scan", *READ}
    # and reads back the partitions it merges into, and its jobs and watermark: never deletes
    assert {a for a in actions if a.startswith("s3:")} == {"s3:PutObject", "s3:GetObject"}


def test_the_sweep_and_the_inbound_sms_touch_no_bucket_and_no_idempotency_key(sam):
    for function in ("SlaSweep", "NotifyInboundSms"):
        grants = _grants(sam, function)
        assert not {a for a, _ in grants if a.startswith("s3:")}, function
        assert not [r for _, r in grants if "IdempotencyTable" in r], function
        assert not {a for a, _ in grants if a in ("dynamodb:Scan", "dynamodb:DeleteItem")}, function


def test_only_the_exports_scan_and_only_the_exported_tables(sam):
    """The export function alone (the daily export, and the jobs POST /v1/exports hands it)."""
    scanning = {fn for fn in _functions(sam) if "dynamodb:Scan" in _actions(sam, fn)}
    assert scanning == {"AuditDailyExport"}
    for fn in scanning:
        scanned = {r for a, r in _grants(sam, fn) if a == "dynamodb:Scan"}
        assert scanned == {r for _, r in _tables(["dynamodb:Scan"], EXPORTED)}, fn


def test_no_wildcard_action_and_no_resource_star_but_the_sms_publish(sam):
    for fn in _functions(sam):
        for s in _statements(sam, fn):
            assert not [a for a in _as_list(s["Action"]) if "*" in a], (fn, s)
            if "*" in _as_list(s["Resource"]):
                # SMS to a phone number has no resource ARN: only a publish that names no topic.
                assert s["Resource"] == "*" and s["Action"] == ["sns:Publish"], (fn, s)
                assert s["Condition"] == SMS_CONDITION, (fn, s)


def test_each_function_gets_only_the_names_it_needs(sam):
    functions = _functions(sam)

    def variables(fn):
        return functions[fn]["Properties"]["Environment"]["Variables"]

    assert "FZT_TOPIC_ORDERS_ARN" not in variables("AuditDailyExport")
    assert "FZT_TABLE_IDEMPOTENCY" not in variables("AuditDailyExport")
    for fn in ("SlaSweep", "NotifyInboundSms"):
        assert "FZT_EXPORT_BUCKET" not in variables(fn) and "FZT_TABLE_IDEMPOTENCY" not in variables(fn)
        assert variables(fn)["FZT_TOPIC_ORDERS_ARN"] == {"Ref": "OrdersTopic"}
    for fn in functions:
        assert variables(fn)["FZT_DATA_KEY"] == {"Ref": "DataKey"}, fn  # settings refuse to start without
        assert ("FZT_OIDC_ISSUER" in variables(fn)) == (fn == "APIHandler"), fn


# The checks of the wiring itself run on a made-up first pass: no packaging needed.


def _first_pass(**handlers: str) -> dict:
    """A chalice template with one function per logical id → handler, each with its own role."""
    resources = {}
    for logical, handler in handlers.items():
        resources[f"{logical}Role"] = {"Type": "AWS::IAM::Role", "Properties": {}}
        resources[logical] = {
            "Type": "AWS::Serverless::Function",
            "Properties": {"Handler": handler, "Role": {"Fn::GetAtt": [f"{logical}Role", "Arn"]}},
        }
    return {"Resources": resources}


APP_FUNCTIONS = {
    "APIHandler": "app.app",
    "SlaSweep": "app.sla_sweep",
    "AuditDailyExport": "app.audit_daily_export",
    "NotifyInboundSms": "app.notify_inbound_sms",
    "NotifyOutboxStream": "app.notify_outbox_stream",
    "ForesightBroadcasts": "app.foresight_broadcasts",
    "ForesightHotspotDetection": "app.foresight_hotspot_detection",
    "ForesightMonthlyReports": "app.foresight_monthly_reports",
}


def test_wiring_refuses_a_function_it_has_no_grants_for():
    from infra.package import load_template, wiring

    first = _first_pass(**APP_FUNCTIONS, PurgeEverything="app.purge_everything")
    with pytest.raises(SystemExit, match=r"Lambda function purge_everything \(PurgeEverything\)"):
        wiring(first, load_template())


def test_wiring_refuses_grants_for_a_function_chalice_does_not_package():
    from infra.package import load_template, wiring

    first = _first_pass(**{k: v for k, v in APP_FUNCTIONS.items() if k != "SlaSweep"})
    with pytest.raises(SystemExit, match="sla_sweep"):
        wiring(first, load_template())


def test_wiring_refuses_a_shared_role():
    from infra.package import load_template, wiring

    first = _first_pass(**APP_FUNCTIONS)
    first["Resources"]["SlaSweep"]["Properties"]["Role"] = {"Fn::GetAtt": ["APIHandlerRole", "Arn"]}
    with pytest.raises(SystemExit, match="share the role APIHandlerRole"):
        wiring(first, load_template())


def test_wiring_gives_each_known_function_its_own_policy():
    from infra.package import load_template, wiring

    out = wiring(_first_pass(**APP_FUNCTIONS), load_template())
    for logical in APP_FUNCTIONS:
        (policy,) = out[f"{logical}Role"]["Properties"]["Policies"]
        assert policy["PolicyName"] == f"{logical}RolePolicy"
        assert "FZT_DATA_KEY" in out[logical]["Properties"]["Environment"]["Variables"]


def test_api_gateways_own_answers_keep_the_error_shape(packaged):
    """A path no route has answers 404 in the contract's shape, not API Gateway's 403 text."""
    template = json.loads((packaged / "sam.json").read_text())
    responses = {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::ApiGateway::GatewayResponse"
    }
    assert set(responses) >= {"MISSING_AUTHENTICATION_TOKEN", "DEFAULT_4XX", "DEFAULT_5XX", "THROTTLED"}
    missing = responses["MISSING_AUTHENTICATION_TOKEN"]
    assert missing["StatusCode"] == "404"
    body = json.loads(missing["ResponseTemplates"]["application/json"])
    assert body["error"]["code"] == "not_found"
    api = missing["RestApiId"]["Ref"]
    assert template["Resources"][api]["Type"] == "AWS::Serverless::Api"
