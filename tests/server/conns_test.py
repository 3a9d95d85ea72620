"""Connections without a token cannot lock staff or receivers out (issue 14, point 7).

Measured before: 300 idle sockets at max_connections = 300 locked staff out (503 for everyone),
and a body trickling one byte a little faster than body_timeout_ms was never cut.

With max_connections = 80, reserve_staff = 8 and reserve_receivers_percent = 50, clients without
a token may hold 32 connections, 10 per address:
1. the 11th idle connection of one address is admitted on probation and closed after
   probation_ms (the first 10 stay open); a probation connection's tokenless request is answered
   and closed;
2. 200 idle connections from 10 addresses (more than max_connections, all taken): staff log in
   and read bulletins, a receiver posts its status — each on a fresh connection from yet another
   address, for which the oldest idle tokenless connection is closed; once probation ran out,
   the flood holds at most 32;
3. receivers on keep-alive connections may hold all but the staff's reserve (72): the 73rd
   receiver request gets 503 `busy` with Retry-After, and staff still get in;
4. a body trickled one byte every 0.3 s (each byte inside body_timeout_ms) is cut with 408 at
   its overall deadline (body_timeout_ms + Content-Length / min_body_rate), not after the 600 s
   the trickle would take.
Connections come from distinct loopback source addresses (127.0.0.x) to the server on 127.0.0.1.
"""
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lcserver import Server, check, wait_for  # noqa: E402

CONFIG = """
[server]
max_connections = 80
[limits]
reserve_staff = 8
reserve_receivers_percent = 50
max_anonymous_per_address = 10
probation_ms = 1500
idle_timeout_ms = 120000
header_timeout_ms = 120000
body_timeout_ms = 3000
min_body_rate = 200
"""


def connect(port, src):
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.bind((src, 0))
    c.settimeout(10)
    c.connect(("127.0.0.1", port))
    return c


def closed(sock):
    """True when the server closed this connection (EOF or reset), without waiting."""
    sock.setblocking(False)
    try:
        data = sock.recv(65536)
        return data == b"" or b"503" in data[:16]
    except BlockingIOError:
        return False
    except (ConnectionResetError, OSError):
        return True
    finally:
        sock.setblocking(True)


def exchange(sock, request, timeout=10):
    """Sends one request and reads one answer (headers and Content-Length body)."""
    sock.settimeout(timeout)
    sock.sendall(request)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def status_of(answer):
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0


def get(path, token):
    return (b"GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n"
            % (path.encode(), token.encode()))


def receiver_status(cluster, token):
    body = b'{"volume":50}'
    return (b"POST /api/v1/receivers/%s/status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
            % (cluster.encode(), token.encode(), len(body), body))


def metric(s, name):
    text = s.get("/metrics").body.decode()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError("no metric " + name)


def main():
    with Server(CONFIG) as s:
        s.start()
        admin = s.admin()
        check(s.post("/api/v1/communes", {"id": "xa", "name": "Xã", "population": 100}, admin).status == 201,
              "commune")
        r = s.post("/api/v1/clusters", {"id": "k1", "commune": "xa", "name": "Cụm 1", "population": 10}, admin)
        check(r.status == 201, r)
        ktoken = r.json()["token"]

        # 1. ten idle connections of one address stay; the eleventh is on probation.
        mine = [connect(s.port, "127.0.0.2") for _ in range(10)]
        extra = connect(s.port, "127.0.0.2")
        t0 = time.monotonic()
        wait_for(lambda: closed(extra), 10, "the 11th idle connection of an address closed")
        waited = time.monotonic() - t0
        check(1.0 <= waited <= 6, "closed after probation_ms (1.5 s), took %.2f s" % waited)
        check(not any(closed(c) for c in mine), "the first 10 connections of the address stay open")
        probe = connect(s.port, "127.0.0.2")
        a = exchange(probe, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        check(status_of(a) == 200 and b"Connection: close" in a,
              "a probation connection's tokenless request is answered, then closed: %r" % a[:200])
        wait_for(lambda: closed(probe), 5, "the probation connection closed after its answer")
        check(metric(s, "loacast_http_probation_closed_total") >= 2, "probation closes counted")
        for c in mine:
            c.close()

        # 2. a flood of idle connections from many addresses.
        flood = []
        refused = 0
        for i in range(200):
            try:
                flood.append(connect(s.port, "127.0.0.%d" % (10 + i % 10)))
            except OSError:
                refused += 1
        staff = connect(s.port, "127.0.0.50")
        login = b'{"username":"admin","password":"%s"}' % s.admin_password.encode()
        a = exchange(staff, b"POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                            b"Content-Length: %d\r\n\r\n%s" % (len(login), login))
        check(status_of(a) == 200, "staff log in during the flood: %r" % a[:200])
        staff2 = connect(s.port, "127.0.0.51")
        a = exchange(staff2, get("/api/v1/bulletins", admin))
        check(status_of(a) == 200, "staff read bulletins during the flood: %r" % a[:200])
        a = exchange(staff2, get("/api/v1/communes", admin))
        check(status_of(a) == 200, "a vouched staff connection stays open for its next request")
        recv = connect(s.port, "127.0.0.52")
        a = exchange(recv, receiver_status("k1", ktoken))
        check(status_of(a) == 204, "a receiver reports during the flood: %r" % a[:200])
        check(metric(s, "loacast_http_evicted_total") >= 3, "newcomers evicted idle tokenless ones")
        wait_for(lambda: metric(s, 'loacast_http_connections_by_kind{kind="probation"}') <= 1, 10,
                 "the flood's probation connections closed (the one asking may be one)")
        held = sum(1 for c in flood if not closed(c))
        check(held <= 32, "clients without a token hold at most 32 connections (hold %d)" % held)
        for c in flood + [staff, staff2, recv]:
            c.close()
        wait_for(lambda: metric(s, "loacast_http_connections") <= 2, 10, "the flood's connections closed")

        # 3. receivers hold all but the staff's reserve.
        receivers = []
        answer = b""
        for i in range(80):
            c = connect(s.port, "127.0.0.%d" % (100 + i // 8))
            answer = exchange(c, receiver_status("k1", ktoken))
            receivers.append(c)
            if status_of(answer) != 204:
                break
        check(status_of(answer) == 503 and b"Retry-After" in answer and b"busy" in answer,
              "the receiver past the bound gets 503 busy: %r" % answer[:300])
        check(len(receivers) == 73, "72 receivers were admitted (admitted %d)" % (len(receivers) - 1))
        staff3 = connect(s.port, "127.0.0.53")
        a = exchange(staff3, get("/api/v1/clusters", admin))
        check(status_of(a) == 200, "staff get in while receivers hold their whole share: %r" % a[:200])
        check(metric(s, "loacast_http_receivers_refused_total") >= 1, "refused receivers counted")
        for c in receivers + [staff3]:
            c.close()

        # 4. a trickled body has an overall deadline: 3 s + 2000 / 200 = 13 s.
        slow = connect(s.port, "127.0.0.60")
        slow.sendall(b"POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 2000\r\n\r\n")
        stop = threading.Event()

        def trickle():
            try:
                while not stop.wait(0.3):
                    slow.send(b" ")
            except OSError:
                pass

        t0 = time.monotonic()
        th = threading.Thread(target=trickle, daemon=True)
        th.start()
        slow.settimeout(60)
        data = b""
        while b"\r\n" not in data:
            chunk = slow.recv(4096)
            if not chunk:
                break
            data += chunk
        took = time.monotonic() - t0
        stop.set()
        check(status_of(data) == 408, "the trickled body is cut with 408: %r" % data[:200])
        check(10 <= took <= 25, "cut at its overall deadline (13 s), took %.1f s" % took)
        print("probation close %.2f s, flood held %d of 200 (refused %d), trickle cut at %.1f s"
              % (waited, held, refused, took))
    print("ok")


if __name__ == "__main__":
    main()
