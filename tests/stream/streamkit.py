"""Helpers of the streaming tests: a commune with clusters and recorded bulletins of distinct tones,
an ad-hoc session a few seconds ahead, raw receivers that timestamp what they read, Ogg page
parsing, decoding with ffmpeg, tone detection, and the delivery rows.

Standard library only; reuses tests/server/lcserver.py (imported, not copied).
"""
import array
import datetime
import json
import math
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "server"))
import lcserver  # noqa: E402
from lcserver import Server, check, sleep_until, wait_for, wav_bytes  # noqa: E402,F401

COMMUNE = "quang-phu"


LEAD_S = 2.0  # [stream] lead_ms's default: pages go out this long before their audio plays
SEND_S = 2.0  # [stream] send_ms's default: and in groups covering this much audio (1 s pages)


def config(extra=""):
    """Small hold window and gaps so that sessions start in seconds; 1 s pages; no hold silence
    (a held receiver's capture is then the programme alone: stream-hold and stream-players test
    the hold audio, the default)."""
    return "[schedules]\nhold_s = 5\ngap_ms = 1000\n[stream]\nburst_s = 3\nhold_audio = false\n" + extra


class Setup:
    """Users, the commune, n clusters (ids k1..kn with their tokens), and approved recorded
    bulletins, one per (seconds, freq)."""

    def __init__(self, s, nclusters, tones, commune=COMMUNE):
        self.s = s
        self.commune = commune
        self.admin = s.admin()
        self.editor = s.make_user(self.admin, "eva", "editor")
        self.approver = s.make_user(self.admin, "anh", "approver")
        r = s.post("/api/v1/communes", {"id": commune, "name": "Quảng Phú", "population": 9000}, self.admin)
        check(r.status == 201, r)
        # One daily slot 12 hours from now instead of the default two (06:00, 17:00): the ad-hoc
        # sessions the tests make in the next hours never overlap a slot (409), whatever the
        # time of day they run at, and a slot session still lies within a schedule's 36 h.
        hour = (int(time.time()) // 3600 + 7 + 12) % 24
        r = s.request("PUT", "/api/v1/communes/%s/slots" % commune, [{"start": "%02d:00" % hour, "minutes": 60}],
                      self.admin)
        check(r.status == 200, r)
        self.clusters = []
        for i in range(nclusters):
            r = s.post("/api/v1/clusters", {"id": "k%d" % (i + 1), "commune": commune, "name": "Cụm %d" % (i + 1),
                                            "population": 100}, self.admin)
            check(r.status == 201, r)
            self.clusters.append((r.json()["id"], r.json()["token"]))
        self.bulletins = [self.recorded("Bản tin %d" % i, sec, freq) for i, (sec, freq) in enumerate(tones)]

    def recorded(self, title, seconds, freq, approve=True, priority="normal"):
        s = self.s
        r = s.post("/api/v1/bulletins", {"title": title, "communes": [self.commune], "priority": priority},
                   self.editor)
        check(r.status == 201, r)
        bid = r.json()["id"]
        r = s.request("PUT", "/api/v1/bulletins/%d/audio" % bid, wav_bytes(seconds, 16000, freq), self.editor,
                      headers={"Content-Type": "audio/wav"})
        check(r.status == 200 and r.json()["status"] == "pending", r)
        if approve:
            r = s.approve(bid, self.approver)
            check(r.status == 200, r)
        return bid

    def emergency_recording(self, seconds, freq):
        """An approved recorded bulletin for emergencies: it targets another commune (made here),
        so that it is in no programme of ours."""
        r = self.s.post("/api/v1/communes", {"id": "quang-an", "name": "Quảng An"}, self.admin)
        check(r.status == 201, r)
        # no slot: the bulletin is in no programme, whatever the time of day (the default slots
        # would put it on air in quang-an at 06:00 and 17:00)
        r = self.s.request("PUT", "/api/v1/communes/quang-an/slots", [], self.admin)
        check(r.status == 200, r)
        mine, self.commune = self.commune, "quang-an"
        try:
            return self.recorded("Khẩn cấp", seconds, freq)
        finally:
            self.commune = mine

    def session(self, start_in, minutes=2):
        """An ad-hoc session starting at the next whole second + start_in; returns its start (Unix s)."""
        start = int(time.time()) + 1 + start_in
        iso = datetime.datetime.fromtimestamp(start, datetime.timezone.utc).isoformat()
        r = self.s.post("/api/v1/communes/%s/sessions" % self.commune, {"start": iso, "minutes": minutes},
                        self.admin)
        check(r.status == 201, r)
        return start, r.json()

    def url(self, i, query_token=False):
        cid, tok = self.clusters[i]
        return "/stream/%s.opus" % cid + ("?token=" + tok if query_token else ""), tok


class Receiver(threading.Thread):
    """A raw HTTP client of the stream: reads until EOF, timestamping every chunk; or stalls
    (stall: reads the first bytes, then nothing until stop_event). body is the Ogg data after the
    response headers.

    stop_after: the client leaves that many seconds after connecting. It leaves the way that
    lets a test compare bytes exactly: it half-closes (FIN; the server sees its EOF, as for a
    close, and closes the connection) and reads on to the server's close, so that it has read
    every byte the server's completed writes put in the socket buffers. A plain close() would
    throw away what the kernel held for it, which the server has counted as delivered."""

    def __init__(self, port, path, token=None, stop_after=None, stall=False, rcvbuf=None, close=False):
        super().__init__(daemon=True)
        self.port, self.path, self.token = port, path, token
        self.close = close  # ask for Connection: close (a 503 then ends the read too)
        self.stop_after, self.stall, self.rcvbuf = stop_after, stall, rcvbuf
        self.chunks = []  # (time, bytes so far)
        self.raw = b""
        self.connected_at = None
        self.left_at = None     # when it half-closed (stop_after)
        self.closed_at = None
        self.error = None
        self.stop_event = threading.Event()

    def run(self):
        try:
            sock = socket.socket()
            if self.rcvbuf:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf)
            sock.connect(("127.0.0.1", self.port))
            self.connected_at = time.time()
            auth = "Authorization: Bearer %s\r\n" % self.token if self.token else ""
            conn = "Connection: close\r\n" if self.close else ""
            sock.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n%s%s\r\n" % (self.path, auth, conn)).encode())
            if self.stall:
                self.raw = sock.recv(300)
                self.stop_event.wait(120)
                sock.close()
                return
            sock.settimeout(0.05)
            buf = self.buf = bytearray()
            while not self.stop_event.is_set():
                if self.stop_after is not None and self.left_at is None and \
                        time.time() - self.connected_at >= self.stop_after:
                    sock.shutdown(socket.SHUT_WR)
                    self.left_at = time.time()
                if self.left_at is not None and time.time() - self.left_at > 15:
                    raise AssertionError("the server did not close 15 s after the client left")
                try:
                    d = sock.recv(65536)
                except socket.timeout:
                    continue
                if not d:
                    break
                buf += d
                self.chunks.append((time.time(), len(buf)))
            sock.close()
            self.closed_at = time.time()
            self.raw = bytes(buf)
        except Exception as e:  # reported by the test
            self.error = e

    @property
    def status(self):
        try:
            return int(self.raw.split(b" ", 2)[1])
        except (IndexError, ValueError):
            return None

    @property
    def head_len(self):
        i = self.raw.find(b"\r\n\r\n")
        return i + 4 if i >= 0 else 0

    @property
    def body(self):
        return self.raw[self.head_len:]

    def body_now(self):
        """The body read so far, while the receiver runs."""
        data = bytes(getattr(self, "buf", b"")) or self.raw
        i = data.find(b"\r\n\r\n")
        return data[i + 4:] if i >= 0 else b""

    def audio_now(self):
        """Where the client is in the stream: its last whole page's granule, in seconds (page k of
        the programme, [k-1, k) s, is sent when its audio starts: at k - 1 s into the session)."""
        ps = pages(self.body_now())
        return ps[-1][2] / 48000 if len(ps) > 2 else 0.0

    def body_at(self, t):
        """Body bytes the client had read at time t (from its chunks' timestamps)."""
        n = 0
        for at, total in list(self.chunks):
            if at > t:
                break
            n = total
        data = bytes(getattr(self, "buf", b"")) or self.raw
        i = data.find(b"\r\n\r\n")
        return max(0, n - (i + 4)) if i >= 0 else 0

    def arrival(self, body_offset):
        """When the body byte at body_offset arrived."""
        want = self.head_len + body_offset
        for t, n in self.chunks:
            if n > want:
                return t
        return None

    def save(self, path):
        with open(path, "wb") as f:
            f.write(self.body)
        return path


def pages(data):
    """[(offset, length, granule, seq, serial, flags)] of the complete Ogg pages in data."""
    out, i = [], 0
    while i + 27 <= len(data) and i + 27 + data[i + 26] <= len(data):
        check(data[i:i + 4] == b"OggS", "no page at %d" % i)
        nseg = data[i + 26]
        length = 27 + nseg + sum(data[i + 27:i + 27 + nseg])
        g = int.from_bytes(data[i + 6:i + 14], "little", signed=True)
        seq = int.from_bytes(data[i + 18:i + 22], "little")
        serial = int.from_bytes(data[i + 14:i + 18], "little")
        if i + length > len(data):
            break  # a page still arriving (or cut by a close)
        out.append((i, length, g, seq, serial, data[i + 5]))
        i += length
    return out


def whole_len(data):
    """Bytes of data up to the end of its last complete Ogg page."""
    ps = pages(data)
    return ps[-1][0] + ps[-1][1] if ps else 0


def check_delivered(row, rc, what):
    """The bytes of a delivery row against a client that read to the end (EOF).

    "Delivered" (docs/streaming.md, "Delivery accounting") means: the page's write completed, i.e.
    the kernel took all its bytes into the connection's socket buffer — not that the client read
    them. A client that reads until the server's close reads everything the kernel took, so it
    has exactly the pages the server counted, plus at most the head of one page whose write the
    close cut short (never counted). Hence: row bytes == the client's bytes up to its last whole
    page, and less than one page beyond."""
    whole = whole_len(rc.body)
    check(row["bytes"] == whole and len(rc.body) - whole < 65536,
          "%s: the server counted %d bytes delivered; the client read %d (%d in whole pages): %r" %
          (what, row["bytes"], len(rc.body), whole, row))


def check_ogg(data, whole=True):
    """One logical stream: BOS OpusHead, OpusTags, one serial, sequence numbers 0.., granules
    non-decreasing, EOS at the end (whole) — and nothing chained."""
    ps = pages(data)
    check(len(ps) >= 3, "only %d pages" % len(ps))
    check(data[ps[0][0] + 28:ps[0][0] + 36] == b"OpusHead" and ps[0][5] & 2, "no BOS OpusHead")
    check(data[ps[1][0] + 27 + data[ps[1][0] + 26]:][:8] == b"OpusTags", "no OpusTags")
    serials = {p[4] for p in ps}
    check(len(serials) == 1, "chained: serials %s" % serials)
    check([p[3] for p in ps] == list(range(len(ps))), "sequence numbers not 0..n")
    check(sum(1 for p in ps if p[5] & 2) == 1, "more than one BOS")
    # a page on which no packet ends has granule -1 (RFC 3533): the empty end-of-stream page that
    # ends a replaced connection
    g = [p[2] for p in ps[2:] if p[2] != -1]
    check(all(b >= a for a, b in zip(g, g[1:])), "granules go back")
    if whole:
        check(ps[-1][5] & 4, "no EOS at the end")
    return ps


def tools_accept(path, cut=False):
    """opusinfo exits 0 and ffprobe sees one opus stream; ffmpeg decodes without an error. A
    capture cut by the client (cut) lacks EOS: opusinfo's only complaint may be that one."""
    r = subprocess.run(["opusinfo", path], capture_output=True, text=True)
    out = r.stdout + r.stderr
    warnings = [l for l in out.splitlines() if "WARNING" in l]
    if cut:
        check(all("EOS not set" in w for w in warnings), "opusinfo: %s" % out[-800:])
    else:
        check(r.returncode == 0 and not warnings, "opusinfo: %s" % out[-800:])
    codec, _ = lcserver.ffprobe(path)
    check(codec == "opus", codec)
    check(lcserver.decodes(path), "ffmpeg does not decode %s" % path)


def decode(path):
    """The decoded audio, 48 kHz mono 16-bit, as an array."""
    out = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-f", "s16le", "-ac", "1", "-ar", "48000", "-"],
                         capture_output=True, check=True).stdout
    a = array.array("h")
    a.frombytes(out)
    return a


def tones(pcm, win=960):
    """Segments [(freq or 0 for silence, start_s, end_s)] from zero crossings per 20 ms."""
    segs = []
    for w in range(len(pcm) // win):
        x = pcm[w * win:(w + 1) * win]
        rms = math.sqrt(sum(v * v for v in x) / win)
        if rms < 300:
            f = 0
        else:
            zc = sum(1 for a, b in zip(x, x[1:]) if (a < 0) != (b < 0))
            f = round(zc * 50 / 2 / 50) * 50  # Hz, to the nearest 50
        t0, t1 = w * win / 48000, (w + 1) * win / 48000
        if segs and abs(segs[-1][0] - f) <= 50:
            segs[-1][2] = t1
        else:
            segs.append([f, t0, t1])
    # drop blips (codec start-up, joins) shorter than 60 ms
    return [tuple(x) for x in segs if x[2] - x[1] >= 0.06]


def deliveries(s):
    """{cluster: row} of the deliveries table (read-only, beside the running server)."""
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(s.data, "loacast.db"), uri=True, timeout=10)
    db.row_factory = sqlite3.Row
    rows = {r["cluster"]: dict(r) for r in db.execute("SELECT * FROM deliveries_current")}
    db.close()
    for r in rows.values():
        r["bulletins_whole"] = json.loads(r["bulletins_whole"])
    return rows


def wait_held(s, n=1, timeout=30):
    """Waits until n commune streams are held or on air: the scheduler's PREPARE (hold window)
    reached the stream engine, so a receiver that connects now is held, not refused."""
    wait_for(lambda: metrics(s)["loacast_sessions_on_air"] >= n, timeout,
             "%d stream(s) held (PREPARE)" % n, interval=0.05)


def wait_closed_rows(s, clusters, timeout=30):
    """{cluster: row} of deliveries_current once each of these clusters' rows is closed
    (disconnected_at set). A receiver's disconnection is written in the batch after it left
    (≤ [stream] batch_ms), and nothing changes its row after that: the row is final."""
    def closed():
        rows = deliveries(s)
        return rows if all(c in rows and rows[c]["disconnected_at"] for c in clusters) else None
    return wait_for(closed, timeout, lambda: "the rows of %s closed: %r" % (clusters, deliveries(s)),
                    interval=0.1)


def metrics(s):
    out = {}
    for line in s.get("/metrics").body.decode().splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
    return out
