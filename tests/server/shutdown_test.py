"""Clean shutdown: SIGINT while bulletins are rendering and a client holds an idle keep-alive
connection → the server exits 0 (under ASan: no leaks) after the running render stored its
result; after a restart every accepted bulletin ends up rendered."""
import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lcserver import Server, check  # noqa: E402

LONG = "Bà con chú ý: đây là thông báo dài để thử việc dừng máy chủ giữa chừng. " * 30


def main():
    with Server("[audio]\nrender_workers = 1\n") as s:
        s.start()
        admin = s.admin()
        check(s.post("/api/v1/communes", {"id": "quang-phu", "name": "Quảng Phú"}, admin).status == 201, "")
        ids = []
        for i in range(3):
            r = s.post("/api/v1/bulletins", {"title": "Dài %d" % i, "text": LONG, "communes": ["*"]}, admin)
            check(r.status == 202, r)
            ids.append(r.json()["id"])
        idle = socket.create_connection(("127.0.0.1", s.port))
        idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        check(idle.recv(4096).startswith(b"HTTP/1.1 200"), "keep-alive")
        t0 = time.monotonic()
        s.proc.send_signal(signal.SIGINT)
        rc = s.proc.wait(60)
        check(rc == 0, "exit %d:\n%s" % (rc, s.logs()))
        check(idle.recv(4096) == b"", "idle connection left open")
        idle.close()
        sys.stderr.write("stopped in %.2f s\n" % (time.monotonic() - t0))
        s.proc = None
        s.start()
        admin = s.admin()
        for bid in ids:
            b = s.wait_status(admin, bid, ("pending", "failed"), timeout=100)
            check(b["status"] == "pending", b)
        s.stop()
    print("ok")


if __name__ == "__main__":
    main()
