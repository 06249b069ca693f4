"""``make package``: ``chalice package`` with infra/template.yaml merged in.

The data plane (tables, topics, bucket, user pool) comes from the same template
the local stack applies to moto. This script adds the wiring that only exists
in the cloud: each Lambda function's environment (physical names by ``Ref``)
and a least-privilege policy on each function's own role, from :data:`FUNCTIONS`
(ARNs built from the partition, so the template also deploys to aws-cn).
Function and role names are read from a first ``chalice package`` pass; a
function that :data:`FUNCTIONS` does not name fails the packaging, so a new
schedule or subscription gets exactly the grants written for it, never a
default.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cfnlint.decode import decode_str

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "infra" / "template.yaml"

# The app's tables: name → (environment variable, logical id in infra/template.yaml).
TABLES = {
    "petitions": ("FZT_TABLE_PETITIONS", "PetitionsTable"),
    "events": ("FZT_TABLE_EVENTS", "EventsTable"),
    "timers": ("FZT_TABLE_TIMERS", "TimersTable"),
    "outbox": ("FZT_TABLE_OUTBOX", "OutboxTable"),
    "directory": ("FZT_TABLE_DIRECTORY", "DirectoryTable"),
    "idempotency": ("FZT_TABLE_IDEMPOTENCY", "IdempotencyTable"),
    "violations": ("FZT_TABLE_VIOLATIONS", "ViolationsTable"),
    "citizen": ("FZT_TABLE_CITIZEN", "CitizenTable"),
    "grid": ("FZT_TABLE_GRID", "GridTable"),
    "center": ("FZT_TABLE_CENTER", "CenterTable"),
    "supervision": ("FZT_TABLE_SUPERVISION", "SupervisionTable"),
    "foresight": ("FZT_TABLE_FORESIGHT", "ForesightTable"),
}
TOPICS = {"FZT_TOPIC_ORDERS_ARN": "OrdersTopic", "FZT_TOPIC_SUPERVISION_ARN": "SupervisionTopic"}
BUCKET = "ExportBucket"
EXPORT_FUNCTION = "AuditDailyExport"  # chalice's logical id of app.audit_daily_export

# What PynamoDB sends for the app's reads and writes. Transactions (TransactWriteItems) are
# authorised per item as PutItem; nothing deletes (the timeline is append-only) and nothing
# batch-writes from a function (the directory is loaded by the deployment), so neither
# DeleteItem nor BatchWriteItem (which can delete) is granted.
READ_ACTIONS = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query")
WRITE_ACTIONS = ("dynamodb:PutItem", "dynamodb:UpdateItem")
SCAN_ACTIONS = ("dynamodb:Scan",)
# What Lambda's event source mapping needs of a function's role to read a table's stream.
STREAM_ACTIONS = (
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
)
# The export reads these tables whole (chalicelib/audit/export.py SOURCES); nothing else scans.
EXPORTED = frozenset({"petitions", "events", "outbox", "violations"})
EVERY_TABLE = frozenset(TABLES)
LOG_GROUPS = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/*"
# Every petition change also moves the rollup counters and supervision records (supervision table).
PETITION_WRITES = frozenset({"petitions", "events", "timers", "outbox", "violations", "supervision"})


@dataclass(frozen=True)
class Access:
    """What one function touches. ``writes`` are read too; ``scans`` are read whole (exports)."""

    reads: frozenset[str] = frozenset()
    writes: frozenset[str] = frozenset()
    scans: frozenset[str] = frozenset()
    topics: bool = False  # publish to the orders and supervision topics, and SMS to phones
    bucket: bool = False  # write Parquet under exports/ in the export bucket
    sign_in: bool = False  # verifies operators' tokens (the OIDC settings)
    evidence: bool = False  # presigns PUTs and GETs of evidence/* in the export bucket, HEADs them (§10)
    reports: bool = False  # writes reports/* in the export bucket and presigns their GETs (§13)
    streams: frozenset[str] = frozenset()  # reads these tables' DynamoDB streams (its event source)
    export_jobs: bool = False  # puts and gets export-jobs/* in the export bucket (jobs, the watermark)
    starts_exports: bool = False  # invokes the export function asynchronously (POST /v1/exports)

    @property
    def tables(self) -> frozenset[str]:
        return self.reads | self.writes | self.scans


# Every Lambda function of the app (Chalice's names, as in app.py) and exactly what it may touch.
# A function chalice packages that is missing here fails `make package`: add it with its grants.
FUNCTIONS: dict[str, Access] = {
    # Every HTTP route. POST /v1/exports records a job and invokes the export function for it
    # (chalicelib/audit/jobs.py): this function neither scans nor writes the exports.
    "api_handler": Access(
        writes=EVERY_TABLE,
        topics=True,
        sign_in=True,
        evidence=True,
        reports=True,
        export_jobs=True,
        starts_exports=True,
    ),
    # Due timers → the ladder's steps committed with the petition; then drains the outbox.
    # (and the grid's claim pool: an unclaimed petition handed to the center closes its pool item)
    "sla_sweep": Access(reads=frozenset({"directory"}), writes=PETITION_WRITES | {"grid"}, topics=True),
    # The daily Parquet export, and the on-demand export jobs: reads (the day's changes through the
    # events' by_day index and batch reads; whole tables on the first export), never writes a table,
    # publishes nothing; merges changed rows into their partitions (reads them back).
    # and the assessments table it computes from the rollups and violations (supervision table).
    "audit_daily_export": Access(
        reads=EXPORTED | {"directory", "supervision"}, scans=EXPORTED, bucket=True, export_jobs=True
    ),
    # A citizen's 1/2/3 reply: finds the petition by phone hash (by_phone), records the rating;
    # a TD (退订) is written to the foresight table's opt-outs.
    "notify_inbound_sms": Access(
        reads=frozenset({"directory"}), writes=PETITION_WRITES | {"foresight"}, topics=True
    ),
    # The outbox table's stream: publishes what a commit queued (the request never waits for SNS), and
    # marks each outcome with its timeline event through the unit of work (petition writes).
    "notify_outbox_stream": Access(
        reads=frozenset({"directory"}), writes=PETITION_WRITES, topics=True, streams=frozenset({"outbox"})
    ),
    # 发一封短信, each minute: recipients, opt-outs, the broadcast's cursor and deliveries; SMS to phones.
    "foresight_broadcasts": Access(
        reads=frozenset({"directory"}), writes=frozenset({"foresight"}), topics=True
    ),
    # 每月一题 / 年度报告 on the 1st: figures from the rollups (stats), the center's mediation figures
    # (its cases; the petitions' triage events), hotspots and the report index (foresight), the HTML
    # and PDF under reports/.
    "foresight_monthly_reports": Access(
        reads=frozenset({"directory", "supervision", "center", "petitions", "events"}),
        writes=frozenset({"foresight"}),
        reports=True,
    ),
    # 未诉先办, hourly: counts the district's petitions (district index), opens and cools hotspots, sends
    # their notices through the outbox, and merges matching petitions into a hotspot's proactive case.
    "foresight_hotspot_detection": Access(
        reads=frozenset({"directory"}), writes=PETITION_WRITES | {"foresight"}, topics=True
    ),
}


def _table_arn(table: str) -> dict:
    return {"Fn::GetAtt": [TABLES[table][1], "Arn"]}


def indexed_tables(template: dict) -> frozenset[str]:
    """The tables that have secondary indexes in infra/template.yaml (their index ARNs are granted)."""
    return frozenset(
        name
        for name, (_, logical) in TABLES.items()
        if {"GlobalSecondaryIndexes", "LocalSecondaryIndexes"}
        & template["Resources"][logical]["Properties"].keys()
    )


def policy_statements(access: Access, indexed: frozenset[str]) -> list[dict]:
    """The IAM statements of one function's role: its log streams, and only what ``access`` names."""
    statements: list[dict] = [
        {
            "Sid": "Logs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": {"Fn::Sub": LOG_GROUPS},
        }
    ]
    read = access.reads | access.writes
    if read:
        statements.append(
            {
                "Sid": "ReadTables",
                "Effect": "Allow",
                "Action": list(READ_ACTIONS),
                "Resource": [_table_arn(t) for t in sorted(read)],
            }
        )
    if read & indexed:
        statements.append(
            {
                "Sid": "QueryIndexes",
                "Effect": "Allow",
                "Action": ["dynamodb:Query"],
                "Resource": [{"Fn::Sub": "${%s.Arn}/index/*" % TABLES[t][1]} for t in sorted(read & indexed)],
            }
        )
    if access.writes:
        statements.append(
            {
                "Sid": "WriteTables",
                "Effect": "Allow",
                "Action": list(WRITE_ACTIONS),
                "Resource": [_table_arn(t) for t in sorted(access.writes)],
            }
        )
    if access.scans:
        statements.append(
            {
                "Sid": "ScanExportedTables",
                "Effect": "Allow",
                "Action": list(SCAN_ACTIONS),
                "Resource": [_table_arn(t) for t in sorted(access.scans)],
            }
        )
    if access.streams:
        statements.append(
            {
                "Sid": "ReadStreams",
                "Effect": "Allow",
                "Action": list(STREAM_ACTIONS),
                "Resource": [
                    {"Fn::Sub": "${%s.Arn}/stream/*" % TABLES[t][1]} for t in sorted(access.streams)
                ],
            }
        )
    if access.topics:
        statements += [
            {
                "Sid": "PublishTopics",
                "Effect": "Allow",
                "Action": ["sns:Publish"],
                "Resource": [{"Ref": t} for t in TOPICS.values()],
            },
            {
                # SMS to a phone number has no resource ARN, hence "*". sns:Protocol is a Subscribe
                # key, absent on Publish, so this condition does not keep the role to our topics.
                "Sid": "PublishSms",
                "Effect": "Allow",
                "Action": ["sns:Publish"],
                "Resource": "*",
                "Condition": {"Null": {"sns:Protocol": "true"}},
            },
        ]
    if access.bucket:
        # The export uploads its Parquet files, and reads back a partition it merges changed rows
        # into (incremental exports); it never deletes (auditors query through Athena).
        statements.append(
            {
                "Sid": "WriteExports",
                "Effect": "Allow",
                "Action": ["s3:PutObject", "s3:GetObject"],
                "Resource": {"Fn::Sub": "${%s.Arn}/exports/*" % BUCKET},
            }
        )
    if access.export_jobs:
        statements.append(
            {
                "Sid": "ExportJobs",
                "Effect": "Allow",
                "Action": ["s3:PutObject", "s3:GetObject"],
                "Resource": {"Fn::Sub": "${%s.Arn}/export-jobs/*" % BUCKET},
            }
        )
    if access.starts_exports:
        statements.append(
            {
                "Sid": "StartExports",
                "Effect": "Allow",
                "Action": ["lambda:InvokeFunction"],
                "Resource": {"Fn::GetAtt": [EXPORT_FUNCTION, "Arn"]},
            }
        )
    if access.evidence:
        # Evidence objects (§10): a presigned URL carries the signer's rights, so the API's role may
        # put and get under evidence/ only (HEAD is authorised as GetObject); never the exports.
        statements.append(
            {
                "Sid": "Evidence",
                "Effect": "Allow",
                "Action": ["s3:PutObject", "s3:GetObject"],
                "Resource": {"Fn::Sub": "${%s.Arn}/evidence/*" % BUCKET},
            }
        )
    if access.reports:
        # Reports (§13): written under reports/ and read back only through presigned GETs (which carry
        # the signer's rights); nothing else of the bucket.
        statements.append(
            {
                "Sid": "Reports",
                "Effect": "Allow",
                "Action": ["s3:PutObject", "s3:GetObject"],
                "Resource": {"Fn::Sub": "${%s.Arn}/reports/*" % BUCKET},
            }
        )
    return statements


def load_template() -> dict:
    template, matches = decode_str(TEMPLATE.read_text(encoding="utf-8"))
    if matches:
        raise SystemExit(f"{TEMPLATE}: {matches}")
    return json.loads(json.dumps(template))  # plain dicts, intrinsic functions in long form


def chalice_package(stage: str, out: Path, merge: Path | None = None) -> dict:
    cmd = [str(Path(sys.executable).with_name("chalice")), "package", "--stage", stage]
    if merge is not None:
        cmd += ["--merge-template", str(merge)]
    cmd.append(str(out))
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "cn-north-1")}
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return json.loads((out / "sam.json").read_text(encoding="utf-8"))


# Secrets and sign-in settings arrive as stack parameters (NoEcho for keys), set by the deployment.
SECRET_PARAMETERS = {
    "FZT_DATA_KEY": ("DataKey", True, "Seals phones and names at rest (AES-GCM key material)"),
    "FZT_PHONE_KEY": ("PhoneKey", True, "Keys the phone hash (look-ups, pseudonymised exports)"),
}

# Operators' sign-in. In regions with Cognito, the stack's own user pool, client and hosted UI;
# in the China regions (no Cognito) the city's OIDC provider, given as parameters.
_COGNITO = "https://${OperatorUserPoolDomain}.auth.${AWS::Region}.amazoncognito.com"
OIDC_PARAMETERS = {
    "FZT_OIDC_ISSUER": (
        "OidcIssuer",
        "The city's OIDC issuer (China regions)",
        {"Fn::Sub": "https://cognito-idp.${AWS::Region}.${AWS::URLSuffix}/${OperatorUserPool}"},
    ),
    "FZT_OIDC_AUDIENCE": (
        "OidcAudience",
        "The console's client id at the city's provider",
        {"Ref": "OperatorUserPoolClient"},
    ),
    "FZT_OIDC_AUTHORIZE_URL": (
        "OidcAuthorizeUrl",
        "The city's provider's authorisation endpoint",
        {"Fn::Sub": _COGNITO + "/oauth2/authorize"},
    ),
    "FZT_OIDC_TOKEN_URL": (
        "OidcTokenUrl",
        "The city's provider's token endpoint",
        {"Fn::Sub": _COGNITO + "/oauth2/token"},
    ),
    "FZT_OIDC_LOGOUT_URL": (
        "OidcLogoutUrl",
        "The city's provider's sign-out endpoint",
        {"Fn::Sub": _COGNITO + "/logout"},
    ),
}


def parameters() -> dict:
    out = {
        name: {
            "Type": "String",
            "NoEcho": secret,
            "Description": text,
            **({"MinLength": 16} if secret else {}),
        }
        for name, secret, text in SECRET_PARAMETERS.values()
    }
    for name, text, _ in OIDC_PARAMETERS.values():
        out[name] = {"Type": "String", "Default": "", "Description": f"{text}; ignored where Cognito serves"}
    return out


def environment(access: Access) -> dict:
    """Physical names of what the function touches, and the keys every function needs."""
    env = {TABLES[t][0]: {"Ref": TABLES[t][1]} for t in sorted(access.tables)}
    if access.topics:
        env.update({k: {"Ref": v} for k, v in TOPICS.items()})
    if access.bucket or access.reports or access.export_jobs:
        env["FZT_EXPORT_BUCKET"] = {"Ref": BUCKET}
    if access.starts_exports:
        env["FZT_EXPORT_FUNCTION"] = {"Ref": EXPORT_FUNCTION}
    # Every function: settings refuse to start on dev/prod without the keys.
    env.update({k: {"Ref": name} for k, (name, _, _) in SECRET_PARAMETERS.items()})
    if access.sign_in:
        env.update(
            {
                k: {"Fn::If": ["HasCognito", cognito, {"Ref": name}]}
                for k, (name, _, cognito) in OIDC_PARAMETERS.items()
            }
        )
    return env


def stream_events(name: str, res: dict, access: Access) -> dict:
    """A function's DynamoDB stream events, pointed at the stack's own table streams: chalice needs a
    literal ARN in app.py (constants.OUTBOX_STREAM_ARN), replaced here by Fn::GetAtt. Fails on a
    stream this module does not know or that the function has no grant to read."""
    from chalicelib.constants import OUTBOX_STREAM_ARN

    known = {OUTBOX_STREAM_ARN: "outbox"}
    out = {}
    for event_name, event in (res["Properties"].get("Events") or {}).items():
        if event.get("Type") != "DynamoDB":
            continue
        table = known.get(event["Properties"].get("Stream"))
        if table is None or table not in access.streams:
            raise SystemExit(f"infra/package.py: {name} reads a stream it has no grant for: {event!r}")
        stream = {"Fn::GetAtt": [TABLES[table][1], "StreamArn"]}
        out[event_name] = {**event, "Properties": {**event["Properties"], "Stream": stream}}
    return out


def function_name(resource: dict) -> str:
    """Chalice's name of a packaged function: its handler in app.py (``app.app`` is the API's)."""
    handler = resource["Properties"]["Handler"].rsplit(".", 1)[-1]
    return "api_handler" if handler == "app" else handler


def wiring(chalice_template: dict, template: dict) -> dict:
    """Per function: its environment, and its own role's policy from :data:`FUNCTIONS`.

    Fails (SystemExit, naming the function) on a function FUNCTIONS does not know, on an
    entry of FUNCTIONS chalice no longer packages, and on a role that is not the function's own.
    """
    resources = chalice_template["Resources"]
    functions = {
        function_name(res): (logical, res)
        for logical, res in resources.items()
        if res["Type"] == "AWS::Serverless::Function"
    }
    unknown = sorted(set(functions) - set(FUNCTIONS))
    if unknown:
        named = ", ".join(f"{name} ({functions[name][0]})" for name in unknown)
        raise SystemExit(
            f"infra/package.py: no grants for Lambda function {named}; add it to FUNCTIONS "
            "with the tables, topics and bucket it touches (nothing is granted by default)"
        )
    stale = sorted(set(FUNCTIONS) - set(functions))
    if stale:
        raise SystemExit(
            f"infra/package.py: FUNCTIONS names {', '.join(stale)}; chalice packages no such function"
        )
    indexed = indexed_tables(template)
    out: dict = {}
    owners: dict[str, str] = {}
    for name, (logical, res) in sorted(functions.items()):
        role_ref = res["Properties"].get("Role")
        role = role_ref.get("Fn::GetAtt", [None])[0] if isinstance(role_ref, dict) else None
        if role is None or resources.get(role, {}).get("Type") != "AWS::IAM::Role":
            raise SystemExit(f"infra/package.py: {name} ({logical}) has no role of its own: {role_ref!r}")
        if role in owners:
            raise SystemExit(f"infra/package.py: {name} and {owners[role]} share the role {role}")
        owners[role] = name
        access = FUNCTIONS[name]
        variables = {**res["Properties"].get("Environment", {}).get("Variables", {}), **environment(access)}
        out[logical] = {"Properties": {"Environment": {"Variables": variables}}}
        events = stream_events(name, res, access)
        if events:
            out[logical]["Properties"]["Events"] = events
        out[role] = {
            "Properties": {
                "Policies": [
                    {
                        "PolicyName": f"{role}Policy",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": policy_statements(access, indexed),
                        },
                    }
                ]
            }
        }
    return out


# What API Gateway answers by itself — a path no route has (it says "Missing Authentication
# Token", 403), a method a route lacks, a throttled or oversized request — in the contract's
# error shape like every answer of the app ({"error": {"code", "message"}}).
_ERROR = '{"error": {"code": "%s", "message": "$context.error.messageString"}}'
GATEWAY_RESPONSES = {
    "MISSING_AUTHENTICATION_TOKEN": ("404", "not_found"),  # no such route or method
    "THROTTLED": ("429", "rate_limited"),
    "REQUEST_TOO_LARGE": ("413", "too_large"),
    "DEFAULT_4XX": (None, "invalid_request"),
    "DEFAULT_5XX": (None, "internal_error"),
}


def gateway_responses(chalice_template: dict) -> dict:
    api = next(
        (
            logical
            for logical, r in chalice_template["Resources"].items()
            if r["Type"] == "AWS::Serverless::Api"
        ),
        None,
    )
    if api is None:
        raise SystemExit("infra/package.py: chalice packaged no REST API")
    out = {}
    for kind, (status, code) in GATEWAY_RESPONSES.items():
        props: dict = {
            "RestApiId": {"Ref": api},
            "ResponseType": kind,
            "ResponseTemplates": {"application/json": _ERROR % code},
            "ResponseParameters": {
                "gatewayresponse.header.Content-Type": "'application/json; charset=utf-8'"
            },
        }
        if status:
            props["StatusCode"] = status
        name = "".join(part.title() for part in kind.split("_"))
        out[f"GatewayResponse{name}"] = {"Type": "AWS::ApiGateway::GatewayResponse", "Properties": props}
    return out


def build(stage: str, out: Path) -> Path:
    base = load_template()
    with tempfile.TemporaryDirectory() as tmp:
        first = chalice_package(stage, Path(tmp) / "first")
    merge = {
        **base,
        "Parameters": {**base.get("Parameters", {}), **parameters()},
        "Resources": {**base["Resources"], **wiring(first, base), **gateway_responses(first)},
    }
    merge.pop("Transform", None)
    if out.exists():
        shutil.rmtree(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    merge_file = out.parent / f"merge-{stage}.json"
    merge_file.write_text(json.dumps(merge, ensure_ascii=False, indent=1), encoding="utf-8")
    chalice_package(stage, out, merge_file)
    return out / "sam.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stage", default="prod", choices=["dev", "prod"])
    parser.add_argument("--out", default="build/package")
    args = parser.parse_args(argv)
    path = build(args.stage, ROOT / args.out)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
