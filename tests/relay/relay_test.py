"""Relays of upstream streams end to end (issue 18, point 2): a real icecast2 fed by ffmpeg with an
MP3 stream and an AAC (ADTS) stream, two communes whose 1-minute sessions relay one each (POST
.../sessions {"relay": URL}), two receivers per commune (a timestamping raw client and curl).
20 s into the sessions both sources are killed; 4 s later they come back.

A receiver that stores (loacast-receiver, wav: sink) of the MP3 commune plays the relay item of
its signed schedule from the live stream: its WAV holds the markers, it never fetched media, and
its play report is a relay's (bulletin 0, no hash, source live) and covers the session.

Checked per commune: each capture is one logical Ogg Opus stream (one serial, sequence numbers
0.., granules in steps of whole 20 ms packets, EOS) that opusinfo, ffprobe and ffmpeg -v error
accept; decoded, it is the upstream's tone with its markers before and after the outage, and
exactly one stretch of silence, where the outage was: it begins when the last audio before the
kill is played out and lasts the outage plus at most the reconnection's backoff and the relay's
priming; the delivery rows count the relay's 60 s as audio.

Latency: the source is fed by this test in real time, and every 4 s carries a 0.3 s marker
(1000, 1400 or 1800 Hz in turn, so that a marker is never mistaken for the one before) whose
wall time of injection is noted. In a capture the marker is found by its frequency; "arrival" is
when the Ogg page holding its first sample reached the receiver, "play" is when a receiver
playing on the engine's clock plays it (the session's start + its position in the programme).
Both are printed, with the gap's figures. Exits 77 (skipped) without icecast2, ffmpeg or curl.
"""
import array
import datetime
import math
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "stream"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "receiver"))
import rkit  # noqa: E402
import streamkit as K  # noqa: E402
import icecastkit  # noqa: E402  (tests/server, on sys.path through streamkit)
from streamkit import check, wait_for, sleep_until  # noqa: E402

RATE = 44100
MARKERS = (1000, 1400, 1800)
MARK_EVERY = 4.0
MARK_LEN = 0.3
KILL_AT = 20.0      # s into the session
OUTAGE = 4.0
SESSION_S = 60.0
PRIME_S = K.SEND_S + 1.0    # [relay] buffer_ms's default over send_ms (stream_relay.h)


class Source(threading.Thread):
    """ffmpeg encoding what this thread writes to its stdin, in real time, to an icecast mount:
    a 400 Hz tone with a marker every MARK_EVERY s; marks holds (wall time, Hz, key) of each
    marker's first sample as it was written."""

    def __init__(self, port, mount, codec, first_marker, marks=None):
        super().__init__(daemon=True)
        enc = {"mp3": ["-c:a", "libmp3lame", "-b:a", "128k", "-content_type", "audio/mpeg", "-f", "mp3"],
               "aac": ["-c:a", "aac", "-b:a", "96k", "-content_type", "audio/aac", "-f", "adts"]}[codec]
        self.proc = subprocess.Popen(["ffmpeg", "-v", "error", "-f", "s16le", "-ar", str(RATE), "-ac", "2",
                                      "-i", "-"] + enc +
                                     ["icecast://source:relay-source@127.0.0.1:%d%s" % (port, mount)],
                                     stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.marks = marks if marks is not None else []  # shared by a source and its return
        self.k = first_marker
        self.stop_event = threading.Event()

    def run(self):
        # one second of each frequency, stereo, precomputed: whole periods, so it loops without a
        # click; 20 ms chunks never straddle a second, a marker (at whole seconds, 0.3 s long) is
        # whole chunks
        chunk = RATE // 50
        tables = {}
        for f in (400,) + MARKERS:
            a = array.array("h")
            for i in range(RATE):
                v = int(8000 * math.sin(2 * math.pi * f * i / RATE))
                a.append(v)
                a.append(v)
            tables[f] = a.tobytes()
        t0 = time.time()
        n = 0
        next_mark = 1.0
        try:
            while not self.stop_event.is_set():
                due = t0 + n / RATE
                d = due - time.time()
                if d > 0:
                    time.sleep(d)  # real-time pacing of the source, not a wait for a condition
                t = n / RATE
                f = 400
                if t >= next_mark + MARK_LEN - 1e-9:
                    next_mark += MARK_EVERY
                    self.k += 1
                if next_mark - 1e-9 <= t < next_mark + MARK_LEN - 1e-9:
                    f = MARKERS[self.k % len(MARKERS)]
                    if not self.marks or self.marks[-1][2] != (id(self), next_mark):
                        self.marks.append((t0 + next_mark, f, (id(self), next_mark)))
                at = (n % RATE) * 4
                self.proc.stdin.write(tables[f][at:at + chunk * 4])
                self.proc.stdin.flush()
                n += chunk
        except (BrokenPipeError, ValueError, OSError):
            pass

    def kill(self):
        self.stop_event.set()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.join(5)


def Icecast():
    """Debian's icecast2 on a free loopback port, default limits (burst on connect 64 KB)."""
    return icecastkit.Icecast2("relay-icecast", "<source-password>relay-source</source-password>"
                               "<admin-user>admin</admin-user><admin-password>relay-admin</admin-password>")


class Curl:
    def __init__(self, port, path, token, out):
        self.out = out
        self.proc = subprocess.Popen(["curl", "-sS", "-N", "-o", out, "-H", "Authorization: Bearer " + token,
                                      "http://127.0.0.1:%d%s" % (port, path)], stderr=subprocess.PIPE)


def markers_in(pcm):
    """[(Hz, position s)] of the markers in decoded audio (20 ms resolution; a marker's estimate
    by zero crossings may be off by a step of 50 Hz after two lossy codecs)."""
    out = []
    for f, t0, t1 in K.tones(pcm):
        m = min(MARKERS, key=lambda x: abs(x - f))
        if abs(m - f) <= 100 and t1 - t0 > 0.15:
            out.append((m, t0))
    return out


def silences(pcm):
    return [(t0, t1) for f, t0, t1 in K.tones(pcm) if f == 0]


def injected(marks, f, before):
    """The wall time of the last marker of frequency f injected before `before`."""
    c = [w for w, hz, _ in marks if hz == f and w < before]
    return c[-1] if c else None


def main():
    for tool in ("icecast2", "ffmpeg", "curl", "opusinfo"):
        if shutil.which(tool) is None:
            print("%s missing: skipped" % tool)
            sys.exit(77)
    ic = Icecast()
    sources = []
    srv = None
    try:
        mounts = {"mp3": "/tone.mp3", "aac": "/tone.aac"}
        for i, (codec, mount) in enumerate(mounts.items()):
            sources.append(Source(ic.port, mount, codec, i))
        for src in sources:
            src.start()
        for mount in mounts.values():
            wait_for(lambda: ic.mounted(mount), 20, "icecast mount %s" % mount, interval=0.1)
        srv = K.Server(K.config())
        with srv as s:
            s.cleanup = lambda: None  # the tree is removed below, after a failure's log was kept
            s.start()
            st = K.Setup(s, 3, [])
            # the second commune (the AAC relay) with its two clusters
            r = s.post("/api/v1/communes", {"id": "quang-an", "name": "Quảng An", "population": 5000}, st.admin)
            check(r.status == 201, r)
            r = s.request("PUT", "/api/v1/communes/quang-an/slots", [], st.admin)
            check(r.status == 200, r)
            tokens = {}
            for cid, commune in (("k1", K.COMMUNE), ("k2", K.COMMUNE), ("a1", "quang-an"), ("a2", "quang-an")):
                if commune == K.COMMUNE:
                    tokens[cid] = dict(st.clusters)[cid]
                    continue
                r = s.post("/api/v1/clusters", {"id": cid, "commune": commune, "name": cid, "population": 50},
                           st.admin)
                check(r.status == 201, r)
                tokens[cid] = r.json()["token"]
            start = int(time.time()) + 1 + 8
            iso = datetime.datetime.fromtimestamp(start, datetime.timezone.utc).isoformat()
            sids = {}
            for commune, codec in ((K.COMMUNE, "mp3"), ("quang-an", "aac")):
                url = "http://127.0.0.1:%d%s" % (ic.port, mounts[codec])
                r = s.post("/api/v1/communes/%s/sessions" % commune, {"start": iso, "minutes": 1, "relay": url},
                           st.admin)
                check(r.status == 201, r)
                sids[codec] = r.json()["id"]
            # a bad relay URL is refused and changes nothing
            before = s.get("/api/v1/communes/quang-an/programme", st.admin).json()["sessions"]
            r = s.post("/api/v1/communes/quang-an/sessions",
                       {"start": iso, "minutes": 1, "relay": "file:///etc/passwd"}, st.admin)
            check(r.status == 422, r)
            check(s.get("/api/v1/communes/quang-an/programme", st.admin).json()["sessions"] == before,
                  "a refused relay changed the sessions")
            fleet = rkit.Fleet()
            rx = fleet.add(rkit.Rx(s, s.tmp, "k3", dict(st.clusters)["k3"], rkit.station_key(s)))
            rx.start()
            K.wait_held(s, 2)
            # its signed schedule has the relay item (the feed's); the receiver kept it
            wait_for(lambda: any("relay" in it for se in (rx.kept() or {}).get("sessions", []) for it in se["items"]),
                     20, lambda: "the receiver's schedule with the relay: %r" % rx.kept())
            rcs, curls = {}, {}
            for cid in ("k1", "a1"):
                rcs[cid] = K.Receiver(s.port, "/stream/%s.opus" % cid, tokens[cid])
                rcs[cid].start()
            for cid in ("k2", "a2"):
                curls[cid] = Curl(s.port, "/stream/%s.opus" % cid, tokens[cid], os.path.join(s.tmp, cid + ".opus"))

            sleep_until(start + KILL_AT, "the upstreams die 20 s into the sessions")
            killed = time.time()
            for src in sources:
                src.kill()
            marks = {codec: src.marks for codec, src in zip(mounts, sources)}
            sleep_until(killed + OUTAGE, "and come back after the outage")
            back = time.time()
            sources = [Source(ic.port, mount, codec, i + 1, marks[codec])
                       for i, (codec, mount) in enumerate(mounts.items())]
            for src in sources:
                src.start()
            for rc in rcs.values():
                rc.join(start + SESSION_S + 30 - time.time())
                check(not rc.is_alive() and rc.error is None and rc.status == 200, (rc.error, rc.raw[:200]))
            for c in curls.values():
                c.proc.wait(max(1, start + SESSION_S + 30 - time.time()))
                check(c.proc.returncode == 0, c.proc.stderr.read())
            # its play: a relay's (bulletin 0, no hash, live), about the whole session
            rplays = wait_for(lambda: rkit.plays(s, st.admin, session=sids["mp3"]) or None, 20,
                              lambda: "the receiver's relay play:\n" + rx.log())
            check(len(rplays) == 1 and rplays[0]["bulletin"] == 0 and rplays[0]["hash"] == "" and
                  rplays[0]["source"] == "live" and rplays[0]["played_s"] > SESSION_S - 8, rplays)
            rx.stop()
            fleet.rxs.remove(rx)

            report = []
            for commune, codec, rcid, cid in ((K.COMMUNE, "mp3", "k1", "k2"), ("quang-an", "aac", "a1", "a2")):
                rc = rcs[rcid]
                ps = K.check_ogg(rc.body)
                with open(curls[cid].out, "rb") as f:
                    K.check_ogg(f.read())
                # continuous granules: whole packets, from the programme's start to its end
                preskip = int.from_bytes(rc.body[ps[0][0] + 38:ps[0][0] + 40], "little")
                g = [p[2] for p in ps[2:]]
                check(all((b - a) % 960 == 0 and b > a for a, b in zip(g, g[1:])), "granules not in whole packets")
                check(abs((g[-1] - preskip) / 48000 - SESSION_S) < 0.05, "stream of %.2f s" % ((g[-1] - preskip) / 48000))
                path = rc.save(os.path.join(s.tmp, rcid + ".opus"))
                for p in (path, curls[cid].out):
                    K.tools_accept(p)
                pcm = K.decode(path)
                # latency of each marker: arrival (its page reached the receiver), play (engine's clock)
                lat_arr, lat_play = [], []
                found = markers_in(pcm)
                for f, pos in found:
                    gpos = preskip + int(pos * 48000)
                    page = next(p for p in ps[2:] if p[2] >= gpos)
                    arrival = rc.arrival(page[0])
                    play = start + pos
                    w = injected(marks[codec], f, arrival)
                    check(w is not None, "marker %d Hz at %.2f s: never injected" % (f, pos))
                    lat_arr.append(arrival - w)
                    lat_play.append(play - w)
                before = [x for x in found if x[1] < KILL_AT]
                after = [x for x in found if x[1] > KILL_AT + OUTAGE]
                check(len(before) >= 3 and len(after) >= 3, "markers before/after the gap: %r in %r" %
                      (found, [x for x in K.tones(pcm) if x[0] != 400]))
                check(max(lat_play) < 8 and min(lat_arr) > 0, "latencies %r / %r" % (lat_arr, lat_play))
                # the silence: one stretch, where the outage was
                gaps = [(a, b) for a, b in silences(pcm) if b - a > 0.1 and b < SESSION_S - 0.5]
                check(len(gaps) == 1, "%s: silences %r" % (codec, gaps))
                a, b = gaps[0]
                lat_before = sorted(lat_play[:len(before)])[len(before) // 2]
                gap_start_wall = start + a
                check(abs(gap_start_wall - (killed + lat_before)) < 1.5,
                      "%s: silence from %.2f s after the kill; play latency %.2f" % (codec, gap_start_wall - killed, lat_before))
                check(OUTAGE - 1.5 < b - a < OUTAGE + 4.0 + PRIME_S + 1.5, "%s: gap of %.2f s" % (codec, b - a))
                rows = K.wait_closed_rows(s, (rcid, cid))
                for c in (rcid, cid):
                    check(abs(rows[c]["audio_s"] - SESSION_S) < 0.1 and abs(rows[c]["programme_s"] - SESSION_S) < 0.1
                          and rows[c]["reached"] == 1, rows[c])
                report.append("%s: latency upstream→receiver arrival %.2f..%.2f s (median %.2f), play %.2f..%.2f s; "
                              "outage %.1f s → silence %.2f s (from %.2f s after the kill to %.2f s after the return)"
                              % (codec, min(lat_arr), max(lat_arr), sorted(lat_arr)[len(lat_arr) // 2],
                                 min(lat_play), max(lat_play), OUTAGE, b - a, gap_start_wall - killed,
                                 start + b - back))
            # the receiver that stores: the relay item kept, played live, nothing fetched
            media_dir = os.path.join(rx.cache, "media")
            check(not os.path.isdir(media_dir) or not os.listdir(media_dir), "the receiver fetched media")
            pcm, times = rx.pcm(), rx.times()
            heard = markers_in(pcm)
            check(len([m for m in heard if m[1] > 0]) >= 8, "receiver: markers %r" % heard)
            lat_rx = []
            for f, pos in heard:
                when = rkit.real_time(times, int(pos * 48000))
                w = injected(marks["mp3"], f, when)
                if w is not None:
                    lat_rx.append(when - w)
            check(lat_rx and max(lat_rx) < 10, "receiver latencies %r" % lat_rx)
            report.append("loacast-receiver (mp3): upstream→loudspeaker %.2f..%.2f s (median %.2f), %d markers heard"
                          % (min(lat_rx), max(lat_rx), sorted(lat_rx)[len(lat_rx) // 2], len(heard)))
            with open(s.err_path, "rb") as f:
                log = f.read().decode("utf-8", "replace")
            if os.environ.get("RELAY_TEST_LOG"):
                with open(os.environ["RELAY_TEST_LOG"], "w") as f:
                    f.write(log)
            for codec in mounts:
                check("upstream lost" in log and "connecting (attempt 2)" in log, log[-3000:])
            s.stop()
            for line in report:
                print(line)
    except BaseException:
        if os.environ.get("RELAY_TEST_LOG") and srv is not None and os.path.exists(srv.err_path):
            shutil.copy(srv.err_path, os.environ["RELAY_TEST_LOG"])
        raise
    finally:
        for src in sources:
            src.kill()
        ic.stop()
        if srv is not None:
            if srv.proc is not None:
                srv.proc.kill()
                srv.proc.wait()
            shutil.rmtree(srv.tmp, ignore_errors=True)
    print("ok")


if __name__ == "__main__":
    main()
