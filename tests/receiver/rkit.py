"""Helpers of the loacast-receiver end-to-end tests (issue 17): real loacast-receiver processes
with wav: sinks against the real server on loopback (tests/stream/streamkit.py), what their WAVs
and sidecars say, their play reports, and an HTTP-level proxy that can rewrite answers.

    rx = Rx(s, tmp, "k1", token, key, port=None, skew=0, **ini)   # writes its INI; rx.start()
    rx.pcm(), rx.times()            # the WAV (48 kHz mono s16) and its sidecar
    first_sample(rx, pcm, times, t, media_onset)  # the real time an item's first sample sounded
    HttpProxy(server_port, hook)    # a threaded HTTP/1.1 proxy; hook may answer instead

Standard library only (plus streamkit / lcserver, imported).
"""
import array
import base64
import datetime
import http.client
import http.server
import json
import math
import os
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
import wave

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "stream"))
import streamkit as K  # noqa: E402,F401
from streamkit import check, wait_for  # noqa: E402,F401

RATE = 48000
# the program: $LOACAST_RECEIVER, or the first argument (tests/receiver/meson.build)
RECEIVER = os.environ.get("LOACAST_RECEIVER") or (sys.argv[1] if len(sys.argv) > 1 else None)


def parse_time(iso):
    return datetime.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).isoformat()


# ---- receivers ---------------------------------------------------------------------------------

class Rx:
    """One loacast-receiver process: its directory (INI, cache, out.wav, log) under tmp."""

    def __init__(self, s, tmp, cid, token, key, port=None, skew=0, name=None, **ini):
        check(RECEIVER and os.path.exists(RECEIVER), "set LOACAST_RECEIVER to the loacast-receiver binary")
        self.cid, self.token, self.skew = cid, token, skew
        self.dir = os.path.join(tmp, name or ("rx-" + cid))
        os.makedirs(self.dir, exist_ok=True)
        self.cache = os.path.join(self.dir, "cache")
        self.wav = os.path.join(self.dir, "out.wav")
        self.conf = os.path.join(self.dir, "receiver.ini")
        self.logpath = os.path.join(self.dir, "log")
        self.proc = None
        self.runs = 0
        ini.setdefault("status_every_s", 2)
        with open(self.conf, "w") as f:
            f.write("[receiver]\nserver = http://127.0.0.1:%d\ncluster = %s\ntoken = %s\nstation_key = %s\n"
                    "cache_dir = %s\nsink = wav:%s\n" % (port or s.port, cid, token, key, self.cache, self.wav))
            for k, v in ini.items():
                f.write("%s = %s\n" % (k, v))
            if skew:
                f.write("[test]\nclock_skew_ms = %d\n" % skew)

    def start(self):
        self.runs += 1
        log = open(self.logpath, "ab")
        log.write(b"==== run %d\n" % self.runs)
        log.flush()
        self.proc = subprocess.Popen([RECEIVER, "--config", self.conf], stdout=log, stderr=log)
        log.close()
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=15):
        """SIGTERM: must exit 0 (under ASan: no leak, no error)."""
        check(self.alive(), "receiver %s exited early (%s)\n%s" % (self.cid, self.proc and self.proc.returncode,
                                                                     self.log()))
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError("receiver %s did not stop on SIGTERM\n%s" % (self.cid, self.log()))
        check(rc == 0, "receiver %s: exit %d\n%s" % (self.cid, rc, self.log()))

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def cleanup(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait()

    def log(self, tail=4000):
        try:
            with open(self.logpath, "rb") as f:
                return f.read().decode("utf-8", "replace")[-tail:]
        except OSError:
            return ""

    def media(self, h):
        return os.path.join(self.cache, "media", h + ".opus")

    def holds(self, h):
        return os.path.exists(self.media(h))

    def pcm(self):
        return read_wav(self.wav) if os.path.exists(self.wav) else array.array("h")

    def times(self):
        p = self.wav + ".times"
        return read_times(p) if os.path.exists(p) else []

    def kept(self):
        """The payload of the schedule it keeps on disk (the last it accepted), or None."""
        p = os.path.join(self.cache, "schedule.json")
        if not os.path.exists(p):
            return None
        with open(p) as f:
            return json.loads(base64.b64decode(json.load(f)["payload"]))


class Fleet:
    """Receivers started together and cleaned up whatever happens (a with-block)."""

    def __init__(self):
        self.rxs = []

    def add(self, rx):
        self.rxs.append(rx)
        return rx

    def logs(self):
        return "\n".join("--- %s\n%s" % (r.cid, r.log(2500)) for r in self.rxs)

    def __enter__(self):
        return self

    def __exit__(self, et, ev, tb):
        if et is not None:
            sys.stderr.write("---- receivers ----\n" + self.logs() + "\n")
            keep = os.environ.get("RKIT_KEEP")   # a directory to copy the receivers' files to
            if keep:
                import shutil
                for r in self.rxs:
                    shutil.copytree(r.dir, os.path.join(keep, os.path.basename(r.dir)), dirs_exist_ok=True)
        for r in self.rxs:
            r.cleanup()


def station_key(s):
    return s.get("/api/v1/station").json()["public_key"]


def media_hash(s, st, bid):
    return s.get("/api/v1/bulletins/%d" % bid, st.admin).json()["media_hash"]


def plays(s, admin, **q):
    qs = "&".join("%s=%s" % kv for kv in q.items())
    return s.get("/api/v1/plays?" + qs, admin).json()["plays"]


def cluster_status(s, admin, cid):
    st = s.get("/api/v1/clusters/%s" % cid, admin).json().get("status")
    if isinstance(st, str):
        st = json.loads(st)
    return st or {}


def recorded(st, title, wav, communes=None, approve=True):
    """An approved recorded bulletin of the given WAV bytes (16-bit mono)."""
    s = st.s
    r = s.post("/api/v1/bulletins", {"title": title, "communes": communes or [st.commune]}, st.editor)
    check(r.status == 201, r)
    bid = r.json()["id"]
    r = s.request("PUT", "/api/v1/bulletins/%d/audio" % bid, wav, st.editor, headers={"Content-Type": "audio/wav"})
    check(r.status == 200 and r.json()["status"] == "pending", r)
    if approve:
        r = s.approve(bid, st.approver)
        check(r.status == 200, r)
    return bid


def pulses_wav(pulses, gap=0.1, rate=16000):
    """A WAV of tone pulses [(seconds, freq)], each followed by gap seconds of silence: where in
    the item a stretch of audio comes from can be told by its pulse's frequency."""
    import io
    import math
    import struct
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        out = []
        for sec, f in pulses:
            out += [int(8000 * math.sin(2 * math.pi * f * i / rate)) for i in range(int(sec * rate))]
            out += [0] * int(gap * rate)
        w.writeframes(struct.pack("<%dh" % len(out), *out))
    return buf.getvalue()


# ---- what the sink played ------------------------------------------------------------------------

def read_wav(path):
    with wave.open(path, "rb") as w:
        check(w.getframerate() == RATE and w.getnchannels() == 1 and w.getsampwidth() == 2, path)
        a = array.array("h")
        a.frombytes(w.readframes(w.getnframes()))
    return a


def read_times(path):
    """[(wav offset, real time, frames)] of the sidecar (a torn last line is left out)."""
    out = []
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) == 3 and line.endswith("\n"):
                out.append((int(p[0]), float(p[1]), int(p[2])))
    return out


def real_time(times, i):
    """The real wall time at which WAV sample i sounded."""
    for off, t, n in times:
        if off <= i < off + n:
            return t + (i - off) / RATE
    raise AssertionError("sample %d not in the sidecar" % i)


def wav_index(times, t):
    """The first WAV sample that sounded at real time t or later (the sink is idle between
    sessions: consecutive samples of the WAV may be far apart in time); len of the WAV (the
    sidecar's end) when none did."""
    end = 0
    for off, t0, n in times:
        if t0 + n / RATE > t:
            return off + max(0, int(math.ceil((t - t0) * RATE - 1e-6)))
        end = off + n
    return end


def wav_range(times, t0, t1):
    """(a, b): the WAV samples that sounded in real times [t0, t1)."""
    return wav_index(times, t0), wav_index(times, t1)


def jumps(times):
    """Where the sink's timeline broke: [(offset, ms)]."""
    out = []
    for (o0, t0, n0), (o1, t1, _) in zip(times, times[1:]):
        d = t1 - (t0 + n0 / RATE)
        if abs(d) > 0.0005:
            out.append((o1, round(d * 1000, 2)))
    return out


def onset(pcm, frm=0, to=None, level=1500):
    for i in range(max(0, frm), min(len(pcm), to if to is not None else len(pcm))):
        if abs(pcm[i]) > level:
            return i
    return None


def tone(pcm, i):
    """(frequency, length in s) of the tone that begins at sample i: zero crossings over its
    middle, its end where 20 ms go by below the level."""
    j, quiet = i, 0
    while j < len(pcm) and quiet < 960:
        quiet = quiet + 1 if abs(pcm[j]) <= 1500 else 0
        j += 1
    end = j - quiet
    mid = pcm[i + (end - i) // 4:i + 3 * (end - i) // 4]
    if len(mid) < 2:
        return 0.0, (end - i) / RATE
    zc = sum(1 for a, b in zip(mid, mid[1:]) if (a < 0) != (b < 0))
    return zc / 2 / (len(mid) / RATE), (end - i) / RATE


def loud_between(pcm, times, t0, t1, level=1500):
    """Samples louder than level that sounded between real times t0 and t1."""
    a, b = wav_range(times, t0, t1)
    return sum(1 for v in pcm[a:b] if abs(v) > level)


def media_onsets(path):
    """The first audible sample of a decoded media file, in s."""
    return onset(K.decode(path)) / RATE


def item_heard(rx, pcm, times, want, media_onset, window=0.1):
    """(first, freq, length): the real time the item's first sample sounded (its onset in the WAV
    within window of want, less the media's own onset), its tone and length; None when nothing
    sounded then."""
    a, b = wav_range(times, want - window, want + window)
    i = onset(pcm, a, b)
    if i is None:
        return None
    f, length = tone(pcm, i)
    return real_time(times, i) - media_onset, f, length


# ---- an HTTP proxy that can answer instead of the server ------------------------------------------

class HttpProxy:
    """A threaded HTTP/1.1 proxy on 127.0.0.1:port to the server on loopback. hook(method, path,
    headers, body) may return None (forward as is) or a function rewrite(status, headers, body) →
    (status, headers, body) applied to the server's answer, or a tuple (status, headers, body) to
    answer without asking the server. Answers without a length (streams) are passed on as they
    come, chunked. `seen` lists (method, path, status) of every request."""

    def __init__(self, target_port, hook=None):
        self.target_port = target_port
        self.hook = hook or (lambda *a: None)
        self.seen = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                hdrs = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "host")}
                h = proxy.hook(self.command, self.path, hdrs, body)
                if isinstance(h, tuple):
                    status, rh, rb = h
                    proxy.seen.append((self.command, self.path, status))
                    return self.answer(status, rh, rb)
                c = http.client.HTTPConnection("127.0.0.1", proxy.target_port, timeout=120)
                try:
                    c.request(self.command, self.path, body=body or None, headers=hdrs)
                    r = c.getresponse()
                    rh = [(k, v) for k, v in r.getheaders()
                          if k.lower() not in ("connection", "transfer-encoding", "keep-alive")]
                    proxy.seen.append((self.command, self.path, r.status))
                    if callable(h) or r.getheader("Content-Length") is not None or self.command == "HEAD" or \
                            r.status in (204, 304) or r.status < 200:
                        rb = r.read()
                        status = r.status
                        if callable(h):
                            status, rh, rb = h(status, rh, rb)
                        return self.answer(status, rh, rb)
                    # a stream: chunked as it comes
                    self.send_response(r.status)
                    for k, v in rh:
                        self.send_header(k, v)
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    while True:
                        d = r.read1(65536)
                        if not d:
                            break
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(d), d))
                        self.wfile.flush()
                    self.wfile.write(b"0\r\n\r\n")
                finally:
                    c.close()

            def answer(self, status, rh, rb):
                self.send_response(status)
                for k, v in rh:
                    if k.lower() != "content-length":
                        self.send_header(k, v)
                if status not in (204, 304) and status >= 200:
                    self.send_header("Content-Length", str(len(rb)))
                self.end_headers()
                if self.command != "HEAD" and status not in (204, 304):
                    self.wfile.write(rb)

            do_GET = do_POST = do_HEAD = do_PUT = do_PATCH = do_DELETE = do_any

        class Srv(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True

            def handle_error(self, request, client_address):
                pass    # a client that went away (a killed receiver, a cut long-poll)

        self.httpd = Srv(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def segments(pcm, times, t_from=None):
    """What the WAV says, for messages: [(freq or 0, real start, seconds)] of its tones."""
    out = []
    for f, a, b in K.tones(pcm):
        if f:
            try:
                t = real_time(times, int(a * RATE))
            except AssertionError:
                t = -1
            if t_from is None or t >= t_from:
                out.append((f, round(t, 3), round(b - a, 3)))
    return out


def freq_onset(pcm, i0, i1, freq, win=480, step=24):
    """The first sample in [i0, i1) where a tone of freq begins, even right after other sound
    (no silence between): the first window of win samples that is loud throughout its first
    quarter and crosses zero at freq's rate (within 10 %). None when there is none."""
    want = 2 * freq * win / RATE
    i = max(0, i0)
    while i + win <= min(i1, len(pcm)):
        x = pcm[i:i + win]
        if abs(x[0]) > 300 or any(abs(v) > 1500 for v in x[:win // 8]):
            zc = sum(1 for a, b in zip(x, x[1:]) if (a < 0) != (b < 0))
            if abs(zc - want) <= 0.1 * want and max(abs(v) for v in x) > 1500:
                # back to the tone's first loud sample within the last step
                j = i
                while j > i - step and j > 0 and abs(pcm[j - 1]) > 300:
                    j -= 1
                k = onset(pcm, j, i + win)
                return k if k is not None else i
        i += step
    return None
