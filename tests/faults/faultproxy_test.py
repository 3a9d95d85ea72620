"""The fault-injecting proxy itself (tests/faults/faultproxy.py), against a plain TCP server that
sends 200 kB: throttled to 50 kB/s it takes 4 s (±25 %); cut after 30,000 bytes the client gets
exactly those and then EOF; stalled, nothing arrives until resume, then the rest; refusing, a new
connection is closed at once. The receiver's tests rely on each of these."""
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faultproxy import FaultProxy  # noqa: E402

PAYLOAD = bytes(range(256)) * 800  # 204,800 bytes


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def server():
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)

    def serve():
        while True:
            c, _ = ls.accept()
            threading.Thread(target=lambda: (c.sendall(PAYLOAD), c.close()), daemon=True).start()
    threading.Thread(target=serve, daemon=True).start()
    return ls.getsockname()[1]


def fetch(port, chunks=None, timeout=30):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    got = bytearray()
    while True:
        try:
            d = s.recv(65536)
        except ConnectionResetError:
            break
        if not d:
            break
        got += d
        if chunks is not None:
            chunks.append((time.monotonic(), len(got)))
    s.close()
    return bytes(got)


def wait_for(cond, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.02)
    raise AssertionError("waited %.1f s for %s" % (timeout, what))


def main():
    port = server()
    with FaultProxy(port) as p:
        t0 = time.monotonic()
        check(fetch(p.port) == PAYLOAD, "plain: the payload")
        plain = time.monotonic() - t0

        p.throttle(50_000)
        t0 = time.monotonic()
        check(fetch(p.port) == PAYLOAD, "throttled: the payload")
        took = time.monotonic() - t0
        check(3.0 <= took <= 5.5, "throttled to 50 kB/s, 204.8 kB took %.2f s" % took)
        p.throttle(None)

        p.cut_after(30_000)
        got = fetch(p.port)
        check(got == PAYLOAD[:30_000], "cut: %d bytes" % len(got))
        p.cut_after(None)

        p.stall()
        chunks, out = [], {}
        th = threading.Thread(target=lambda: out.update(body=fetch(p.port, chunks)), daemon=True)
        th.start()
        wait_for(lambda: p.connections >= 4, 5, "the stalled connection")
        t_stall = time.monotonic()
        wait_for(lambda: time.monotonic() - t_stall > 1.0, 2, "a second of stall")
        check(not chunks, "bytes arrived while stalled: %r" % chunks[:3])
        p.resume()
        th.join(10)
        check(out.get("body") == PAYLOAD, "stalled then resumed: the whole payload")

        p.refuse(True)
        check(fetch(p.port) == b"", "refused: nothing")
        p.refuse(False)
    print("ok (plain %.3f s, throttled %.2f s)" % (plain, took))


if __name__ == "__main__":
    main()
