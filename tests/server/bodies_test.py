"""Nobody without a token can make the server hold request bodies (issue 14, point 1).

1. 64 connections with no token each send `PUT /api/v1/bulletins/1/audio` headers announcing
   64,000,000 bytes and then send 1 MB of it: every one gets 401 before the server has
   read a body byte, and the server's memory does not grow with what they send (measured: VmRSS
   of the process; before this change it reached 3 GB and the kernel killed it).
2. The same with a valid token of a role the route does not admit (operator): 403, likewise.
3. Authorised uploads together may buffer at most `[limits] max_bodies_bytes`: with 2 MB, two
   editors' 1.5 MB uploads in flight at once, the second is refused with 503 `busy` while the
   first goes on; the server stays up, and a later upload passes.
A request without a body keeps its keep-alive connection when refused (401 on a GET, then a
second request on the same connection). Blank lines before a request (which HTTP lets a server
skip) do not restart the idle timer: a client that sends only CRLFs is closed at idle_timeout_ms."""
import http.client
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lcserver import Server, check, rss_kb, wait_for, wav_bytes  # noqa: E402

CONFIG = """
[limits]
max_bodies_bytes = 2000000
body_timeout_ms = 20000
idle_timeout_ms = 1500
"""


def read_answer(sock, timeout=10):
    """Reads until the status line and headers are in (or the peer closes)."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        try:
            chunk = sock.recv(4096)
        except (ConnectionResetError, socket.timeout):
            break
        if not chunk:
            break
        data += chunk
    return data


def upload_headers(path, length, token=None):
    auth = b"Authorization: Bearer %s\r\n" % token.encode() if token else b""
    return (b"PUT %s HTTP/1.1\r\nHost: x\r\n%sContent-Type: audio/wav\r\n"
            b"Content-Length: %d\r\n\r\n" % (path.encode(), auth, length))


def flood(s, token, expect, n=64, declared=64000000, each=1024 * 1024):
    """n connections announce `declared` bytes and send `each` of them; all must be answered
    `expect` and none may make the server hold their bodies."""
    before = rss_kb(s.proc.pid)
    socks = []
    for _ in range(n):
        c = socket.create_connection(("127.0.0.1", s.port), timeout=10)
        c.sendall(upload_headers("/api/v1/bulletins/1/audio", declared, token))
        socks.append(c)
    block = b"\0" * 65536
    sent = 0
    for c in socks:
        try:
            for _ in range(each // len(block)):
                c.sendall(block)
                sent += len(block)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            pass  # the server answered and closed: what we want
    answers = [read_answer(c) for c in socks]
    peak = rss_kb(s.proc.pid)
    for c in socks:
        c.close()
    bad = [a[:80] for a in answers if not a.startswith(b"HTTP/1.1 %d " % expect)]
    check(not bad, "%d of %d answers were not %d: %r" % (len(bad), n, expect, bad[:3]))
    grown = peak - before
    # The bodies sent total n * each = 64 MB; had they been buffered, RSS would grow by that.
    check(grown < 12 * 1024, "RSS grew by %d kB under %d refused uploads (sent %d bytes)"
          % (grown, n, sent))
    return grown, sent


def main():
    with Server(CONFIG) as s:
        s.start()
        admin = s.admin()
        editor = s.make_user(admin, "bien.tap", "editor")
        operator = s.make_user(admin, "van.hanh", "operator")

        g1, sent1 = flood(s, None, 401)
        g2, sent2 = flood(s, operator, 403)
        print("refused uploads: RSS +%d kB (no token, %d bytes sent), +%d kB (operator, %d bytes"
              " sent)" % (g1, sent1, g2, sent2))

        # A refused request without a body keeps its connection (keep-alive).
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
        conn.request("GET", "/api/v1/bulletins")
        r = conn.getresponse()
        r.read()
        check(r.status == 401, r.status)
        conn.request("GET", "/api/v1/bulletins", headers={"Authorization": "Bearer " + editor})
        r = conn.getresponse()
        r.read()
        check(r.status == 200, r.status)
        conn.close()

        # Blank lines only, every 0.25 s: closed at the idle timeout (1.5 s), not held forever.
        c = socket.create_connection(("127.0.0.1", s.port), timeout=10)
        c.settimeout(0.25)
        t0 = time.monotonic()
        closed_at = None
        while time.monotonic() - t0 < 8 and closed_at is None:
            try:
                c.send(b"\r\n")
                if c.recv(4096) == b"":
                    closed_at = time.monotonic() - t0
            except socket.timeout:
                pass
            except (BrokenPipeError, ConnectionResetError):
                closed_at = time.monotonic() - t0
        c.close()
        check(closed_at is not None and 1.4 < closed_at < 4, "blank lines held the connection: %s"
              % closed_at)

        # Two authorised uploads in flight: the global bound refuses the second.
        r = s.post("/api/v1/bulletins", {"title": "Ghi âm", "communes": ["*"]}, editor)
        check(r.status == 201, r)
        bid = r.json()["id"]
        path = "/api/v1/bulletins/%d/audio" % bid
        wav = wav_bytes(seconds=46.0)   # 16 kHz 16-bit: ~1.47 MB
        check(1400000 < len(wav) < 2000000, len(wav))
        first = socket.create_connection(("127.0.0.1", s.port), timeout=10)
        first.sendall(upload_headers(path, len(wav), editor))
        first.sendall(wav[:1200000])
        wait_for(lambda: s.get("/healthz").status == 200, 10, "/healthz")
        second = socket.create_connection(("127.0.0.1", s.port), timeout=10)
        second.sendall(upload_headers(path, len(wav), editor))
        try:
            second.sendall(wav[:1200000])
        except (BrokenPipeError, ConnectionResetError):
            pass
        ans = read_answer(second)
        second.close()
        check(ans.startswith(b"HTTP/1.1 503 ") and b'"busy"' in ans, ans[:200])
        first.sendall(wav[1200000:])
        ans = read_answer(first, timeout=60)
        first.close()
        check(ans.startswith(b"HTTP/1.1 200 "), ans[:200])

        # The bound is free again: the same upload passes alone.
        r = s.request("PUT", path, wav, editor, headers={"Content-Type": "audio/wav"})
        check(r.status == 200, r)
        check(s.proc.poll() is None, "the server died")
        print("ok: refused bodies never buffered; max_bodies_bytes refuses the second upload (503)")
    return 0


if __name__ == "__main__":
    t0 = time.monotonic()
    rc = main()
    print("%.1f s" % (time.monotonic() - t0))
    sys.exit(rc)
