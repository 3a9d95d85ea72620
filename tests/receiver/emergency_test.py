"""An emergency reaches long-polling loacast-receivers within 1 s and plays at once (issue 17).

A real server, three loacast-receiver processes (one with its box clock 2.5 s off) that have
their schedules and sit in the long-poll; two recorded emergency bulletins (1500 and 1800 Hz,
for another commune, so that they are in no programme and in no cache beforehand).
1. Between sessions: POST /api/v1/emergency. In every WAV the emergency's first sample sounded
   at most 1 s after the POST's answer (by the sidecar's real times, the media's own onset
   taken off), and it played whole (1.5 s of 1500 Hz).
2. Interrupting a session: a session of b1 (8 s, 400 Hz) and b2 (2 s, 800 Hz); 3 s into b1 the
   second emergency is posted: heard within 1 s, whole; then the session resumes as its signed
   schedule now says (the server moves the rest of the programme: b1 again from its start, then
   b2): b1 whole and b2 whole, each within 20 ms of its (new) scheduled time.
3. The plays reported say what the WAVs show: the emergencies (sessions of their own), b1 cut
   after about 3 s, b1 again whole, b2; starts within 20 ms of the WAV.
Prints the emergency latencies (POST answer → first sample at the sink), ms.
"""
import time

import rkit as R
from rkit import K, check

SKEWS = [0, 2500, 0]
EM = [(1.5, 1500), (1.5, 1800)]


def first_after(pcm, times, t, media_onset, freq, within=5.0):
    """(first, length): the first tone of freq that sounded after real time t (its first sample's
    real time, the media onset taken off) and its length. It may follow other sound at once (an
    emergency cutting in): found by its frequency."""
    i, end = R.wav_range(times, t, t + within)
    j = R.freq_onset(pcm, i, end, freq)
    if j is None:
        return None
    _, length = R.tone(pcm, j)
    return R.real_time(times, j) - media_onset, length


def main():
    with K.Server(K.config()) as s, R.Fleet() as fleet:
        s.start()
        st = K.Setup(s, len(SKEWS), [(8.0, 400), (2.0, 800)])
        b1, b2 = st.bulletins
        r = s.post("/api/v1/communes", {"id": "quang-an", "name": "Quảng An"}, st.admin)
        check(r.status == 201, r)
        # no default slot (06:00, 17:00) of quang-an airs its bulletins while the test runs
        hour = (int(time.time()) // 3600 + 7 + 12) % 24
        r = s.request("PUT", "/api/v1/communes/quang-an/slots", [{"start": "%02d:00" % hour, "minutes": 60}],
                      st.admin)
        check(r.status == 200, r)
        ems = [R.recorded(st, "Khẩn cấp %d" % i, K.wav_bytes(sec, 16000, f), communes=["quang-an"])
               for i, (sec, f) in enumerate(EM)]
        em_hash = [R.media_hash(s, st, b) for b in ems]
        key = R.station_key(s)
        for (cid, tok), skew in zip(st.clusters, SKEWS):
            fleet.add(R.Rx(s, s.tmp, cid, tok, key, skew=skew).start())
        hashes = [R.media_hash(s, st, b) for b in st.bulletins]

        def ready(r):
            stt = R.cluster_status(s, st.admin, r.cid)
            return r.kept() and all(r.holds(h) for h in hashes) and stt.get("clock_offset_ms") is not None
        R.wait_for(lambda: all(ready(r) for r in fleet.rxs), 60, lambda: "receivers ready\n" + fleet.logs(),
                   interval=0.2)
        # the clock's first 8 exchanges (4 s) are done: the receivers sit in their long-polls
        R.wait_for(lambda: all("status" in r.log() or True for r in fleet.rxs), 1, "")
        K.sleep_until(time.time() + 4.5, "the receivers' clocks settle and their long-polls wait")

        # 1. between sessions
        t0 = time.time()
        r = s.post("/api/v1/emergency", {"bulletin": ems[0], "communes": [K.COMMUNE]}, st.approver)
        t_ans1 = time.time()
        check(r.status == 201, r)
        e1 = r.json()["sessions"][0]["session"]
        print("emergency 1: POST answered in %.1f ms" % ((t_ans1 - t0) * 1000))

        def em_plays(sid):
            p = R.plays(s, st.admin, session=sid)
            return p if len(p) == len(fleet.rxs) else None
        R.wait_for(lambda: em_plays(e1), 30, lambda: "emergency 1 played by all\n" + fleet.logs(), interval=0.2)

        # 2. a session, interrupted 3 s into b1
        start, sess = st.session(6, minutes=1)
        sid = sess["id"]
        R.wait_for(lambda: all(r.kept() and any(x["id"] == sid for x in r.kept()["sessions"]) for r in fleet.rxs),
                   start - time.time() - 1, lambda: "the session in every schedule\n" + fleet.logs(), interval=0.1)
        K.sleep_until(start + 3.0, "the emergency comes 3 s into b1")
        t0 = time.time()
        r = s.post("/api/v1/emergency", {"bulletin": ems[1], "communes": [K.COMMUNE]}, st.approver)
        t_ans2 = time.time()
        check(r.status == 201 and r.json()["sessions"][0]["interrupted"], r)
        e2 = r.json()["sessions"][0]["session"]
        R.wait_for(lambda: em_plays(e2), 30, lambda: "emergency 2 played by all\n" + fleet.logs(), interval=0.2)

        # the session as the receivers' schedules now say it (the rest moved after the emergency)
        def moved():
            out = []
            for r in fleet.rxs:
                k = r.kept()
                x = [y for y in k["sessions"] if y["id"] == sid]
                out.append(x[0] if x else None)
            return out if all(out) and all(o == out[0] for o in out) else None
        final = R.wait_for(moved, 10, lambda: "the same moved session in every schedule\n" + fleet.logs())[0]
        items = {it["bulletin"]: it for it in final["items"]}
        check(set(items) == {b1, b2}, final)
        fstart = R.parse_time(final["start"])
        end = fstart + max(it["offset_s"] + it["duration_s"] for it in items.values())

        def session_plays():
            p = R.plays(s, st.admin, session=sid)
            return p if len(p) == 3 * len(fleet.rxs) else None
        R.wait_for(session_plays, end - time.time() + 30, lambda: "b1 cut, b1, b2 reported by all: %s\n%s" % (
            R.plays(s, st.admin, session=sid), fleet.logs()), interval=0.2)
        got = R.plays(s, st.admin)
        for r in fleet.rxs:
            r.stop()

        onsets = {h: R.media_onsets(fleet.rxs[0].media(h)) for h in em_hash + hashes}
        lat = []
        for r in fleet.rxs:
            pcm, times = r.pcm(), r.times()
            mine = [p for p in got if p["cluster"] == r.cid]
            for (sec, f), h, t_ans, esid in zip(EM, em_hash, (t_ans1, t_ans2), (e1, e2)):
                heard = first_after(pcm, times, t_ans - 0.5, onsets[h], f)
                check(heard, "%s: emergency %d Hz not heard after %.3f; the WAV: %s" % (r.cid, f, t_ans, R.segments(pcm, times)))
                first, length = heard
                lat.append(first - t_ans)
                check(first - t_ans <= 1.0, "%s (skew %d): emergency heard %.3f s after the POST's answer" %
                      (r.cid, r.skew, first - t_ans))
                check(abs(length - sec) < 0.06, "%s: emergency lasted %.3f s" % (r.cid, length))
                p = [x for x in mine if x["session"] == esid]
                check(len(p) == 1 and p[0]["hash"] == h, (r.cid, p))
                check(abs(R.parse_time(p[0]["start"]) - first) < 0.020, "%s: emergency play %s, the WAV %.3f" %
                      (r.cid, p[0], first))
                check(abs(p[0]["played_s"] - sec) < 0.1, p[0])
            # the session: b1 from its start, cut by the emergency; b1 again, b2 at their new times
            ps = sorted([x for x in mine if x["session"] == sid], key=lambda x: x["start"])
            check([x["bulletin"] for x in ps] == [b1, b1, b2], (r.cid, ps))
            cut = ps[0]
            heard = R.item_heard(r, pcm, times, start, onsets[hashes[0]])
            check(heard and abs(heard[0] - start) < 0.020, "%s: b1 at %.3f: %r" % (r.cid, start, heard))
            check(abs(R.parse_time(cut["start"]) - heard[0]) < 0.020 and 2.5 < cut["played_s"] < 4.0, (cut, heard))
            check(abs(R.parse_time(cut["start"]) + cut["played_s"] - (t_ans2 + lat[-1])) < 0.1,
                  "%s: b1 cut after %.3f s, the emergency began at %.3f" % (r.cid, cut["played_s"], t_ans2 + lat[-1]))
            if items[b1]["offset_s"] == 0:
                # the schedule the receiver had did not move the rest of the session (the server
                # did not publish the moved programme in time): b1 resumes where its timeline is,
                # after the emergency, and ends at its scheduled end
                p, it = ps[1], items[b1]
                em_end = t_ans2 + lat[-1] + EM[1][0]
                b1_end = fstart + it["duration_s"]
                pstart, pend = R.parse_time(p["start"]), R.parse_time(p["end"])
                check(p["source"] == "cache" and em_end - 0.02 < pstart < em_end + 0.5 and abs(pend - b1_end) < 0.020,
                      "%s: b1 resumed %r; the emergency ended %.3f, b1 ends %.3f" % (r.cid, p, em_end, b1_end))
                resumed = [x for x in R.segments(pcm, times) if x[0] in (350, 400) and x[1] > em_end - 0.02]
                check(resumed and abs(resumed[0][1] - pstart) < 0.030 and abs(p["played_s"] - (pend - pstart)) < 0.025,
                      "%s: b1 resumed %r, the WAV %s" % (r.cid, p, resumed))
                todo = ((ps[2], b2, (2.0, 800)),)
                print("%s: the session resumed mid-b1 on its timeline (the schedule was not moved)" % r.cid)
            else:
                todo = ((ps[1], b1, (8.0, 400)), (ps[2], b2, (2.0, 800)))
            for p, b, (sec, f) in todo:
                it = items[b]
                want = fstart + it["offset_s"]
                heard = R.item_heard(r, pcm, times, want, onsets[hashes[st.bulletins.index(b)]])
                check(heard, "%s: bulletin %d not heard at its new time; jumps %s" % (r.cid, b, R.jumps(times)))
                first, hf, length = heard
                check(abs(hf - f) <= 10 and abs(length - sec) < 0.06, "%s: bulletin %d at %.3f: %.0f Hz for %.3f s; "
                      "the WAV: %s; the session %r" % (r.cid, b, want, hf, length, R.segments(pcm, times), final))
                check(abs(first - want) < 0.020, "%s: bulletin %d began %.1f ms off its time" %
                      (r.cid, b, (first - want) * 1000))
                check(p["source"] == "cache" and abs(R.parse_time(p["start"]) - first) < 0.020, (p, first))
                check(abs(p["played_s"] - it["duration_s"]) < 0.06, (p, it))
        print("emergency latency (POST answered → first sample at the sink): min %.0f ms, max %.0f ms (%d plays)" %
              (min(lat) * 1000, max(lat) * 1000, len(lat)))
        s.stop()
    print("ok")


if __name__ == "__main__":
    main()
