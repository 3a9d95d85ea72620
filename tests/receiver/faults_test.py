"""loacast-receivers on a weak link (issue 17): a fault-injecting TCP proxy (tests/faults/
faultproxy.py) between each receiver and the real server.

One session of four 5-s tone bulletins (400, 600, 800, 1000 Hz; 64 kbit/s, some 40 kB each),
made 35 s ahead; four receivers, each behind a proxy of its own:
(a) ra: throttled to 48 kB/s (3G) from the start: the prefetch completes before the session
    (status fetched_percent 100) and every item plays from the cache within 20 ms of its time.
(b) rb: throttled to 8 kB/s; once it holds two items the network is cut (open connections
    aborted, new ones refused). It comes back at play time: the proxy accepts again 2.5 s before
    the third item (holding the data: no byte moves), and moves data again 0.3 s before it,
    unthrottled. Items 1-2 play from the cache within 20 ms; item 3, not held when its time
    came, plays from the live stream, and its play report (source "live") says what the WAV
    shows: its start and played_s within 0.1 s; item 4 plays from wherever it is by then, and
    its report says which, matching the WAV.
(c) rc: as rb, but the network stays down until the session is over: items 1-2 play from the
    cache, items 3-4 are not played (silence; no report); the journal reports 1-2 afterwards.
(d) rd: the link stalls (connections open, nothing moves) from 1 s before the session for
    25 s, through it: playback from the cache is not disturbed (every item within 20 ms, no
    underrun), and the plays are reported once the link moves again.
"""
import threading
import time

import rkit as R
from rkit import K, check

import os  # noqa: E402
import sys  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "faults"))
from faultproxy import FaultProxy  # noqa: E402

TONES = [(5.0, 400), (5.0, 600), (5.0, 800), (5.0, 1000)]
AHEAD = 35


def check_cached(r, pcm, times, it, want, onset_s, sec, freq, play):
    heard = R.item_heard(r, pcm, times, want, onset_s)
    check(heard, "%s: bulletin %d not heard at %.3f: %s" % (r.cid, it["bulletin"], want, R.segments(pcm, times)))
    first, f, length = heard
    check(abs(first - want) < 0.020 and abs(f - freq) <= 10 and abs(length - sec) < 0.06,
          "%s: bulletin %d: %.1f ms off, %.0f Hz, %.3f s" % (r.cid, it["bulletin"], (first - want) * 1000, f, length))
    check(play["source"] == "cache" and abs(R.parse_time(play["start"]) - first) < 0.020 and
          abs(play["played_s"] - sec) < 0.06 and play["underruns"] == 0, (r.cid, play, first))
    return first - want


def check_live(r, pcm, times, it, freq, play):
    """A live play against the WAV: the tone of freq within the item's interval."""
    t0 = R.parse_time(play["start"])
    segs = [x for x in R.segments(pcm, times) if abs(x[0] - freq) <= 50 and
            x[1] > t0 - 1.0 and x[1] < t0 + it["duration_s"]]
    check(len(segs) == 1, "%s: live bulletin %d (%d Hz): the WAV %s, play %r" %
          (r.cid, it["bulletin"], freq, R.segments(pcm, times), play))
    _, start, length = segs[0]
    check(abs(t0 - start) < 0.1 and abs(play["played_s"] - length) < 0.1,
          "%s: live play %r, the WAV: %.3f s of %d Hz from %.3f" % (r.cid, play, length, freq, start))
    return start, length


def main():
    with K.Server(K.config("[audio]\nbitrate_kbps = 64\n")) as s, R.Fleet() as fleet, \
            FaultProxy(s.port) as pa, FaultProxy(s.port) as pb, FaultProxy(s.port) as pc, FaultProxy(s.port) as pd:
        s.start()
        st = K.Setup(s, 4, TONES)
        hashes = [R.media_hash(s, st, b) for b in st.bulletins]
        start, sess = st.session(AHEAD, minutes=1)
        sid = sess["id"]
        items = sess["items"]
        check([it["bulletin"] for it in items] == st.bulletins, sess)
        t_item = [start + it["offset_s"] for it in items]
        end = t_item[-1] + items[-1]["duration_s"]
        key = R.station_key(s)
        pa.throttle(48_000)
        pb.throttle(8_000)
        pc.throttle(8_000)
        ra, rb, rc, rd = [fleet.add(R.Rx(s, s.tmp, cid, tok, key, port=p.port))
                          for (cid, tok), p in zip(st.clusters, (pa, pb, pc, pd))]
        t_go = time.time()
        for r in fleet.rxs:
            r.start()
        done_a = []     # when ra held every item (watched beside the cuts below)

        def watch_a():
            while not all(ra.holds(h) for h in hashes) and time.time() < start:
                time.sleep(0.02)
            done_a.append(time.time())
        threading.Thread(target=watch_a, daemon=True).start()

        # (b), (c): the network cut once two items are held
        cut = {}
        for r, p in ((rb, pb), (rc, pc)):
            R.wait_for(lambda: r.holds(hashes[0]) and r.holds(hashes[1]), AHEAD - 10,
                       lambda: "%s holds two items\n%s" % (r.cid, r.log()), interval=0.02)
            p.refuse(True)
            p.cut_all()
            cut[r.cid] = [r.holds(h) for h in hashes]
            check(cut[r.cid] == [True, True, False, False], "%s held %r at the cut" % (r.cid, cut[r.cid]))
        # (a): the prefetch over 3G completes
        R.wait_for(lambda: all(ra.holds(h) for h in hashes), start - time.time() - 2,
                   lambda: "ra's prefetch at 48 kB/s\n" + ra.log(), interval=0.05)
        R.wait_for(lambda: done_a, 5, "the watch of ra's prefetch")
        t_a = done_a[0] - t_go
        R.wait_for(lambda: (R.cluster_status(s, st.admin, "k1").get("next_session") or {}).get("fetched_percent") == 100,
                   start - time.time(), "ra reports 100 % fetched", interval=0.2)
        R.wait_for(lambda: all(rd.holds(h) for h in hashes), start - time.time() - 2, "rd's prefetch")
        check(not any(rb.holds(h) for h in hashes[2:]) and not any(rc.holds(h) for h in hashes[2:]),
              "items fetched through a cut network")

        # (d): the link stalls through the session
        K.sleep_until(start - 1, "the stall begins 1 s before the session")
        pd.stall()
        t_stall = time.time()
        # (b): the network comes back at the third item's time
        K.sleep_until(t_item[2] - 2.5, "the network comes back (no data yet) 2.5 s before the third item")
        pb.refuse(False)
        pb.stall()
        K.sleep_until(t_item[2] - 0.3, "data moves again 0.3 s before the third item")
        pb.throttle(None)
        pb.resume()
        K.sleep_until(t_stall + 25, "the stall lasts 25 s")
        pd.resume()
        K.sleep_until(end + 1, "the session is over; rc's network still down until now")
        pc.refuse(False)

        def reported():
            p = R.plays(s, st.admin, session=sid)
            n = {r.cid: len([x for x in p if x["cluster"] == r.cid]) for r in fleet.rxs}
            # rb reports what its log says it played (3 or 4 items: the session is over by now)
            nb = rb.log(100000).count("of session %d:" % sid)
            return p if n["k1"] == 4 and n["k2"] == nb >= 3 and n["k3"] == 2 and n["k4"] == 4 else None
        got = R.wait_for(reported, 40, lambda: "plays: %r\n%s" % (R.plays(s, st.admin, session=sid), fleet.logs()),
                         interval=0.2)
        for r in fleet.rxs:
            r.stop()
        got = R.plays(s, st.admin, session=sid)

        onsets = [R.media_onsets(ra.media(h)) for h in hashes]
        for r in (ra, rd):
            pcm, times = r.pcm(), r.times()
            mine = sorted([x for x in got if x["cluster"] == r.cid], key=lambda x: x["start"])
            check([x["bulletin"] for x in mine] == st.bulletins, (r.cid, mine))
            errs = [check_cached(r, pcm, times, it, t, o, sec, f, p)
                    for it, t, o, (sec, f), p in zip(items, t_item, onsets, TONES, mine)]
            print("%s: all 4 items from the cache, %+.2f .. %+.2f ms off their times" %
                  (r.cid, min(errs) * 1000, max(errs) * 1000))
        print("(a) ra at 48 kB/s: prefetch of %d bytes done %.1f s after start" % (sum(os.path.getsize(ra.media(h)) for h in hashes), t_a))
        print("(d) rd: stalled from %.1f s before to %.1f s after the session's start, undisturbed" %
              (start - t_stall, t_stall + 25 - start))

        # (b)
        pcm, times = rb.pcm(), rb.times()
        mine = sorted([x for x in got if x["cluster"] == "k2"], key=lambda x: x["start"])
        check([x["bulletin"] for x in mine][:3] == st.bulletins[:3], mine)
        for i in (0, 1):
            check_cached(rb, pcm, times, items[i], t_item[i], onsets[i], TONES[i][0], TONES[i][1], mine[i])
        check(mine[2]["source"] == "live", mine[2])
        s3, l3 = check_live(rb, pcm, times, items[2], TONES[2][1], mine[2])
        check(s3 >= t_item[2] - 0.05 and s3 + l3 <= t_item[2] + items[2]["duration_s"] + 0.1,
              "rb: live item 3 outside its time: %.3f + %.3f" % (s3, l3))
        how4 = "not played"
        if len(mine) == 4:
            check(mine[3]["bulletin"] == st.bulletins[3], mine)
            if mine[3]["source"] == "cache":
                check_cached(rb, pcm, times, items[3], t_item[3], onsets[3], TONES[3][0], TONES[3][1], mine[3])
            else:
                check_live(rb, pcm, times, items[3], TONES[3][1], mine[3])
            how4 = mine[3]["source"]
        else:
            check(R.loud_between(pcm, times, t_item[3] - 0.5, end + 1) == 0, "rb: item 4 heard but not reported")
        print("(b) rb: cut holding items 1-2; back at play time: item 3 live (%.3f s of %.1f heard, from %+.3f s), "
              "item 4 %s" % (l3, items[2]["duration_s"], s3 - t_item[2], how4))

        # (c)
        pcm, times = rc.pcm(), rc.times()
        mine = sorted([x for x in got if x["cluster"] == "k3"], key=lambda x: x["start"])
        check([x["bulletin"] for x in mine] == st.bulletins[:2], mine)
        for i in (0, 1):
            check_cached(rc, pcm, times, items[i], t_item[i], onsets[i], TONES[i][0], TONES[i][1], mine[i])
        loud = R.loud_between(pcm, times, t_item[2] - 0.5, end + 1)
        check(loud == 0, "rc: %d loud samples after the second item: %s" % (loud, R.segments(pcm, times)))
        print("(c) rc: network down through the session: items 1-2 from the cache, 3-4 not played; "
              "plays reported when it came back")
        s.stop()
    print("ok")


if __name__ == "__main__":
    main()
