#!/usr/bin/env python3
"""The program explains itself: --help of the program and each subcommand, and bad usage."""
import os
import subprocess
import sys

LOACAST = os.environ["LOACAST"]
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


r = subprocess.run([LOACAST, "--help"], capture_output=True, text=True)
check(r.returncode == 0 and all(s in r.stdout for s in ("serve", "render", "normalize", "routes")),
      "loacast --help lists the subcommands")
for sub in ("render", "normalize", "serve", "routes"):
    r = subprocess.run([LOACAST, sub, "--help"], capture_output=True, text=True)
    check(r.returncode == 0 and "Usage: loacast " + sub in r.stdout, f"loacast {sub} --help")
r = subprocess.run([LOACAST], capture_output=True, text=True)
check(r.returncode == 2 and "Usage" in r.stderr, "no subcommand: usage on stderr, exit 2")
r = subprocess.run([LOACAST, "bogus"], capture_output=True, text=True)
check(r.returncode == 2 and "unknown subcommand 'bogus'" in r.stderr, "unknown subcommand")
r = subprocess.run([LOACAST, "render", "--no-such-option"], capture_output=True, text=True)
check(r.returncode == 2, "unknown option: exit 2")
sys.exit(1 if failures else 0)
