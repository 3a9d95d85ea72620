"""Twenty loacast-receivers play one session together (issue 17; SPEC "Receivers that store").

A real server on loopback, three tone bulletins (400, 800, 1200 Hz) and 20 loacast-receiver
processes with wav: sinks, two of them with box clocks far off ([test] clock_skew_ms +2500 and
-3000). Once every receiver has accepted its signed schedule, an ad-hoc session is made a few
seconds ahead. Checked, per receiver:
- it held every item before the session started, and played every item whole and in order
  from its cache (the tones 400, 800, 1200 Hz in the WAV, their lengths within 60 ms);
- each item's first sample sounded within 20 ms of its scheduled time (start + offset_s) by the
  sidecar's REAL times (the media's own onset, decoded by ffmpeg, taken off);
- its play reports (GET /api/v1/plays): one per item, source "cache", start within 20 ms of what
  the WAV shows, played_s the item's length within 60 ms, no underrun;
- SIGTERM ends it with status 0.
Prints the spread of first-sample times across the 20 receivers (ms), per item and in all.
"""
import os
import time

import rkit as R
from rkit import K, check

TONES = [(1.5, 400), (2.5, 800), (1.0, 1200)]
N = 20
SKEWS = {3: 2500, 11: -3000}


def main():
    with K.Server(K.config()) as s, R.Fleet() as fleet:
        s.start()
        st = K.Setup(s, N, TONES)
        key = R.station_key(s)
        hashes = [R.media_hash(s, st, b) for b in st.bulletins]
        for i, (cid, tok) in enumerate(st.clusters):
            fleet.add(R.Rx(s, s.tmp, cid, tok, key, skew=SKEWS.get(i, 0)).start())
        # every receiver has a schedule and the items (the commune's slot in 12 h names them)
        R.wait_for(lambda: all(r.kept() and all(r.holds(h) for h in hashes) for r in fleet.rxs), 60,
                   lambda: "every receiver's schedule and media\n" + fleet.logs(), interval=0.2)
        start, sess = st.session(5, minutes=1)
        items = sess["items"]
        check([it["bulletin"] for it in items] == st.bulletins, sess)
        end = start + items[-1]["offset_s"] + items[-1]["duration_s"]
        sid = sess["id"]

        def has_session(r):
            k = r.kept()
            return k and any(x["id"] == sid for x in k["sessions"])
        R.wait_for(lambda: all(has_session(r) for r in fleet.rxs), start - time.time() - 1.5,
                   lambda: "every receiver's schedule with session %d before it starts\n%s" % (sid, fleet.logs()),
                   interval=0.1)

        def all_plays():
            r = R.plays(s, st.admin, session=sid)
            return r if len(r) == N * len(items) else None
        got = R.wait_for(all_plays, end - time.time() + 30, lambda: "every play reported\n" + fleet.logs(),
                         interval=0.2)
        for r in fleet.rxs:
            r.stop()

        media_onset = {h: R.media_onsets(fleet.rxs[0].media(h)) for h in hashes}
        errs = {it["bulletin"]: [] for it in items}
        for i, r in enumerate(fleet.rxs):
            pcm, times = r.pcm(), r.times()
            mine = sorted([x for x in got if x["cluster"] == r.cid], key=lambda x: x["start"])
            check(len(mine) == len(items), (r.cid, mine))
            for (sec, freq), it, h, play in zip(TONES, items, hashes, mine):
                want = start + it["offset_s"]
                heard = R.item_heard(r, pcm, times, want, media_onset[h])
                check(heard, "%s: bulletin %d not heard at its time; sink jumps %s" %
                      (r.cid, it["bulletin"], R.jumps(times)))
                first, f, length = heard
                check(abs(f - freq) <= 10, "%s: bulletin %d heard at %.0f Hz, not %d" % (r.cid, it["bulletin"], f, freq))
                check(abs(length - sec) < 0.06, "%s: bulletin %d lasted %.3f s, not %.3f" %
                      (r.cid, it["bulletin"], length, sec))
                err = first - want
                errs[it["bulletin"]].append(err)
                check(abs(err) < 0.020, "%s (skew %d ms): bulletin %d began %.1f ms off its time" %
                      (r.cid, r.skew, it["bulletin"], err * 1000))
                check(play["bulletin"] == it["bulletin"] and play["hash"] == h and play["source"] == "cache", play)
                check(abs(play["played_s"] - it["duration_s"]) < 0.06, (play, it))
                pstart = R.parse_time(play["start"])
                check(abs(pstart - first) < 0.020, "%s: play start %.3f, the WAV %.3f" % (r.cid, pstart, first))
                pend = R.parse_time(play["end"])
                check(abs(pend - (first + length)) < 0.080, "%s: play end %.3f, the WAV %.3f" %
                      (r.cid, pend, first + length))
                check(play["underruns"] == 0, (play, R.jumps(times)))
        every = [e for v in errs.values() for e in v]
        for b, v in errs.items():
            print("bulletin %d: first samples vs schedule %+.2f .. %+.2f ms, spread %.2f ms over %d receivers" %
                  (b, min(v) * 1000, max(v) * 1000, (max(v) - min(v)) * 1000, len(v)))
        print("all items: min %+.2f ms, max %+.2f ms, spread %.2f ms (%d items x %d receivers, skews %s ms)" %
              (min(every) * 1000, max(every) * 1000, (max(every) - min(every)) * 1000, len(items), N,
               sorted(SKEWS.values())))
        s.stop()
    print("ok")


if __name__ == "__main__":
    main()
