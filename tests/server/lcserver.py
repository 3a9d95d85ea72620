"""Helpers for the server tests: start the real `loacast serve` on a free loopback port with a
temporary data dir and config, talk to it over HTTP, stop it (or kill -9 it).

Standard library only. The binary is $LOACAST (set by tests/meson.build) or argv[1].
"""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

LOACAST = os.environ.get("LOACAST") or (sys.argv[1] if len(sys.argv) > 1 else None)
ADMIN_PASSWORD = "admin-pass-123"


def wait_for(cond, timeout, what, interval=0.02, errors=()):
    """How the tests wait: polls cond() until it returns something true, and returns that; past
    `timeout` seconds raises AssertionError naming `what` (a string, or a function that returns
    one, called then) and cond's last value. An exception of
    a type in `errors` counts as "not yet". Never a fixed sleep: the deadline is only a bound,
    as generous as a slow, loaded machine needs, and the condition ends the wait at once."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            last = cond()
        except errors as e:
            last = e
        else:
            if last:
                return last
        if time.monotonic() >= deadline:
            raise AssertionError("waited %.1f s for %s; last: %r" % (timeout, what() if callable(what) else what,
                                                                   last))
        time.sleep(interval)


def sleep_until(t, why):
    """Not a wait for a condition: lets the wall clock reach t (Unix s) because the time itself is
    the behaviour under test — the scenario acts at an instant of a session ("kill -9 2.5 s into
    the replayed bulletin"), or lets an instant pass to show that nothing happens at it. `why`
    says which; every other wait is wait_for()."""
    assert why
    d = t - time.time()
    if d > 0:
        time.sleep(d)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "<%d %r>" % (self.status, self.body[:300])


class Server:
    def __init__(self, config="", tmp=None, admin_password=ADMIN_PASSWORD):
        assert LOACAST, "set LOACAST to the loacast binary"
        self.tmp = tmp or tempfile.mkdtemp(prefix="loacast-srv-")
        self.data = os.path.join(self.tmp, "var")
        self.port = free_port()
        self.admin_password = admin_password
        self.config_path = os.path.join(self.tmp, "loacast.conf")
        with open(self.config_path, "w") as f:
            f.write("[server]\nlisten = 127.0.0.1:%d\ndata_dir = %s\n%s\n" % (self.port, self.data, config))
        self.proc = None
        self.runs = 0

    # -- process ---------------------------------------------------------------------------------
    def start(self, timeout=60):
        env = dict(os.environ)
        env.pop("LOACAST_ADMIN_PASSWORD", None)
        if self.admin_password:
            env["LOACAST_ADMIN_PASSWORD"] = self.admin_password
        self.runs += 1
        self.out_path = os.path.join(self.tmp, "stdout.%d" % self.runs)
        self.err_path = os.path.join(self.tmp, "stderr.%d" % self.runs)
        self.proc = subprocess.Popen([LOACAST, "serve", "--config", self.config_path],
                                     stdout=open(self.out_path, "wb"), stderr=open(self.err_path, "wb"),
                                     env=env, cwd=self.tmp)

        def up():
            if self.proc.poll() is not None:
                raise AssertionError("server exited with %s:\n%s" % (self.proc.returncode, self.logs()))
            return self.get("/healthz", timeout=5).status == 200

        try:
            wait_for(up, timeout, "/healthz", interval=0.05, errors=(OSError,))
        except AssertionError as e:
            if self.proc.poll() is not None:
                raise
            raise AssertionError("server did not start (%s):\n%s" % (e, self.logs()))
        return self

    def logs(self):
        out = []
        for p in (getattr(self, "out_path", None), getattr(self, "err_path", None)):
            if p and os.path.exists(p):
                with open(p, "rb") as f:
                    out.append(f.read().decode("utf-8", "replace")[-6000:])
        return "\n".join(out)

    def stdout(self):
        with open(self.out_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self, timeout=60):
        """SIGTERM; the server must exit 0 (under ASan: without leaks or errors)."""
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError("server did not stop on SIGTERM:\n" + self.logs())
        self.proc = None
        if rc != 0:
            raise AssertionError("server exited with %d:\n%s" % (rc, self.logs()))

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)
        self.proc = None

    def cleanup(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, et, ev, tb):
        if et is not None:
            sys.stderr.write("---- server output ----\n" + self.logs() + "\n")
        self.cleanup()

    # -- HTTP ------------------------------------------------------------------------------------
    def request(self, method, path, body=None, token=None, headers=None, timeout=60):
        h = {}
        data = None
        if body is not None:
            if isinstance(body, (bytes, bytearray)):
                data = bytes(body)
            else:
                data = json.dumps(body).encode("utf-8")
                h["Content-Type"] = "application/json"
        if token:
            h["Authorization"] = "Bearer " + token
        if headers:
            h.update(headers)
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        finally:
            c.close()

    def get(self, path, token=None, **kw):
        return self.request("GET", path, token=token, **kw)

    def post(self, path, body=None, token=None, **kw):
        return self.request("POST", path, body=body, token=token, **kw)

    def login(self, username, password):
        r = self.post("/api/v1/login", {"username": username, "password": password})
        assert r.status == 200, r
        return r.json()["token"]

    def admin(self):
        return self.login("admin", self.admin_password)

    def make_user(self, admin_token, name, role, password=None):
        password = password or (name + "-password")
        r = self.post("/api/v1/users", {"username": name, "password": password, "role": role}, admin_token)
        assert r.status == 201, r
        return self.login(name, password)

    def approve(self, bid, token, heard=None):
        """POST …/approve with the audio the approver heard (the bulletin's current audio_hash
        unless heard is given): an approval binds the exact audio."""
        if heard is None:
            heard = self.get("/api/v1/bulletins/%d" % bid, token).json().get("audio_hash") or ""
        return self.post("/api/v1/bulletins/%d/approve" % bid, {"audio_hash": heard}, token)

    def wait_status(self, token, bid, statuses, timeout=90):
        seen = [None]

        def status():
            b = seen[0] = self.get("/api/v1/bulletins/%d" % bid, token).json()
            return b if b["status"] in statuses else None
        return wait_for(status, timeout, lambda: "bulletin %d to be %s (it is %s)" %
                        (bid, "/".join(statuses), seen[0] and seen[0]["status"]), interval=0.1)


def ffprobe(path):
    """(codec_name, duration in s) of an audio file, via ffprobe."""
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name:format=duration",
                          "-of", "json", path], capture_output=True, check=True).stdout
    d = json.loads(out)
    return d["streams"][0]["codec_name"], float(d["format"]["duration"])


def decodes(path):
    """True if ffmpeg decodes the whole file without an error."""
    r = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-f", "null", "-"], capture_output=True)
    return r.returncode == 0 and not r.stderr.strip()


def wav_bytes(seconds=1.0, rate=16000, freq=440.0):
    """A mono 16-bit WAV with a sine tone."""
    import io
    import math
    import struct
    import wave
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        n = int(seconds * rate)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * freq * i / rate)))
                               for i in range(n)))
    return buf.getvalue()


def rss_kb(pid):
    """The resident memory of process pid, in kB (VmRSS)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)
