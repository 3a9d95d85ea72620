"""Replaced and cloned receivers are visible (issue 15, point 4).

Before, a second connection with the same cluster token cut the first one silently (the box could
not tell "replaced" from "finished"), and two boxes cloned with one token knocked each other off
forever, unseen. Now, on air, with k1's token:
- a connection from 127.0.0.2 is replaced by one from 127.0.0.3: the first ends cleanly (EOF, not
  a reset) with an Ogg end-of-stream page right after the last page it got (same serial, the
  next sequence number, no packet and granule -1, a valid CRC) that opusinfo accepts, and the
  server logs the replacement;
- after three replacements from different addresses the cluster is flagged as a likely cloned
  token: clone_suspected {"at","addresses"} in the clusters API, loacast_cluster_clone_suspected
  in /metrics; a new token clears it."""
import re
import socket
import struct
import threading

import streamkit as K
from streamkit import check


def ogg_crc(data):
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if crc & 0x80000000 else (crc << 1) & 0xFFFFFFFF
    return crc


def pages(body):
    out, i = [], 0
    while i + 27 <= len(body) and body[i:i + 4] == b"OggS":
        nseg = body[i + 26]
        size = 27 + nseg + sum(body[i + 27:i + 27 + nseg])
        out.append(body[i:i + size])
        i += size
    return out


class Box(threading.Thread):
    """A raw stream client from a given source address; reads to the end."""

    def __init__(self, port, path, token, src):
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.bind((src, 0))
        self.sock.connect(("127.0.0.1", port))
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n"
                           % (path, token)).encode())
        self.data = b""
        self.end = None     # "eof" or "reset"

    def run(self):
        self.sock.settimeout(60)
        try:
            while True:
                d = self.sock.recv(65536)
                if not d:
                    self.end = "eof"
                    break
                self.data += d
        except (ConnectionResetError, socket.timeout):
            self.end = "reset"
        self.sock.close()

    def body(self):
        i = self.data.find(b"\r\n\r\n")
        return self.data[i + 4:] if i >= 0 else b""


def metric(s, name):
    for line in s.get("/metrics").body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def main():
    with K.Server(K.config()) as s:
        s.start()
        st = K.Setup(s, 1, [(30, 440)])
        k1, tok = st.clusters[0]
        path = "/stream/%s.opus" % k1
        st.session(1)
        K.wait_for(lambda: s.get("/api/v1/communes/%s/programme" % st.commune, st.admin).json()
                   ["sessions"] and any(x["status"] == "on_air" for x in s.get(
                       "/api/v1/communes/%s/programme" % st.commune, st.admin).json()["sessions"]),
                   30, "the session on air")
        boxes = []
        for src in ("127.0.0.2", "127.0.0.3", "127.0.0.2", "127.0.0.3"):
            b = Box(s.port, path, tok, src)
            b.start()
            if boxes:
                K.wait_for(lambda: boxes[-1].end is not None, 20, "the replaced connection to end")
            K.wait_for(lambda: len(pages(b.body())) >= 4, 20, "the new connection to stream")
            boxes.append(b)

        first = boxes[0]
        check(first.end == "eof", "the replaced connection ended cleanly, not %s" % first.end)
        ps = pages(first.body())
        last, before = ps[-1], ps[-2]
        check(last[5] & 0x04 and last[26] == 0, "an empty end-of-stream page last")
        check(last[14:18] == before[14:18], "the same serial as the page before it")
        check(last[6:14] == b"\xff" * 8, "granule -1: no packet ends on it")
        seq = struct.unpack("<I", last[18:22])[0]
        check(seq == struct.unpack("<I", before[18:22])[0] + 1, "the next sequence number")
        check(struct.unpack("<I", last[22:26])[0] == ogg_crc(last[:22] + b"\0\0\0\0" + last[26:]),
              "a valid CRC")
        check("replaced by a new connection from 127.0.0.3" in s.logs(), "the replacement is logged")
        # every connect and drop is a line too (issue 20: a technician sees boxes come and go)
        check("%s connected from 127.0.0.2: commune %s, session" % (k1, st.commune) in s.logs() and
              "%s connected from 127.0.0.3" % k1 in s.logs(), "the connects are logged")
        K.wait_for(lambda: re.search(r"%s from 127\.0\.0\.2 disconnected after \d+ s" % re.escape(k1), s.logs()),
                   10, "the replaced connection's drop line")

        K.wait_for(lambda: s.get("/api/v1/clusters/%s" % k1, st.admin).json()["clone_suspected"], 10,
                   "the cluster flagged")
        c = s.get("/api/v1/clusters/%s" % k1, st.admin).json()
        check(sorted(c["clone_suspected"]["addresses"]) == ["127.0.0.2", "127.0.0.3"], c)
        name = 'loacast_cluster_clone_suspected{commune="%s",cluster="%s"}' % (st.commune, k1)
        check(metric(s, name) == 1, "the metric")
        r = s.post("/api/v1/clusters/%s/token" % k1, None, st.admin)
        check(r.status == 200, r)
        check(s.get("/api/v1/clusters/%s" % k1, st.admin).json()["clone_suspected"] is None, "cleared")
        check(metric(s, name) is None, "the metric cleared")
        for b in boxes:
            b.sock.close() if b.end is None else None
    print("ok")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
