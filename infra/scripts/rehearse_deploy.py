#!/usr/bin/env python3
"""Deploy rehearsal: template.yaml as `sam deploy` would create it, on moto.

1. Transform template.yaml with aws-sam-translator, exactly as `sam deploy` has
   CloudFormation do it (the SAM transform), with each function's CodeUri
   replaced by an s3:// URI of an uploaded package, as `sam package` does.
2. Create the result as a CloudFormation stack on moto: every resource must reach
   CREATE_COMPLETE, and every output must resolve to a value.
3. Compare what was created with what the code expects:
   - the table's keys, attributes, indexes, TTL and stream equal the table
     `desk-local create-table` makes (on DynamoDB Local);
   - each queue with a redrive policy points at its own dead-letter queue;
   - each SQS event source mapping feeds the function the template names, with
     ReportBatchItemFailures; each schedule targets the function it belongs to;
   - each function's environment is exactly what its configuration reads
     (`desk-local env-check`): a missing variable fails here, not in production.

Usage: rehearse_deploy.py --moto URL --dynamo URL --desk-local PATH
Needs boto3, moto[server] and aws-sam-translator (in .venv, `make tools`).
"""
import argparse
import io
import json
import os
import re
import subprocess
import sys
import time
import zipfile

import boto3
import yaml

STACK = "desk-rehearsal"
REGION = "us-east-1"
failures = []


def check(ok, what):
    print(("  ok    " if ok else "  FAIL  ") + what)
    if not ok:
        failures.append(what)


class CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form intrinsics (!Ref, !Sub, ...)."""


def _intrinsic(tag):
    name = "Ref" if tag == "Ref" else f"Fn::{tag}"

    def construct(loader, node):
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if tag == "GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {name: value}

    return construct


for _tag in ["Ref", "Sub", "GetAtt", "If", "Equals", "Not", "And", "Or", "Join",
             "Select", "Split", "FindInMap", "ImportValue", "Base64", "Cidr", "GetAZs"]:
    CfnLoader.add_constructor(f"!{_tag}", _intrinsic(_tag))


def client(service, endpoint):
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id="local", aws_secret_access_key="local")


def package(template, s3):
    """`sam package`: each function's code as a zip in S3, CodeUri an s3:// URI."""
    s3.create_bucket(Bucket="rehearsal-artifacts")
    for name, res in template["Resources"].items():
        if res.get("Type") != "AWS::Serverless::Function" or "InlineCode" in res.get("Properties", {}):
            continue
        binary = res.get("Metadata", {}).get("BuildProperties", {}).get("Binary", name)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            # The rehearsal creates the stack; it runs no code (moto's Lambda would
            # need a container runtime to invoke). `make package` checks the real
            # bootstraps.
            z.writestr("bootstrap", f"#!/bin/sh\n# {binary}\n")
        key = f"{binary}.zip"
        s3.put_object(Bucket="rehearsal-artifacts", Key=key, Body=buf.getvalue())
        res["Properties"]["CodeUri"] = f"s3://rehearsal-artifacts/{key}"


def parameters(template):
    # With an issuer of the deployer's own: moto's CloudFormation has no Cognito, so
    # the stack's own user pool (no JwtIssuer) is checked by the transform and
    # cfn-lint only.
    values = {
        "JwtIssuer": "https://issuer.example.com",
        "JwtAudience": "desk-console",
        "AlarmEmail": "ops@example.com",
    }
    return [{"ParameterKey": k, "ParameterValue": v}
            for k, v in values.items() if k in template.get("Parameters", {})]


def transform(template, moto):
    from samtranslator.public.translator import ManagedPolicyLoader
    from samtranslator.translator.transform import transform as sam_transform
    params = {p["ParameterKey"]: p["ParameterValue"] for p in parameters(template)}
    return sam_transform(template, params, ManagedPolicyLoader(client("iam", moto)))


def references(value):
    """The logical ids a CloudFormation value refers to (Ref, GetAtt, Sub)."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "Ref" and isinstance(v, str):
                yield v
            elif k == "Fn::GetAtt":
                yield v[0] if isinstance(v, list) else v.split(".")[0]
            elif k == "Fn::Sub":
                text = v[0] if isinstance(v, list) else v
                yield from (m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", text))
                if isinstance(v, list):
                    yield from references(v[1])
            else:
                yield from references(v)
    elif isinstance(value, list):
        for v in value:
            yield from references(v)


def table_shape(ddb, name):
    t = ddb.describe_table(TableName=name)["Table"]
    gsis = sorted(
        (g["IndexName"], json.dumps(g["KeySchema"]), g["Projection"]["ProjectionType"])
        for g in t.get("GlobalSecondaryIndexes", []))
    stream = t.get("StreamSpecification") or {}
    ttl = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    return {
        "keys": t["KeySchema"],
        "attributes": sorted((a["AttributeName"], a["AttributeType"]) for a in t["AttributeDefinitions"]),
        "indexes": gsis,
        "stream": stream.get("StreamViewType") if stream.get("StreamEnabled") else None,
        "ttl": ttl.get("AttributeName") if ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING") else None,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--moto", required=True)
    ap.add_argument("--dynamo", required=True)
    ap.add_argument("--desk-local", required=True)
    ap.add_argument("--template", default="template.yaml")
    args = ap.parse_args()
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)

    with open(args.template) as f:
        template = yaml.load(f, Loader=CfnLoader)
    # The desk's functions (Rust, built by cargo-lambda), by binary; the template's
    # inline deploy-time helper (a custom resource) is not one of them.
    functions = {name: res.get("Metadata", {}).get("BuildProperties", {}).get("Binary")
                 for name, res in template["Resources"].items()
                 if res.get("Type") == "AWS::Serverless::Function"
                 and res.get("Metadata", {}).get("BuildMethod") == "rust-cargolambda"}

    print("== transform (aws-sam-translator) and create the stack on moto")
    s3 = client("s3", args.moto)
    package(template, s3)
    cfn_template = transform(template, args.moto)
    cfn = client("cloudformation", args.moto)
    cfn.create_stack(StackName=STACK, TemplateBody=json.dumps(cfn_template),
                     Parameters=parameters(template), Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
    for _ in range(600):
        stack = cfn.describe_stacks(StackName=STACK)["Stacks"][0]
        if not stack["StackStatus"].endswith("IN_PROGRESS"):
            break
        time.sleep(0.2)
    check(stack["StackStatus"] == "CREATE_COMPLETE", f"stack {stack['StackStatus']}")
    resources = [r for page in cfn.get_paginator("list_stack_resources").paginate(StackName=STACK)
                 for r in page["StackResourceSummaries"]]
    bad = [(r["LogicalResourceId"], r["ResourceStatus"]) for r in resources
           if r["ResourceStatus"] != "CREATE_COMPLETE"]
    physical = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources
                if r.get("PhysicalResourceId")}
    expected = cfn_template["Resources"]
    check(not bad and set(physical) <= set(expected),
          f"{len(physical)} resources created and CREATE_COMPLETE" + (f"; not: {bad}" if bad else ""))
    # moto reports CREATE_COMPLETE for resource types it does not emulate and
    # creates nothing: those are named here and checked in the transformed
    # template instead (schedules below), never counted as created.
    conditional = sorted(n for n in set(expected) - set(physical) if "Condition" in expected[n])
    if conditional:
        print(f"  note  {len(conditional)} conditional resources not created with these parameters: "
              f"{', '.join(conditional)}")
    skipped = sorted(set(expected) - set(physical) - set(conditional))
    kinds = sorted({expected[n]["Type"] for n in skipped})
    print(f"  note  moto does not emulate {len(skipped)} resources ({', '.join(kinds)}): "
          "checked in the transformed template")
    emulated_types = {expected[n]["Type"] for n in physical}
    must_emulate = {"AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::S3::Bucket", "AWS::Lambda::Function",
                    "AWS::Lambda::EventSourceMapping", "AWS::IAM::Role", "AWS::SNS::Topic", "AWS::Logs::LogGroup"}
    check(must_emulate <= emulated_types,
          f"the table, queues, bucket, functions, event source mappings, roles, topic and log groups were created "
          f"(missing kinds: {sorted(must_emulate - emulated_types)})")

    outputs = {o["OutputKey"]: o.get("OutputValue") for o in stack.get("Outputs", [])}
    for key, spec in cfn_template.get("Outputs", {}).items():
        value = outputs.get(key)
        refs = set(references(spec["Value"])) & set(expected)
        if refs and not refs <= set(physical):
            print(f"  note  output {key} names {sorted(refs - set(physical))}, not emulated")
            continue
        check(bool(value) and "${" not in value and "{{" not in value, f"output {key} = {value!r:.90}")

    print("== the table equals what desk-local create-table makes")
    table_logical = [n for n, r in template["Resources"].items() if r["Type"] == "AWS::DynamoDB::Table"]
    local_name = f"rehearsal_{int(time.time())}"
    env = dict(os.environ, TABLE_NAME=local_name, AWS_ENDPOINT_URL_DYNAMODB=args.dynamo,
               AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local", AWS_REGION=REGION)
    subprocess.run([args.desk_local, "create-table"], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deployed = table_shape(client("dynamodb", args.moto), physical[table_logical[0]])
    local = table_shape(client("dynamodb", args.dynamo), local_name)
    for aspect in ["keys", "attributes", "indexes", "stream"]:
        check(deployed[aspect] == local[aspect],
              f"table {aspect}: deployed {deployed[aspect]!r:.120}" +
              ("" if deployed[aspect] == local[aspect] else f" != local {local[aspect]!r:.120}"))
    # moto's CloudFormation ignores TimeToLiveSpecification: compare with the template.
    spec = template["Resources"][table_logical[0]]["Properties"].get("TimeToLiveSpecification", {})
    declared = spec.get("AttributeName") if spec.get("Enabled") else None
    check(local["ttl"] == declared, f"table ttl: template {declared!r}, local {local['ttl']!r}")

    print("== queues: each redrive policy names its own dead-letter queue")
    sqs = client("sqs", args.moto)

    def queue_arn(logical):
        url = physical[logical]
        return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    for name, res in template["Resources"].items():
        if res["Type"] != "AWS::SQS::Queue" or "RedrivePolicy" not in res.get("Properties", {}):
            continue
        want = res["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        attrs = sqs.get_queue_attributes(QueueUrl=physical[name], AttributeNames=["RedrivePolicy"])["Attributes"]
        policy = json.loads(attrs.get("RedrivePolicy", "{}"))
        check(policy.get("deadLetterTargetArn") == queue_arn(want),
              f"{name} dead-letters into {want} after {policy.get('maxReceiveCount')} receives")

    print("== event sources and schedules target the right functions")
    lam = client("lambda", args.moto)
    fn_arn = {name: lam.get_function_configuration(FunctionName=physical[name])["FunctionArn"]
              for name in functions}
    for name, res in template["Resources"].items():
        if name not in functions:
            continue
        for ev_name, ev in res["Properties"].get("Events", {}).items():
            props = ev.get("Properties", {})
            if ev["Type"] == "SQS":
                queue = props["Queue"]["Fn::GetAtt"][0]
                mappings = lam.list_event_source_mappings(FunctionName=physical[name])["EventSourceMappings"]
                match = [m for m in mappings if m["EventSourceArn"] == queue_arn(queue)]
                check(len(match) == 1 and match[0]["FunctionArn"] == fn_arn[name],
                      f"{name} is fed by {queue}")
                if match:
                    check("ReportBatchItemFailures" in match[0].get("FunctionResponseTypes", []),
                          f"{name} reports partial batch failures")
            elif ev["Type"] == "DynamoDB":
                table = props["Stream"]["Fn::GetAtt"][0]
                ddb = client("dynamodb", args.moto)
                stream_arn = ddb.describe_table(TableName=physical[table])["Table"].get("LatestStreamArn")
                mappings = lam.list_event_source_mappings(FunctionName=physical[name])["EventSourceMappings"]
                match = [m for m in mappings if m["EventSourceArn"] == stream_arn]
                check(bool(stream_arn) and len(match) == 1 and match[0]["FunctionArn"] == fn_arn[name],
                      f"{name} is fed by {table}'s stream")
                # What moto does not keep of a mapping is read from the transformed template.
                esm = cfn_template["Resources"].get(f"{name}{ev_name}", {}).get("Properties", {})
                on_failure = esm.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
                check(esm.get("BisectBatchOnFunctionError") is True
                      and "ReportBatchItemFailures" in esm.get("FunctionResponseTypes", [])
                      and isinstance(on_failure, dict) and "Fn::GetAtt" in on_failure
                      and on_failure["Fn::GetAtt"][0] in physical
                      and bool(esm.get("FilterCriteria", {}).get("Filters")),
                      f"{name}'s stream mapping bisects, reports partial failures, filters, and sets "
                      f"failures aside in {on_failure and on_failure.get('Fn::GetAtt', ['?'])[0]}")
            elif ev["Type"] == "ScheduleV2":
                logical = f"{name}{ev_name}"
                schedule = cfn_template["Resources"].get(logical, {})
                target = schedule.get("Properties", {}).get("Target", {}).get("Arn")
                check(schedule.get("Type") == "AWS::Scheduler::Schedule"
                      and target == {"Fn::GetAtt": [name, "Arn"]},
                      f"schedule {logical} ({props['ScheduleExpression']}) targets {name} (transformed template)")

    print("== each function's environment is what its configuration reads")
    for name, binary in sorted(functions.items()):
        config = lam.get_function_configuration(FunctionName=physical[name])
        variables = dict(config.get("Environment", {}).get("Variables", {}))
        # A variable naming a resource moto does not emulate (the reply-token
        # secret) comes back unresolved: it stands in as that resource's name.
        declared_env = cfn_template["Resources"][name]["Properties"].get("Environment", {}).get("Variables", {})
        for key, value in declared_env.items():
            unemulated = sorted(set(references(value)) & set(skipped))
            if unemulated and not variables.get(key):
                variables[key] = f"rehearsal-{unemulated[0]}"
        run = subprocess.run([args.desk_local, "env-check", binary], input=json.dumps(variables).encode(),
                             env=dict(os.environ, RUST_LOG="info"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        message = re.sub(r"\x1b\[[0-9;]*m", "", run.stderr.decode(errors="replace")).strip().splitlines()
        check(run.returncode == 0, f"{name} ({binary}): " + (message[-1] if message else "no output")[-300:])
        # moto's CloudFormation drops Architectures (it reports x86_64): that one is
        # read from the transformed template.
        declared = cfn_template["Resources"][name]["Properties"]
        check(config.get("Runtime") == "provided.al2023" and config.get("Handler") == "bootstrap"
              and declared.get("Architectures") == ["arm64"]
              and config.get("MemorySize") == declared.get("MemorySize")
              and config.get("Timeout") == declared.get("Timeout"),
              f"{name} runs bootstrap on provided.al2023, arm64, {config.get('MemorySize')} MB, "
              f"{config.get('Timeout')} s")

    print("== buckets refuse plain HTTP; the reply-token secret reaches only the functions that read it")
    # moto does not emulate bucket policies: read from the transformed template.
    listed = lambda v: v if isinstance(v, list) else [v]

    def arn_text(value):
        """A bucket ARN as the template writes it: Fn::Sub text or the bucket's GetAtt."""
        if isinstance(value, dict) and "Fn::Sub" in value:
            return listed(value["Fn::Sub"])[0]
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            return "${%s.Arn}" % listed(value["Fn::GetAtt"])[0]
        return str(value)

    for name, res in template["Resources"].items():
        if res["Type"] != "AWS::S3::Bucket":
            continue
        bucket_name = arn_text(res["Properties"].get("BucketName", ""))
        arns = {"${%s.Arn}" % name, "arn:${AWS::Partition}:s3:::" + bucket_name}
        policies = [r["Properties"]["PolicyDocument"] for r in cfn_template["Resources"].values()
                    if r["Type"] == "AWS::S3::BucketPolicy" and r["Properties"].get("Bucket") == {"Ref": name}]
        denied = {arn_text(r) for doc in policies for st in doc.get("Statement", [])
                  if st.get("Effect") == "Deny" and st.get("Principal") in ("*", {"AWS": "*"})
                  and listed(st.get("Action")) == ["s3:*"]
                  and str(st.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport")).lower() == "false"
                  for r in listed(st.get("Resource"))}
        covers = any(a in denied for a in arns) and any(a + "/*" in denied for a in arns)
        check(covers, f"{name} denies every request without TLS (aws:SecureTransport; transformed template)")
    secrets = [n for n, r in template["Resources"].items() if r["Type"] == "AWS::SecretsManager::Secret"]
    for name in sorted(functions):
        declared = cfn_template["Resources"][name]["Properties"].get("Environment", {}).get("Variables", {})
        check("{{resolve:" not in json.dumps(declared), f"{name}: no secret value resolved into its environment")
        role = cfn_template["Resources"].get(f"{name}Role", {}).get("Properties", {})
        grants = [st for pol in role.get("Policies", []) for st in pol["PolicyDocument"]["Statement"]
                  if any(str(a).startswith("secretsmanager:") for a in
                         (st["Action"] if isinstance(st["Action"], list) else [st["Action"]]))]
        reads = declared.get("REPLY_TOKEN_SECRET")
        reference_grants = [st for pol in role.get("Policies", []) for st in pol["PolicyDocument"]["Statement"]
                            if "/aws/reference/secretsmanager/" in json.dumps(st.get("Resource"))]
        if reads is None:
            check(not grants and not reference_grants,
                  f"{name}: no Secrets Manager permission, direct or by reference (reads no secret)")
            continue
        # The name, as the secret declares it: the reference path takes a name, not an ARN.
        target = next((s for s in secrets
                       if template["Resources"][s]["Properties"].get("Name") == reads), None)
        check(target is not None and len(grants) == 1 and grants[0]["Effect"] == "Allow"
              and grants[0]["Action"] in ("secretsmanager:GetSecretValue", ["secretsmanager:GetSecretValue"])
              and grants[0]["Resource"] == {"Ref": target},
              f"{name}: REPLY_TOKEN_SECRET names the secret {target}; GetSecretValue on it alone")
        path = "parameter/aws/reference/secretsmanager/" + (reads.get("Fn::Sub", "") if isinstance(reads, dict) else "")
        check(len(reference_grants) == 1 and reference_grants[0]["Effect"] == "Allow"
              and reference_grants[0]["Action"] in ("ssm:GetParameter", ["ssm:GetParameter"])
              and json.dumps(reference_grants[0]["Resource"]).endswith(json.dumps(path)[1:-1] + '"}'),
              f"{name}: ssm:GetParameter on the secret's reference path alone")

    print(f"deploy rehearsal: {len(failures)} failed" if failures else "deploy rehearsal: all checks passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
