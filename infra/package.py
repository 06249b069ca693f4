"""``make package``: ``chalice package`` with infra/template.yaml merged in.

The data plane (tables, topics, bucket, user pool) comes from the same template
the local stack applies to moto. This script adds the wiring that only exists
in the cloud: each Lambda function's environment (physical names by ``Ref``)
and a least-privilege policy per function role (ARNs built from the partition,
so the template also deploys to aws-cn). Function and role names are read from
a first ``chalice package`` pass, so a new schedule gets its wiring too.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from cfnlint.decode import decode_str

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "infra" / "template.yaml"

TABLES = {
    "FZT_TABLE_PETITIONS": "PetitionsTable",
    "FZT_TABLE_EVENTS": "EventsTable",
    "FZT_TABLE_TIMERS": "TimersTable",
    "FZT_TABLE_OUTBOX": "OutboxTable",
    "FZT_TABLE_DIRECTORY": "DirectoryTable",
    "FZT_TABLE_IDEMPOTENCY": "IdempotencyTable",
    "FZT_TABLE_VIOLATIONS": "ViolationsTable",
}
TOPICS = {"FZT_TOPIC_ORDERS_ARN": "OrdersTopic", "FZT_TOPIC_SUPERVISION_ARN": "SupervisionTopic"}
BUCKET = "ExportBucket"


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


def policy_statements() -> list[dict]:
    table_arns = []
    for logical in TABLES.values():
        table_arns.append({"Fn::GetAtt": [logical, "Arn"]})
        table_arns.append({"Fn::Sub": "${%s.Arn}/index/*" % logical})
    return [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": {"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:*"},
        },
        {
            "Effect": "Allow",
            "Action": [
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
                "dynamodb:Query",
                "dynamodb:BatchGetItem",
                "dynamodb:BatchWriteItem",
                "dynamodb:ConditionCheckItem",
            ],
            "Resource": table_arns,
        },
        {"Effect": "Allow", "Action": ["sns:Publish"], "Resource": [{"Ref": t} for t in TOPICS.values()]},
        {
            # SMS to a phone number has no resource ARN; deny topic publishes beyond ours.
            "Effect": "Allow",
            "Action": ["sns:Publish"],
            "Resource": "*",
            "Condition": {"Null": {"sns:Protocol": "true"}},
        },
        {
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:GetObject"],
            "Resource": {"Fn::Sub": "${%s.Arn}/exports/*" % BUCKET},
        },
    ]


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


def wiring(chalice_template: dict) -> dict:
    env = {k: {"Ref": v} for k, v in {**TABLES, **TOPICS}.items()}
    env["FZT_EXPORT_BUCKET"] = {"Ref": BUCKET}
    env.update({k: {"Ref": name} for k, (name, _, _) in SECRET_PARAMETERS.items()})
    env.update(
        {
            k: {"Fn::If": ["HasCognito", cognito, {"Ref": name}]}
            for k, (name, _, cognito) in OIDC_PARAMETERS.items()
        }
    )
    resources: dict = {}
    for name, res in chalice_template["Resources"].items():
        if res["Type"] != "AWS::Serverless::Function":
            continue
        variables = {**res["Properties"].get("Environment", {}).get("Variables", {}), **env}
        resources[name] = {"Properties": {"Environment": {"Variables": variables}}}
        role = res["Properties"].get("Role", {}).get("Fn::GetAtt", [None])[0]
        if role:
            resources[role] = {
                "Properties": {
                    "Policies": [
                        {
                            "PolicyName": f"{role}Policy",
                            "PolicyDocument": {"Version": "2012-10-17", "Statement": policy_statements()},
                        }
                    ]
                }
            }
    return resources


def build(stage: str, out: Path) -> Path:
    base = load_template()
    with tempfile.TemporaryDirectory() as tmp:
        first = chalice_package(stage, Path(tmp) / "first")
    merge = {
        **base,
        "Parameters": {**base.get("Parameters", {}), **parameters()},
        "Resources": {**base["Resources"], **wiring(first)},
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
