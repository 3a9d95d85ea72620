"""kill -9 of a loacast-receiver mid-session; restarted, it resumes at the right offset (issue 17).

A real server; two loacast-receivers (one with its box clock 2.5 s ahead) behind an HTTP proxy
that refuses their play reports (503) until the restart, so that plays wait in the journal. A
session of b0 (1.5 s, 600 Hz), b1 (a train of tone pulses, each of its own frequency: where in b1
a stretch of sound comes from is told by its pulse) and b2 (1 s, 1200 Hz). 2.3 s into b1 both
receivers are killed with SIGKILL and started again at once. Checked:
- before the kill, b0's play is in the journal (cache_dir/plays.jsonl), not acked;
- after the restart the WAV goes on (the sink appends): the first pulse that begins after the
  restart sounds within 20 ms of its place on the session's timeline (b1's scheduled start + the
  pulse's onset in the media), by the sidecar's real times; b2 within 20 ms of its time;
- the journal is not lost: b0's play (the very id journaled before the kill) is reported after
  the restart, with b1's resumed part (source cache, ending within 20 ms of b1's end) and b2;
- what sounded of b1 before the kill is reported too: the player's checkpoint
  (cache_dir/playing.json, every 2 s) is journaled at the restart as b1's first play, beginning at
  b1's time (within 20 ms) and 2.0 s long (the checkpoint 2 s into b1; the kill came at 2.3 s).
"""
import json
import os
import time

import rkit as R
from rkit import K, check

PULSES = [(0.4, 400 + 100 * k) for k in range(12)]   # 12 x (0.4 s + 0.1 s) = 6 s
SKEWS = [2500, 0]
KILL_AT = 2.3   # s into b1


def pulse_onsets(pcm, quiet=960):
    """[(index, freq)] of the pulses of pcm: onsets after at least `quiet` silent samples."""
    out, i = [], 0
    while True:
        j = R.onset(pcm, i)
        if j is None:
            return out
        if j - i >= quiet or not out and j == i == 0 or (not out and i == 0):
            f, length = R.tone(pcm, j)
            out.append((j, f))
            i = j + int(length * R.RATE)
        else:
            f, length = R.tone(pcm, j)
            i = j + int(length * R.RATE)


def main():
    state = {"refuse_plays": True}

    def hook(method, path, headers, body):
        if state["refuse_plays"] and method == "POST" and path.endswith("/plays"):
            return (503, [("Content-Type", "application/json"), ("Retry-After", "1")],
                    b'{"error":"unavailable","message":"test: plays refused"}')
        return None

    with K.Server(K.config()) as s, R.HttpProxy(s.port, hook) as proxy, R.Fleet() as fleet:
        s.start()
        st = K.Setup(s, len(SKEWS), [(1.5, 600)])
        b0, = st.bulletins
        b1 = R.recorded(st, "Xung", R.pulses_wav(PULSES))
        b2 = st.recorded("Cuối", 1.0, 1200)
        bs = [b0, b1, b2]
        hashes = [R.media_hash(s, st, b) for b in bs]
        key = R.station_key(s)
        for (cid, tok), skew in zip(st.clusters, SKEWS):
            fleet.add(R.Rx(s, s.tmp, cid, tok, key, port=proxy.port, skew=skew).start())
        R.wait_for(lambda: all(r.kept() and all(r.holds(h) for h in hashes) for r in fleet.rxs), 60,
                   lambda: "schedules and media\n" + fleet.logs(), interval=0.2)
        start, sess = st.session(5, minutes=1)
        sid = sess["id"]
        items = {it["bulletin"]: it for it in sess["items"]}
        check(sorted(items) == sorted(bs), sess)
        t_b1 = start + items[b1]["offset_s"]
        K.sleep_until(t_b1 + KILL_AT, "the receivers are killed 2.3 s into b1")
        journaled = {}
        for r in fleet.rxs:
            r.kill9()
            with open(os.path.join(r.cache, "plays.jsonl")) as f:
                lines = [json.loads(x) for x in f if x.strip()]
            check([p["bulletin"] for p in lines] == [b0], "%s: the journal before the restart: %r" % (r.cid, lines))
            journaled[r.cid] = lines[0]["id"]
        t_restart = time.time()
        for r in fleet.rxs:
            r.start()
        state["refuse_plays"] = False
        check(R.plays(s, st.admin, session=sid) == [], "plays were acked while refused")
        end = start + max(it["offset_s"] + it["duration_s"] for it in items.values())

        def all_plays():
            p = R.plays(s, st.admin, session=sid)
            return p if len(p) == 4 * len(fleet.rxs) else None
        got = R.wait_for(all_plays, end - time.time() + 30, lambda: "plays after the restart: %r\n%s" % (
            R.plays(s, st.admin, session=sid), fleet.logs()), interval=0.2)
        for r in fleet.rxs:
            r.stop()

        media = {h: K.decode(fleet.rxs[0].media(h)) for h in hashes}
        pulses = pulse_onsets(media[hashes[1]])
        check(len(pulses) == len(PULSES), "pulses in b1's media: %r" % pulses)
        check(all(abs(f - pf) <= 15 for (_, f), (_, pf) in zip(pulses, PULSES)), pulses)
        for r in fleet.rxs:
            pcm, times = r.pcm(), r.times()
            # the first pulse that begins after the restart
            a = R.wav_index(times, t_restart)
            b = R.wav_index(times, t_b1 + items[b1]["duration_s"])
            after = [(i, f) for i, f in pulse_onsets(pcm[a:b]) if i > 0]
            check(after, "%s: no pulse after the restart: %s" % (r.cid, R.segments(pcm, times, t_restart - 1)))

            def place(onset):
                i, f = onset
                k = min(range(len(PULSES)), key=lambda k: abs(PULSES[k][1] - f))
                return i, f, k, R.real_time(times, a + i), t_b1 + pulses[k][0] / R.RATE
            # a receiver that resumes in the middle of a pulse starts it after silence: that is not
            # the pulse's onset (its place is earlier, before the resumption); the next one is
            whole = [place(o) for o in after if place(o)[4] > place(o)[3] - 0.1]
            check(whole, "%s: no whole pulse after the restart: %r" % (r.cid, [place(o) for o in after]))
            i, f, k, heard, want = whole[0]
            check(abs(PULSES[k][1] - f) <= 15, "%s: a pulse of %.0f Hz" % (r.cid, f))
            check(abs(heard - want) < 0.020, "%s (skew %d): pulse %d (%d Hz) sounded %.1f ms off its place on the "
                  "timeline after the restart" % (r.cid, r.skew, k, PULSES[k][1], (heard - want) * 1000))
            check(heard - t_restart < 2.0, "%s: resumed %.3f s after the restart" % (r.cid, heard - t_restart))
            mine = sorted([p for p in got if p["cluster"] == r.cid], key=lambda p: p["start"])
            check([p["bulletin"] for p in mine] == [b0, b1, b1, b2], mine)
            check(mine[0]["id"] == journaled[r.cid], "%s: b0's play %r, journaled %s" % (r.cid, mine[0], journaled[r.cid]))
            cut = mine[1]   # b1 before the kill, from the checkpoint
            check(cut["source"] == "cache" and abs(R.parse_time(cut["start"]) - t_b1) < 0.020 and
                  abs(cut["played_s"] - 2.0) < 0.1 and R.parse_time(cut["end"]) < t_restart, cut)
            mine = [mine[0]] + mine[2:]
            p1 = mine[1]
            b1_end = t_b1 + items[b1]["duration_s"]
            check(p1["source"] == "cache" and R.parse_time(p1["start"]) > t_restart, p1)
            check(abs(R.parse_time(p1["end"]) - b1_end) < 0.020, "%s: b1's resumed play ends %s, b1 at %.3f" %
                  (r.cid, p1["end"], b1_end))
            check(abs(p1["played_s"] - (R.parse_time(p1["end"]) - R.parse_time(p1["start"]))) < 0.025, p1)
            want2 = start + items[b2]["offset_s"]
            heard2 = R.item_heard(r, pcm, times, want2, R.onset(media[hashes[2]]) / R.RATE)
            check(heard2 and abs(heard2[0] - want2) < 0.020 and abs(heard2[1] - 1200) <= 10,
                  "%s: b2 at %.3f: %r" % (r.cid, want2, heard2))
            print("%s (skew %+d ms): resumed %.3f s after the restart; pulse %d %+.2f ms off the timeline;"
                  " b1 before the kill reported: %.3f s from %+.1f ms" %
                  (r.cid, r.skew, heard - t_restart, k, (heard - want) * 1000, cut["played_s"],
                   (R.parse_time(cut["start"]) - t_b1) * 1000))
        s.stop()
    print("ok")


if __name__ == "__main__":
    main()
