"""Rendering memory does not follow a recording's length (issue 14, point 2).

`loacast render --audio` of 1,320 s of 16 kHz noise (no pause to cut at) against 660 s of the
same: what the 660 s more cost must stay under 2.5 times their decoded samples (660 s x 16,000 x
4 bytes = 41 MB; both are long enough for the longest, 60 s segments): the file and its samples
grow, the per-segment working set does not. Before, the whole recording was limited into a
second copy, resampled to 48 kHz as one piece and handed to libsoxr at once: 365 MB peak for
600 s, and a 30-minute upload took the server to 1 GB. ASan's quarantine is switched off for the
measurement (it would keep every freed buffer resident), and meson's MALLOC_PERTURB_ too."""
import os
import resource
import subprocess
import sys
import tempfile

LOACAST = os.environ.get("LOACAST") or sys.argv[1]


def peak_kb(cmd, env):
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    err = p.stderr.read().decode()
    if status != 0:
        raise AssertionError("render failed: %s" % err)
    return ru.ru_maxrss


def main():
    env = dict(os.environ)
    env.pop("MALLOC_PERTURB_", None)   # meson's: it would touch every byte malloc hands out
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=0:thread_local_quarantine_size_kb=0"
    with tempfile.TemporaryDirectory() as tmp:
        peaks = {}
        for secs in (660, 1320):
            wav = os.path.join(tmp, "noise%d.wav" % secs)
            subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", "-b", "16", wav, "synth", str(secs),
                            "pinknoise", "vol", "0.3"], check=True)
            peaks[secs] = peak_kb([LOACAST, "render", "--audio", wav, "-o", wav + ".opus"], env)
        grown = peaks[1320] - peaks[660]
        samples_kb = 660 * 16000 * 4 // 1024
        bound = int(2.5 * samples_kb)
        print("peak %d kB for 660 s, %d kB for 1320 s: +%d kB (the 660 s more decode to %d kB)"
              % (peaks[660], peaks[1320], grown, samples_kb))
        if grown > bound:
            raise AssertionError("rendering 1320 s took %d kB more than 660 s (bound %d)"
                                 % (grown, bound))
    print("ok")


if __name__ == "__main__":
    main()
