#!/usr/bin/env python3
"""Prints "N passed, N failed" over the meson test logs of the given build directories.

Reads meson-logs/testlog.json (one JSON object per test) of each build. Exits 1 if a test failed,
timed out, or if a build ran no test at all (which would mean the run proved nothing).
A failed test's last lines of output come just before the count: a CI record that keeps only the
end of the run still says why it failed.
"""
import json
import os
import sys

TAIL_LINES = 12  # of each failed test's output
SANITIZER = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def why(lines):
    """A sanitizer's report from its first line (what, where: the legend at its end says
    nothing), else the output's last lines."""
    for i, line in enumerate(lines):
        if any(s in line for s in SANITIZER):
            return lines[i:i + TAIL_LINES]
    return lines[-TAIL_LINES:]

passed = failed = skipped = 0
failures = []
for build in sys.argv[1:]:
    path = os.path.join(build, "meson-logs", "testlog.json")
    ran = 0
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                t = json.loads(line)
                ran += 1
                if t.get("result") in ("OK", "EXPECTEDFAIL"):
                    passed += 1
                elif t.get("result") == "SKIP":
                    skipped += 1
                else:
                    failed += 1
                    out = ((t.get("stdout") or "") + (t.get("stderr") or "")).rstrip().splitlines()
                    failures.append((build, t, why(out)))
    except FileNotFoundError:
        pass
    if ran == 0:
        print(f"{build}: no test ran")
        failed += 1
for build, t, tail in failures:
    print(f"FAILED in {build}: {t.get('name')} ({t.get('result')}), its last lines:")
    for line in tail:
        print("  | " + line[:200])
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
sys.exit(1 if failed else 0)
