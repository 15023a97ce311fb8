#!/usr/bin/env python3
"""Applies the mutants a gremlins report lists as NOT COVERED, one at a
time, and runs the part's tests against each.

Gremlins reads coverage from Go's cover profile, which credits a switch
case's expression to no block, so every mutant of a case expression is
reported as not covered even when the suite runs that case. This script
settles each one by hand: it swaps the operator at the reported line and
column with the one gremlins would (its tokenMutations table), runs
`go test` on the package, and prints KILLED or LIVED. run.sh calls it with
--uncovered in the same temporary copy gremlins would use.

	uncovered.py REPORT.json ./PART
"""
import json
import os
import subprocess
import sys

# gremlins v0.6.0 internal/engine/mappings.go, the default mutators.
SWAP = {
    "ARITHMETIC_BASE": {"+": "-", "*": "/", "/": "*", "%": "*", "-": "+"},
    "CONDITIONALS_BOUNDARY": {">=": ">", ">": ">=", "<=": "<", "<": "<="},
    "CONDITIONALS_NEGATION": {"==": "!=", ">=": "<", ">": "<=", "<=": ">", "<": ">=", "!=": "=="},
    "INCREMENT_DECREMENT": {"--": "++", "++": "--"},
    "INVERT_NEGATIVES": {"-": "+"},
}


def mutate(src, line, col, kind):
    """Returns src with the operator at line:col (1-based, bytes) swapped."""
    lines = src.split(b"\n")
    text = lines[line - 1]
    i = col - 1
    for op in sorted(SWAP[kind], key=len, reverse=True):  # longest first
        if text[i:i + len(op)] == op.encode():
            lines[line - 1] = text[:i] + SWAP[kind][op].encode() + text[i + len(op):]
            return b"\n".join(lines)
    raise SystemExit(f"no {kind} operator at {line}:{col}: {text!r}")


def main():
    report, pkg = sys.argv[1], sys.argv[2]
    with open(report) as f:
        files = json.load(f)["files"]
    killed = lived = 0
    for entry in files:
        path = os.path.join(pkg, entry["file_name"])
        for m in entry["mutations"]:
            if m["status"] != "NOT COVERED":
                continue
            with open(path, "rb") as f:
                orig = f.read()
            try:
                with open(path, "wb") as f:
                    f.write(mutate(orig, m["line"], m["column"], m["type"]))
                quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
                built = subprocess.run(["go", "build", pkg], **quiet).returncode == 0
                if built:
                    r = subprocess.run(["go", "test", "-count=1", "-cpu", "1", pkg], timeout=600, **quiet)
            finally:
                with open(path, "wb") as f:
                    f.write(orig)
            if not built:
                status = "NOT VIABLE"  # does not compile; gremlins skips these too
            elif r.returncode != 0:
                status, killed = "KILLED", killed + 1
            else:
                status, lived = "LIVED", lived + 1
            print(f"{status:>10} {m['type']} at {entry['file_name']}:{m['line']}:{m['column']}", flush=True)
    print(f"uncovered mutants applied by hand: killed {killed}, lived {lived}")


if __name__ == "__main__":
    main()
