#!/usr/bin/env bash
# `make package`: the deployable artifacts, as `sam deploy` will upload them.
#   1. sam build (BuildMethod rust-cargolambda: cargo-lambda, arm64, zig as the
#      cross-linker; all from .venv-package) into .aws-sam/build;
#   2. checks that every function of template.yaml has an artifact that is an
#      arm64 (aarch64) ELF executable named bootstrap of at most 8 MB (10^6 bytes),
#      and prints its size.
# The web console must be built first (make package does): the console function
# embeds it, and DESK_CONSOLE_REQUIRED=1 refuses a placeholder.
set -euo pipefail
cd "$(dirname "$0")/../.."
infra/scripts/tools.sh --package
export SAM_CLI_TELEMETRY=0 DESK_CONSOLE_REQUIRED=1
PATH="$PWD/.venv-package/bin:$PATH" sam build --beta-features --build-dir .aws-sam/build >&2
.venv-package/bin/python - <<'PY'
import os, struct, sys, yaml

class Loader(yaml.SafeLoader):
    pass
Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
template = yaml.load(open("template.yaml"), Loader=Loader)
functions = [name for name, r in template["Resources"].items() if r.get("Type") == "AWS::Serverless::Function"
             and r.get("Metadata", {}).get("BuildMethod") == "rust-cargolambda"]
# Issue 10's goal, kept: every stripped arm64 binary at most 8 MB (10^6 bytes). The binaries
# hold the registry's source paths in panic locations (1,264 of them in the API): a CARGO_HOME
# longer than /root/.cargo adds that many bytes per extra character.
MAX_BYTES = 8_000_000
bad = []
for name in sorted(functions):
    path = f".aws-sam/build/{name}/bootstrap"
    if not os.path.isfile(path):
        bad.append(f"{name}: no {path}")
        continue
    with open(path, "rb") as f:
        head = f.read(20)
    # ELF magic, 64-bit (EI_CLASS 2), little endian (EI_DATA 1), e_machine 183 = AArch64.
    machine = struct.unpack_from("<H", head, 18)[0] if len(head) >= 20 else None
    elf = head[:4] == b"\x7fELF" and head[4] == 2 and head[5] == 1
    executable = os.access(path, os.X_OK)
    ok = elf and machine == 183 and executable
    size = os.path.getsize(path)
    print(f"{name:<20} {'arm64 ELF bootstrap' if ok else 'NOT an arm64 ELF executable'}  {size:>10,} bytes  {size / 1048576:6.2f} MiB")
    if not ok:
        bad.append(f"{name}: elf={elf} machine={machine} executable={executable}")
    if size > MAX_BYTES:
        bad.append(f"{name}: {size:,} bytes, over the {MAX_BYTES:,} a function may weigh (README, Lean functions)")
if bad:
    sys.exit("package: " + "; ".join(bad))
print(f"package: {len(functions)} functions built for arm64 in .aws-sam/build")
PY
