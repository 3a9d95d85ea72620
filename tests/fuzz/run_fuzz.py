#!/usr/bin/env python3
"""Runs one libFuzzer target for a bounded time, as a test of the suite 'fuzz' (meson.build here).

    run_fuzz.py FUZZER SEED_DIR CRASH_DIR WORK_DIR [libFuzzer flags...]

WORK_DIR (in the build directory) is emptied, SEED_DIR is copied to WORK_DIR/corpus, which the
fuzzer grows, so the committed seeds are never written to; CRASH_DIR (inputs that once crashed
the target, kept as regressions) is given as a second corpus directory, read only, and runs
first with the seeds. Crash artifacts land in WORK_DIR; $TMPDIR is WORK_DIR/tmp (the targets'
scratch files and data directories), removed after a run that passed. The exit status is the
fuzzer's made plain: 0 when it ran out its time without a finding, else 1.
"""
import os
import shutil
import subprocess
import sys


def main():
    fuzzer, seeds, crashes, work = sys.argv[1:5]
    flags = sys.argv[5:]
    shutil.rmtree(work, ignore_errors=True)
    corpus = os.path.join(work, "corpus")
    shutil.copytree(seeds, corpus)
    tmp = os.path.join(work, "tmp")
    os.makedirs(tmp)
    dirs = [corpus]
    if os.path.isdir(crashes) and os.listdir(crashes):
        dirs.append(crashes)
    cmd = [fuzzer] + flags + ["-artifact_prefix=" + work + "/"] + dirs
    print(" ".join(cmd), flush=True)
    env = dict(os.environ, TMPDIR=tmp)
    rc = subprocess.call(cmd, env=env)
    if rc == 0:
        shutil.rmtree(tmp, ignore_errors=True)
        return 0
    print("%s failed (%d); its finding, if any, is in %s (crash-*, timeout-*, oom-*, leak-*)"
          % (os.path.basename(fuzzer), rc, work), flush=True)
    return 1   # libFuzzer's own codes include 77, which meson would count as a skipped test


if __name__ == "__main__":
    sys.exit(main())
