#!/usr/bin/env python3
"""The man pages (man/*.scd, built by meson into BUILD/man) against the program (issue 20).

Every page renders with `man --warnings` and no warning; every subcommand of `loacast --help`
has its page, and every option its --help names is in that page (and loacast-receiver's in
loacast-receiver(8)); every key `loacast serve --print-config` prints is in loacast.ini(5),
under its section. A key or an option added to the program without its page fails here.
Usage: man_test.py BUILD_MAN_DIR [LOACAST_RECEIVER] (LOACAST in the environment: the loacast binary).
"""
import os
import re
import subprocess
import sys

MANDIR = sys.argv[1]
LOACAST = os.environ["LOACAST"]
RECEIVER = sys.argv[2] if len(sys.argv) > 2 else ""
SRC = os.environ["LOACAST_SOURCE_ROOT"]
failures = []


def out(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


def scd(page):
    with open(os.path.join(SRC, "man", page + ".scd"), encoding="utf-8") as f:
        return f.read()


# 1. Each built page renders without a warning.
pages = sorted(p for p in os.listdir(MANDIR) if re.fullmatch(r"[\w.-]+\.[158]", p))
for p in pages:
    r = subprocess.run(["man", "--warnings", "-l", os.path.join(MANDIR, p)], capture_output=True,
                       text=True, env=dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8"))
    if r.returncode != 0 or r.stderr.strip() or "NAME" not in r.stdout:
        failures.append(f"{p}: man --warnings: {r.returncode} {r.stderr.strip()!r}")

# 2. A page per subcommand, naming each of its options.
subs = re.findall(r"^  (\w+) ", out(LOACAST, "--help").split("Subcommands:")[1], re.M)
if len(subs) < 4:
    failures.append(f"loacast --help lists only {subs}")
progs = [(f"loacast-{s}.1", [LOACAST, s, "--help"]) for s in subs]
if RECEIVER:
    progs.append(("loacast-receiver.8", [RECEIVER, "--help"]))
for page, cmd in progs:
    if page not in pages:
        failures.append(f"{' '.join(cmd[1:-1]) or cmd[0]}: no man page {page}")
        continue
    text = scd(page).replace("\\", "")
    for opt in sorted(set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", out(*cmd)))):
        if opt not in text:
            failures.append(f"{page}: option {opt} of `{' '.join(os.path.basename(c) for c in cmd)}` is missing")

# 3. Every configuration key, in its section of loacast.ini(5).
doc = {}
for part in scd("loacast.ini.5").split("\n## [")[1:]:
    name, body = part.split("]", 1)
    doc[name] = set(re.findall(r"^\*(\w+)\* \(default", body, re.M))
section, nkeys = None, 0
for line in out(LOACAST, "serve", "--print-config").splitlines():
    if m := re.fullmatch(r"\[(\w+)\]", line):
        section = m[1]
    elif m := re.match(r"(\w+) =", line):
        nkeys += 1
        if m[1] not in doc.get(section, ()):
            failures.append(f"loacast.ini.5: [{section}] {m[1]} is missing")

for f in failures:
    print("FAIL:", f)
print(f"{len(pages)} pages, {len(progs)} programs' options, {nkeys} configuration keys checked; "
      f"{len(failures)} problems")
sys.exit(1 if failures else 0)
