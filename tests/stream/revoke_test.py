"""A cluster's credentials end its stream at once; HEAD on a stream changes nothing (issue 14,
point 8).

Two clusters play a session. HEAD with k1's token answers 200 audio/ogg with no body, and k1's
receiver keeps streaming (before: HEAD replaced it and sent 21 KB of audio). Rotating k1's token
closes k1's open stream within a second and its old token gets 401; deleting k2 closes k2's
stream within a second. Off air, HEAD answers 503 like a GET, with Retry-After."""
import socket
import time

import streamkit as K
from streamkit import check


def head(port, path, token):
    """Status line, headers and whatever came after them until the server closed."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(("HEAD %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer %s\r\n\r\n"
                  % (path, token)).encode())
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    sock.close()
    head_, _, rest = data.partition(b"\r\n\r\n")
    return head_.decode("latin-1"), rest


def main():
    with K.Server(K.config()) as s:
        s.start()
        st = K.Setup(s, 2, [(20, 440)])
        (k1, tok1), (k2, tok2) = st.clusters
        h, rest = head(s.port, "/stream/%s.opus" % k1, tok1)
        check(h.startswith("HTTP/1.1 503") and "Retry-After:" in h and rest == b"", (h, rest))

        start, sess = st.session(2, minutes=1)
        K.wait_held(s)
        r1 = K.Receiver(s.port, "/stream/%s.opus" % k1, tok1)
        r2 = K.Receiver(s.port, "/stream/%s.opus" % k2, tok2)
        r1.start()
        r2.start()
        K.wait_for(lambda: r1.audio_now() > 2 and r2.audio_now() > 2, 30, "both receivers on air")

        # HEAD: the same answer as a GET, no body, and k1's receiver is not replaced
        before = K.metrics(s)["loacast_receivers_replaced_total"]
        h, rest = head(s.port, "/stream/%s.opus" % k1, tok1)
        check(h.startswith("HTTP/1.1 200") and "audio/ogg" in h and rest == b"", (h, rest[:40]))
        check(K.metrics(s)["loacast_receivers_replaced_total"] == before, "HEAD replaced k1")
        got = r1.audio_now()
        K.wait_for(lambda: r1.audio_now() > got + 1, 10, "k1 still receiving after HEAD")
        check(r1.is_alive(), "k1 was cut by a HEAD")

        # a new token: the stream opened with the old one ends now
        t0 = time.time()
        r = s.post("/api/v1/clusters/%s/token" % k1, None, st.admin)
        check(r.status == 200, r)
        K.wait_for(lambda: not r1.is_alive(), 5, "k1's stream to end after its token was rotated")
        cut1 = time.time() - t0
        check(cut1 < 1.0, "k1 cut %.2f s after the rotation" % cut1)
        check(s.get("/stream/%s.opus?token=%s" % (k1, tok1)).status == 401, "old token still works")
        check("its token was rotated" in s.logs(), "no log line for the rotation")

        # a deleted cluster (retired: it has history): its stream ends now
        t0 = time.time()
        r = s.request("DELETE", "/api/v1/clusters/%s" % k2, None, st.admin)
        check(r.status == 200 and r.json()["retired_at"], r)
        K.wait_for(lambda: not r2.is_alive(), 5, "k2's stream to end after its deletion")
        cut2 = time.time() - t0
        check(cut2 < 1.0, "k2 cut %.2f s after the deletion" % cut2)
        check(s.proc.poll() is None, "the server died")
        print("ok: HEAD changes nothing; streams end %.0f ms after a token rotation, %.0f ms after"
              " a deletion" % (cut1 * 1000, cut2 * 1000))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
