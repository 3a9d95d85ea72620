"""A session a few seconds ahead, pulled by real clients: 503 + Retry-After off air; 401/404;
receivers held before the start (a raw client with the bearer token, curl with ?token=, ffmpeg
decoding the URL) get audio from the session's first second; a receiver joining in the middle
plays at once (burst) and its capture is valid; one that leaves half-way; a second connection of a
cluster replaces the first. opusinfo and ffprobe accept every capture; the decoded audio is the
programme (duration within 100 ms, bulletins in order); the delivery rows match what each client
saved; /metrics; last_seen."""
import os
import subprocess
import threading
import time

import streamkit as K
from streamkit import check

TONES = [(1.5, 400), (2.5, 800), (1.0, 1200)]


def main():
    with K.Server(K.config()) as s:
        s.start()
        st = K.Setup(s, 6, TONES)
        b1, b2, b3 = st.bulletins
        path1, tok1 = st.url(0)

        # off air: 503, Retry-After ≤ 30 with jitter, the next session (the default 06:00 slot)
        retry = set()
        for _ in range(8):
            r = s.get(path1, tok1)
            check(r.status == 503 and r.json()["next_session"], r)
            check(1 <= int(r.headers["retry-after"]) <= 30, r.headers)
            retry.add(r.headers["retry-after"])
        check(len(retry) > 1, "no jitter: %s" % retry)
        check(s.get(path1, "wrong-token").status == 401, "wrong token")
        check(s.get(path1).status == 401, "no token")
        check(s.get("/stream/nope.opus", tok1).status == 404, "unknown cluster")
        check(s.get(path1 + "?burst=31", tok1).status == 400, "burst beyond 30 s")

        start, sess = st.session(4, minutes=1)
        length = sess["length_s"]
        check([i["bulletin"] for i in sess["items"]] == [b1, b2, b3], sess)
        K.wait_held(s)  # PREPARE reached the stream engine (hold window 5 s)

        # held receivers
        a = K.Receiver(s.port, path1, tok1)
        a.start()
        qpath2, _ = st.url(1, query_token=True)
        curl_out = os.path.join(s.tmp, "curl.opus")
        curl = subprocess.Popen(["curl", "-sS", "-N", "-o", curl_out, "http://127.0.0.1:%d%s" % (s.port, qpath2)])
        qpath3, _ = st.url(2, query_token=True)
        ff_out = os.path.join(s.tmp, "ffmpeg.wav")
        ff = subprocess.Popen(["ffmpeg", "-v", "error", "-y", "-i", "http://127.0.0.1:%d%s" % (s.port, qpath3),
                               "-ac", "1", "-ar", "48000", ff_out])
        path5, tok5 = st.url(4)
        half = K.Receiver(s.port, path5, tok5, stop_after=start - time.time() + length / 2 - K.LEAD_S)
        half.start()
        path6, tok6 = st.url(5)
        first6 = K.Receiver(s.port, path6, tok6)
        first6.start()

        # during the session: a replacement once the first connection has 2 pages (1 s in)
        K.wait_for(lambda: first6.audio_now() >= 2.0, start + 20 - time.time(), "2 pages at k6")
        second6 = K.Receiver(s.port, path6, tok6)
        second6.start()
        # a, curl, ffmpeg, half, second6: first6 is replaced, not counted (half leaves at 3.5 s)
        m = K.wait_for(lambda: [m for m in [K.metrics(s)] if m["loacast_receivers_connected"] == 5 and
                                m["loacast_receivers_replaced_total"] == 1], 10, "5 receivers connected")[0]
        check(m["loacast_sessions_on_air"] == 1, m)
        # a join in the middle, once the stream made its 4th page (3 s in: its 3 s burst is full,
        # b1 already out of it, b2 under way)
        K.wait_for(lambda: a.audio_now() >= 4.0 + K.LEAD_S, start + 20 - time.time(), "4 pages at k1 + lead")
        path4, tok4 = st.url(3)
        join = K.Receiver(s.port, path4, tok4)
        join.start()

        for rc in (a, half, first6, second6, join):
            rc.join(start + length + 15 - time.time())
            check(not rc.is_alive() and rc.error is None, "receiver %s: %s" % (rc.path, rc.error))
        check(curl.wait(30) == 0, "curl failed")
        check(ff.wait(30) == 0, "ffmpeg failed")

        # every capture: one logical stream, accepted by opusinfo and ffprobe
        caps = {}
        for name, rc, whole in (("a", a, True), ("half", half, False), ("first6", first6, False),
                                ("second6", second6, True), ("join", join, True)):
            check(rc.status == 200, "%s: %r" % (name, rc.raw[:200]))
            K.check_ogg(rc.body, whole=whole)
            caps[name] = rc.save(os.path.join(s.tmp, name + ".opus"))
            K.tools_accept(caps[name], cut=not whole)
        with open(curl_out, "rb") as f:
            curl_body = f.read()
        K.check_ogg(curl_body)
        K.tools_accept(curl_out)

        # the decoded audio is the programme: the bulletins in order, the right lengths
        pcm = K.decode(caps["a"])
        dur = len(pcm) / 48000
        check(abs(dur - length) < 0.1, "decoded %.3f s, programme %.3f s" % (dur, length))
        segs = [x for x in K.tones(pcm) if x[0]]
        check([f for f, _, _ in segs] == [400, 800, 1200], segs)
        for (f, t0, t1), (sec, _), item in zip(segs, TONES, sess["items"]):
            check(abs((t1 - t0) - sec) < 0.1 and abs(t0 - item["offset_s"]) < 0.1, segs)
        check(abs(len(K.decode(curl_out)) / 48000 - length) < 0.1, "curl capture length")
        ffdur = len(K.decode(ff_out)) / 48000
        check(abs(ffdur - length) < 0.1, "ffmpeg pulled %.3f s" % ffdur)
        # held: the first audio arrived the lead before the start, not earlier
        first_audio = a.arrival(K.pages(a.body)[2][0])
        check(start - K.LEAD_S - 0.1 <= first_audio <= start - K.LEAD_S + 0.5,
              "first audio at %.3f (start %d, lead %.1f s)" % (first_audio, start, K.LEAD_S))

        # the join: plays at once (≥ 2 s of audio within 0.5 s), then to the end
        jp = K.pages(join.body)
        t_first = join.arrival(jp[2][0])
        burst = [p for p in jp[2:] if join.arrival(p[0]) - join.connected_at < 0.5]
        got = (burst[-1][2] - jp[2][2]) / 48000 + 1.0 if burst else 0
        check(t_first - join.connected_at < 0.3 and got >= 2, "join: first audio after %.3f s, %.1f s burst" %
              (t_first - join.connected_at, got))
        jsegs = [x for x in K.tones(K.decode(caps["join"])) if x[0]]
        check([f for f, _, _ in jsegs][-2:] == [800, 1200], jsegs)

        # the replaced connection ended early; the half one has the first bulletin only
        check(len(first6.body) < len(second6.body), "replaced connection went on")
        hsegs = [x for x in K.tones(K.decode(caps["half"])) if x[0]]
        check(hsegs and hsegs[0][0] == 400 and 1200 not in [f for f, _, _ in hsegs], hsegs)

        # delivery rows, each final once closed (the batch after the receiver left: ≤ 1 s)
        rows = K.wait_closed_rows(s, ("k1", "k2", "k3", "k4", "k5", "k6"))
        ra, rh, rj, r6 = rows["k1"], rows["k5"], rows["k4"], rows["k6"]
        for cid in ("k1", "k2", "k3", "k4", "k5", "k6"):
            check(abs(rows[cid]["programme_s"] - length) < 0.05, rows[cid])
            check(rows[cid]["session_start"] == start and rows[cid]["commune"] == K.COMMUNE, rows[cid])
            check(rows[cid]["connected_at"] and rows[cid]["disconnected_at"], rows[cid])
        check(abs(ra["audio_s"] - dur) < 0.05 and ra["reached"] == 1, ra)
        # bytes: what the server counted delivered (completed writes) is what each client read to
        # the end (K.check_delivered says precisely why that is exact)
        check(ra["bulletins_whole"] == [b1, b2, b3], ra)
        K.check_delivered(ra, a, "k1")
        check(rows["k2"]["bytes"] == K.whole_len(curl_body) and rows["k2"]["reached"] == 1, rows["k2"])
        hdur = len(K.decode(caps["half"])) / 48000
        check(abs(rh["audio_s"] - hdur) < 0.1 and rh["reached"] == 0, (rh, hdur))
        check(0.3 * length < rh["audio_s"] < 0.75 * length, rh)
        check(rh["bulletins_whole"] == [b1], rh)
        K.check_delivered(rh, half, "k5 (left half-way)")
        jdur = len(K.decode(caps["join"])) / 48000
        check(abs(rj["audio_s"] - jdur) < 0.1 and b1 not in rj["bulletins_whole"] and b3 in rj["bulletins_whole"],
              (rj, jdur))
        check(r6["reconnections"] == 1 and r6["reached"] == 1, r6)
        # the replaced connection's last page is the empty end-of-stream page (27 bytes) that
        # ended it: no audio, not counted as delivered
        check(K.pages(first6.body)[-1][5] & 4 and K.pages(first6.body)[-1][1] == 27, "EOS page")
        check(r6["bytes"] == K.whole_len(first6.body) - 27 + K.whole_len(second6.body),
              (r6, len(first6.body), len(second6.body)))

        m = K.metrics(s)
        check(m["loacast_receivers_connected"] == 0 and m["loacast_sessions_on_air"] == 0, m)
        check(m["loacast_receivers_replaced_total"] == 1 and m["loacast_receivers_dropped_slow_total"] == 0, m)
        check(m["loacast_stream_bytes_sent_total"] >= sum(r["bytes"] for r in rows.values()), m)
        r = s.get(path1, tok1)
        check(r.status == 503, r)  # over: off air again
        c = s.get("/api/v1/clusters/k1", st.admin).json()
        check(c["last_seen"], c)
        s.stop()
    print("ok")


if __name__ == "__main__":
    main()
