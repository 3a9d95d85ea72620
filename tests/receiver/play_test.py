"""loacast-receiver plays a session on time from its cache (issue 17; SPEC "Receivers that store").

A real server on loopback, three tone bulletins (400, 800, 1200 Hz) in an ad-hoc session a few
seconds ahead, and four loacast-receiver processes with wav: sinks — two of them with a box clock
3 s off ([test] clock_skew_ms = +3000 and -3000). Each receiver long-polls its signed schedule,
prefetches the three items and plays the session. Checked:
- every item is played whole, in order, from the cache (the WAV's tones: 400, 800, 1200 Hz, their
  lengths within 60 ms);
- each item's first sample sounded within 20 ms of its scheduled time (start + offset_s), by the
  sidecar's REAL wall-clock times (not the skewed box clocks) — the media file's own onset (decoded
  by ffmpeg) is taken off, so the measure is of the first sample;
- the play reports (GET /api/v1/plays): one per item and receiver, source "cache", start within 20
  ms of what the WAV shows, played_s the item's length within 60 ms;
- SIGTERM ends every receiver with status 0.
Prints the spread of first-sample times across receivers (ms).
"""
import array
import os
import signal
import subprocess
import sys
import time
import wave

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "stream"))
import streamkit as K  # noqa: E402
from streamkit import check  # noqa: E402

TONES = [(1.5, 400), (2.5, 800), (1.0, 1200)]
SKEWS = [0, 3000, -3000, 0]
# the program: $LOACAST_RECEIVER, or the first argument (tests/receiver/meson.build)
RECEIVER = os.environ.get("LOACAST_RECEIVER") or (sys.argv[1] if len(sys.argv) > 1 else None)


def read_wav(path):
    with wave.open(path, "rb") as w:
        check(w.getframerate() == 48000 and w.getnchannels() == 1 and w.getsampwidth() == 2, path)
        a = array.array("h")
        a.frombytes(w.readframes(w.getnframes()))
    return a


def read_times(path):
    """[(wav offset, real time, frames)] of the sidecar."""
    out = []
    with open(path) as f:
        for line in f:
            off, t, n = line.split()
            out.append((int(off), float(t), int(n)))
    return out


def real_time(times, i):
    """The real wall time at which WAV sample i sounded."""
    for off, t, n in times:
        if off <= i < off + n:
            return t + (i - off) / 48000
    raise AssertionError("sample %d not in the sidecar" % i)


def jumps(times):
    """Where the sink's timeline broke (a buffer that did not follow the one before): [(offset, ms)]."""
    out = []
    for (o0, t0, n0), (o1, t1, _) in zip(times, times[1:]):
        d = t1 - (t0 + n0 / 48000)
        if abs(d) > 0.0005:
            out.append((o1, round(d * 1000, 2)))
    return out


def wav_index(times, t):
    """The WAV sample that sounded at real time t (the last buffer that began before t)."""
    best = None
    for off, t0, n in times:
        if t0 <= t:
            best = off + int(round((t - t0) * 48000))
    check(best is not None, "nothing played before %.3f" % t)
    return best


def tone(pcm, i):
    """(frequency, length in s) of the tone that begins at sample i: zero crossings over its
    middle, and its end where 20 ms go by below the level."""
    j, quiet = i, 0
    while j < len(pcm) and quiet < 960:
        quiet = quiet + 1 if abs(pcm[j]) <= 1500 else 0
        j += 1
    end = j - quiet
    mid = pcm[i + (end - i) // 4:i + 3 * (end - i) // 4]
    zc = sum(1 for a, b in zip(mid, mid[1:]) if (a < 0) != (b < 0))
    return zc / 2 / (len(mid) / 48000), (end - i) / 48000


def onset(pcm, frm=0, level=1500):
    for i in range(frm, len(pcm)):
        if abs(pcm[i]) > level:
            return i
    return None


def main():
    check(RECEIVER and os.path.exists(RECEIVER), "set LOACAST_RECEIVER to the loacast-receiver binary")
    with K.Server(K.config()) as s:
        s.start()
        st = K.Setup(s, len(SKEWS), TONES)
        key = s.get("/api/v1/station").json()["public_key"]
        hashes = [s.get("/api/v1/bulletins/%d" % b, st.admin).json()["media_hash"] for b in st.bulletins]
        procs = []
        for i, ((cid, tok), skew) in enumerate(zip(st.clusters, SKEWS)):
            d = os.path.join(s.tmp, "r%d" % i)
            os.makedirs(d)
            conf = os.path.join(d, "receiver.ini")
            with open(conf, "w") as f:
                f.write("[receiver]\nserver = http://127.0.0.1:%d\ncluster = %s\ntoken = %s\nstation_key = %s\n"
                        "cache_dir = %s\nsink = wav:%s\nstatus_every_s = 5\n" %
                        (s.port, cid, tok, key, os.path.join(d, "cache"), os.path.join(d, "out.wav")))
                if skew:
                    f.write("[test]\nclock_skew_ms = %d\n" % skew)
            log = open(os.path.join(d, "log"), "wb")
            procs.append((cid, d, subprocess.Popen([RECEIVER, "--config", conf], stdout=log, stderr=log)))

        def logs():
            out = []
            for cid, d, p in procs:
                with open(os.path.join(d, "log"), "rb") as f:
                    out.append("--- %s\n%s" % (cid, f.read().decode("utf-8", "replace")[-3000:]))
            return "\n".join(out)

        try:
            start, sess = st.session(6, minutes=1)
            items = sess["items"]
            check([it["bulletin"] for it in items] == st.bulletins, sess)
            end = start + items[-1]["offset_s"] + items[-1]["duration_s"]
            # the plays of every receiver reported (the reporter sends every 2 s)
            sid = sess["id"]

            def plays():
                r = s.get("/api/v1/plays?session=%d" % sid, st.admin).json()["plays"]
                return r if len(r) == len(procs) * len(items) else None
            got = K.wait_for(plays, end - time.time() + 30, lambda: "every play reported\n" + logs(), interval=0.2)
            for cid, d, p in procs:
                check(p.poll() is None, "receiver %s exited\n%s" % (cid, logs()))
                p.send_signal(signal.SIGTERM)
            for cid, d, p in procs:
                check(p.wait(10) == 0, "receiver %s: exit %s\n%s" % (cid, p.returncode, logs()))
        finally:
            for cid, d, p in procs:
                if p.poll() is None:
                    p.kill()

        # the media's own onsets (the first audible sample of each decoded file)
        media_onset = {}
        for h in hashes:
            path = os.path.join(procs[0][1], "cache", "media", h + ".opus")
            check(os.path.exists(path), "not cached: %s" % path)
            media_onset[h] = onset(K.decode(path)) / 48000

        firsts = []
        for (cid, d, p), skew in zip(procs, SKEWS):
            pcm = read_wav(os.path.join(d, "out.wav"))
            times = read_times(os.path.join(d, "out.wav.times"))
            mine = sorted([x for x in got if x["cluster"] == cid], key=lambda x: x["start"])
            check(len(mine) == 3, (cid, mine))
            heard = []
            for (sec, freq), it, h, play in zip(TONES, items, hashes, mine):
                want = start + it["offset_s"]
                i = onset(pcm, max(0, wav_index(times, want) - 4800))
                check(i is not None and i < wav_index(times, want) + 4800, "%s: bulletin %d not heard at its time: %s" %
                      (cid, it["bulletin"], jumps(times)))
                first = real_time(times, i) - media_onset[h]   # when the item's first sample sounded
                f, length = tone(pcm, i)
                heard.append(f)
                check(abs(length - sec) < 0.06, "%s: bulletin %d lasted %.3f s, not %.3f" % (cid, it["bulletin"], length, sec))
                err = first - want
                firsts.append((cid, it["bulletin"], err))
                check(abs(err) < 0.020, "%s (skew %d ms): bulletin %d began %.1f ms off its time" %
                      (cid, skew, it["bulletin"], err * 1000))
                # the play report: the right item, from the cache, its start as the WAV shows it
                check(play["bulletin"] == it["bulletin"] and play["hash"] == h and play["source"] == "cache", play)
                check(abs(play["played_s"] - it["duration_s"]) < 0.06, (play, it))
                pstart = parse_time(play["start"])
                check(abs(pstart - first) < 0.020, "%s: play start %.3f, the WAV %.3f" % (cid, pstart, first))
                check(play["underruns"] == 0, (play, jumps(times)))
            check(all(abs(f - x[1]) <= 10 for f, x in zip(heard, TONES)), "%s: tones heard %s" % (cid, heard))
        errs = [e for _, _, e in firsts]
        print("first samples vs schedule: min %+.2f ms, max %+.2f ms, spread %.2f ms (%d items x %d receivers)" %
              (min(errs) * 1000, max(errs) * 1000, (max(errs) - min(errs)) * 1000, len(items), len(procs)))
        s.stop()
    print("ok")


def parse_time(iso):
    import datetime
    return datetime.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


if __name__ == "__main__":
    main()
