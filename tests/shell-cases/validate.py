#!/usr/bin/env python3
"""Checks the shell case corpus against real bash: every case must end within 5 s and give the
same stdout, stderr and status twice in a row (bash is the oracle, so an unstable case is
useless). Needs PyYAML. Usage: validate.py [FILE.yaml...] (default: every *.yaml here).

Each case runs in a fresh temporary directory holding its test_files, with the case's env added
to a small fixed environment, as `bash ARGS` with the case's stdin.
"""
import os
import subprocess
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
# The same base environment as the differential harness (engine/shell/tests/corpus.rs).
BASE_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/nonexistent-home", "LANG": "C"}


def run(case):
    with tempfile.TemporaryDirectory() as d:
        for f in case.get("test_files", []) or []:
            p = os.path.join(d, f["path"])
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "w") as fh:
                fh.write(f.get("contents", "") or "")
            if f.get("executable"):
                os.chmod(p, 0o755)
        env = dict(BASE_ENV)
        env.update({k: str(v) for k, v in (case.get("env") or {}).items()})
        args = ["/bin/bash"] + [str(a) for a in case.get("args", []) or []]
        try:
            r = subprocess.run(args, input=(case.get("stdin") or "").encode(), cwd=d, env=env,
                               capture_output=True, timeout=5)
        except subprocess.TimeoutExpired:
            return None
        out = r.stdout.decode(errors="replace").replace(d, "$DIR")
        err = r.stderr.decode(errors="replace").replace(d, "$DIR")
        return out, err, r.returncode


def main():
    files = sys.argv[1:] or sorted(
        os.path.join(HERE, f) for f in os.listdir(HERE) if f.endswith(".yaml"))
    total = bad = 0
    for path in files:
        with open(path) as fh:
            doc = yaml.safe_load(fh)
        cases = doc.get("cases", [])
        names = set()
        for case in cases:
            total += 1
            name = case.get("name", "?")
            where = f"{os.path.basename(path)}: {name}"
            if name in names:
                print(f"DUPLICATE NAME {where}")
                bad += 1
            names.add(name)
            a = run(case)
            if a is None:
                print(f"TIMEOUT {where}")
                bad += 1
                continue
            b = run(case)
            if a != b:
                print(f"UNSTABLE {where}\n  1: {a!r}\n  2: {b!r}")
                bad += 1
            if os.environ.get("SHOW"):
                print(f"--- {where}: status {a[2]}\n{a[0]}{a[1]}")
        print(f"{os.path.basename(path)}: {len(cases)} cases")
    print(f"total {total} cases, {bad} problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
