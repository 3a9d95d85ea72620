"""GET /media/{hash}.opus (SPEC "Receivers that store", Media), with real clients (urllib-level
http.client, curl) and real decoders (opusdec, ffprobe):

1. an approved recorded bulletin carries "media_hash", the BLAKE2b-256 of the very bytes
   GET /media/<hash>.opus returns (and its audio_hash is their SHA-256: the same file); the body
   decodes; ETag, Cache-Control, Content-Type, Accept-Ranges, Content-Length exact;
2. Range: bytes=a-b, a-, -n, past the end (clipped) → 206 with Content-Range and the exact
   bytes; from the end of the file on, and -0 → 416 with Content-Range: bytes */size; several
   ranges → 200 whole; If-Range naming another version → 200 whole;
3. If-None-Match (exact, weak, *, in a list) → 304 without a body; another tag → 200;
4. HEAD → the headers of GET, no body (also with a Range: 206);
5. who: no token, a wrong token (bearer and ?token=), a retired cluster's token (a cluster with
   history, DELETE retires it), a deleted cluster's token (no history) → 401 with
   WWW-Authenticate: Bearer; a receiver token (bearer and ?token=) and staff tokens of every role
   → 200;
6. a hash that is not 64 lowercase hex digits → 404 (even without a token); an unknown one →
   404 with a token, 401 without;
7. an emergency's text (POST /api/v1/emergency) gets its media hash too;
8. /metrics counts the answers by status and the body bytes, exactly;
9. [media] public = true → 200 without a token; a bad value stops the start naming the key.
"""
import hashlib
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "stream"))
from streamkit import Setup  # noqa: E402  (it puts tests/server, lcserver's, on the path)
from lcserver import LOACAST, Server, check, ffprobe  # noqa: E402

CACHE = "public, max-age=31536000, immutable"


def b2(data):
    return hashlib.blake2b(data, digest_size=32).hexdigest()


def media_metrics(s):
    """{status: count} of loacast_media_requests_total, and loacast_media_bytes_total."""
    text = s.get("/metrics").body.decode()
    codes = {int(c): int(v) for c, v in re.findall(r'^loacast_media_requests_total\{code="(\d+)"\} (\d+)$',
                                                   text, re.M)}
    m = re.search(r"^loacast_media_bytes_total (\d+)$", text, re.M)
    check(m is not None, "no loacast_media_bytes_total in /metrics")
    return codes, int(m.group(1))


def curl(s, path, *args):
    """(status, headers {lowercase: value}, body) of curl fetching path."""
    with tempfile.TemporaryDirectory() as d:
        hdr, out = os.path.join(d, "h"), os.path.join(d, "b")
        p = subprocess.run(["curl", "-sS", "-D", hdr, "-o", out] + list(args) +
                           ["http://127.0.0.1:%d%s" % (s.port, path)], capture_output=True, timeout=60)
        check(p.returncode == 0, p.stderr)
        lines = open(hdr, "rb").read().decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
        body = open(out, "rb").read() if os.path.exists(out) else b""  # none written for no body
        return status, headers, body


def decodes(data):
    """The body decodes with opusdec and ffprobe reads it as Opus; returns its duration (s)."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "m.opus")
        with open(path, "wb") as f:
            f.write(data)
        p = subprocess.run(["opusdec", "--quiet", path, os.path.join(d, "m.wav")], capture_output=True,
                           timeout=60)
        check(p.returncode == 0 and os.path.getsize(os.path.join(d, "m.wav")) > 44, p.stderr)
        codec, duration = ffprobe(path)
        check(codec == "opus", codec)
        return duration


def main():
    with Server() as s:
        s.start()
        # users, the commune quang-phu, clusters k1..k3, one approved recorded bulletin of 1.5 s
        st = Setup(s, 3, [(1.5, 660)])
        admin, editor, approver = st.admin, st.editor, st.approver
        operator = s.make_user(admin, "oanh", "operator")
        tok = dict(st.clusters)

        # 1. the recorded bulletin, approved: its media
        b = s.get("/api/v1/bulletins/%d" % st.bulletins[0], admin).json()
        h = b["media_hash"]
        check(isinstance(h, str) and re.fullmatch(r"[0-9a-f]{64}", h), b)
        path = "/media/%s.opus" % h
        before = media_metrics(s)
        r = s.get(path, tok["k1"])
        check(r.status == 200, r)
        body = r.body
        size = len(body)
        check(b2(body) == h, "the body's BLAKE2b-256 is not its media hash")
        check(hashlib.sha256(body).hexdigest() == b["audio_hash"] and size == b["audio_bytes"],
              "not the bulletin's audio file")
        check(r.headers["content-type"] == "audio/ogg", r.headers)
        check(r.headers["etag"] == '"%s"' % h, r.headers)
        check(r.headers["cache-control"] == CACHE, r.headers)
        check(r.headers["accept-ranges"] == "bytes", r.headers)
        check(int(r.headers["content-length"]) == size, r.headers)
        check(abs(decodes(body) - 1.5) < 0.1, "duration")
        # curl, a receiver's ?token= in the URL
        st, hd, cb = curl(s, path + "?token=" + tok["k1"])
        check(st == 200 and cb == body and hd["etag"] == '"%s"' % h and hd["cache-control"] == CACHE, (st, hd))

        # 2. ranges (curl's -r and raw headers)
        st, hd, cb = curl(s, path, "-r", "0-99", "-H", "Authorization: Bearer " + tok["k1"])
        check(st == 206 and cb == body[:100] and hd["content-range"] == "bytes 0-99/%d" % size, (st, hd))
        check(hd["etag"] == '"%s"' % h and hd["cache-control"] == CACHE, hd)
        for rng, part, cr in (("bytes=100-", body[100:], "100-%d" % (size - 1)),
                              ("bytes=-50", body[-50:], "%d-%d" % (size - 50, size - 1)),
                              ("bytes=10-%d" % (size * 10), body[10:], "10-%d" % (size - 1)),
                              ("bytes=-%d" % (size * 2), body, "0-%d" % (size - 1)),
                              ("bytes=%d-%d" % (size - 1, size - 1), body[-1:], "%d-%d" % (size - 1, size - 1))):
            r = s.get(path, tok["k1"], headers={"Range": rng})
            check(r.status == 206 and r.body == part and r.headers["content-range"] == "bytes %s/%d" % (cr, size)
                  and int(r.headers["content-length"]) == len(part), (rng, r, r.headers))
        for rng in ("bytes=%d-" % size, "bytes=%d-%d" % (size + 5, size + 10), "bytes=-0"):
            r = s.get(path, tok["k1"], headers={"Range": rng})
            check(r.status == 416 and r.headers["content-range"] == "bytes */%d" % size, (rng, r, r.headers))
            check(r.json()["error"] == "bad_range", r)
        for rng in ("bytes=0-1,5-6", "items=0-5", "bytes=5-2", "bytes=x-"):
            r = s.get(path, tok["k1"], headers={"Range": rng})
            check(r.status == 200 and r.body == body, (rng, r))
        r = s.get(path, tok["k1"], headers={"Range": "bytes=0-9", "If-Range": '"%s"' % ("0" * 64)})
        check(r.status == 200 and r.body == body, "If-Range of another version: %r" % r)
        r = s.get(path, tok["k1"], headers={"Range": "bytes=0-9", "If-Range": '"%s"' % h})
        check(r.status == 206 and r.body == body[:10], "If-Range of this version: %r" % r)

        # 3. If-None-Match
        for inm in ('"%s"' % h, 'W/"%s"' % h, "*", '"abc", "%s"' % h):
            r = s.get(path, tok["k1"], headers={"If-None-Match": inm})
            check(r.status == 304 and r.body == b"" and r.headers["etag"] == '"%s"' % h, (inm, r))
            check(r.headers["cache-control"] == CACHE, r.headers)
        st, hd, cb = curl(s, path, "-H", 'If-None-Match: "%s"' % h, "-H", "Authorization: Bearer " + tok["k1"])
        check(st == 304 and cb == b"", (st, hd))
        r = s.get(path, tok["k1"], headers={"If-None-Match": '"%s"' % ("0" * 64)})
        check(r.status == 200 and r.body == body, r)

        # 4. HEAD
        r = s.request("HEAD", path, token=tok["k1"])
        check(r.status == 200 and r.body == b"" and int(r.headers["content-length"]) == size, (r, r.headers))
        check(r.headers["etag"] == '"%s"' % h and r.headers["cache-control"] == CACHE, r.headers)
        st, hd, _ = curl(s, path, "-I", "-H", "Authorization: Bearer " + tok["k1"])  # -o gets the head
        check(st == 200 and int(hd["content-length"]) == size, (st, hd))
        r = s.request("HEAD", path, token=tok["k1"], headers={"Range": "bytes=0-99"})
        check(r.status == 206 and r.body == b"" and r.headers["content-length"] == "100", (r, r.headers))

        # 5. who may fetch
        r = s.post("/api/v1/receivers/k2/status", {"volume": 80}, tok["k2"])
        check(r.status == 204, r)  # k2 has history now: DELETE retires it
        r = s.get(path, tok["k2"])
        check(r.status == 200, "k2 before it retired: %r" % r)
        r = s.request("DELETE", "/api/v1/clusters/k2", None, admin)
        check(r.status == 200 and r.json()["retired_at"], r)
        r = s.request("DELETE", "/api/v1/clusters/k3", None, admin)
        check(r.status == 204, "k3 (no history) is deleted: %r" % r)
        refused = [("no token", {}), ("a wrong bearer", {"Authorization": "Bearer " + "x" * 43}),
                   ("a retired cluster's token", {"Authorization": "Bearer " + tok["k2"]}),
                   ("a deleted cluster's token", {"Authorization": "Bearer " + tok["k3"]})]
        for what, hdrs in refused:
            r = s.get(path, headers=hdrs)
            check(r.status == 401 and r.headers.get("www-authenticate") == "Bearer", (what, r, r.headers))
            check(r.json()["error"] == "unauthorized", r)
        for what, q in (("a wrong ?token=", "x" * 43), ("a retired ?token=", tok["k2"])):
            r = s.get(path + "?token=" + q)
            check(r.status == 401, (what, r))
        st, hd, cb = curl(s, path)
        check(st == 401 and hd["www-authenticate"] == "Bearer", (st, hd))
        for who, t in (("admin", admin), ("editor", editor), ("approver", approver), ("operator", operator)):
            r = s.get(path, t)
            check(r.status == 200 and r.body == body, (who, r))

        # 6. hashes that name nothing
        for bad in (h.upper(), h[:63], h + "0", "x" * 64, "..%2f" + h[5:], "abc"):
            r = s.get("/media/%s.opus" % bad, tok["k1"])
            check(r.status == 404 and r.json()["error"] == "not_found", (bad, r))
            r = s.get("/media/%s.opus" % bad)
            check(r.status == 404, ("no token", bad, r))
        unknown = "/media/%s.opus" % ("0" * 64)
        check(s.get(unknown, tok["k1"]).status == 404, "unknown hash with a token")
        check(s.get(unknown).status == 401, "unknown hash without a token: nothing is told")

        # 7. an emergency's media
        r = s.post("/api/v1/emergency", {"text": "Khẩn cấp: lũ quét, bà con lên chỗ cao ngay.",
                                         "communes": ["quang-phu"]}, approver)
        check(r.status == 201, r)
        eb = s.get("/api/v1/bulletins/%d" % r.json()["bulletin"], admin).json()
        check(eb["priority"] == "emergency" and re.fullmatch(r"[0-9a-f]{64}", eb["media_hash"] or ""), eb)
        r = s.get("/media/%s.opus" % eb["media_hash"], tok["k1"])
        check(r.status == 200 and b2(r.body) == eb["media_hash"], r)
        check(hashlib.sha256(r.body).hexdigest() == eb["audio_hash"], "not the emergency's file")
        check(decodes(r.body) > 1, "the emergency's duration")

        # 8. what /metrics counted since `before`, exactly
        codes, nbytes = media_metrics(s)
        delta = {c: codes.get(c, 0) - before[0].get(c, 0) for c in set(codes) | set(before[0])}
        # whole-file bodies: the first GET, curl's, 4 ranges ignored, If-Range of another
        # version, If-None-Match of another, k2 before it retired, 4 staff roles
        whole = 1 + 1 + 4 + 1 + 1 + 1 + 4
        ranged = 100 + (size - 100) + 50 + (size - 10) + size + 1 + 10
        check(delta.get(200) == whole + 1 + 2, delta)   # + the emergency's, + 2 HEADs (no body)
        check(delta.get(206) == 8 and delta.get(416) == 3 and delta.get(304) == 5, delta)  # 8: a HEAD
        check(delta.get(401) == 8 and delta.get(404) == 13, delta)
        check(nbytes - before[1] == whole * size + ranged + len(r.body), (nbytes - before[1], size))
        s.stop()

        # 9. [media] public = true: a cache in front may fetch without a token
        with open(s.config_path, "a") as f:
            f.write("[media]\npublic = true\n")
        s.start()
        r = s.get(path)
        check(r.status == 200 and r.body == body and r.headers["cache-control"] == CACHE, r)
        st, hd, cb = curl(s, path, "-r", "-10")
        check(st == 206 and cb == body[-10:], (st, hd))
        check(s.get("/media/%s.opus" % ("0" * 64)).status == 404, "public: unknown is 404")
        s.stop()
        with open(s.config_path, "a") as f:
            f.write("[media]\npublic = maybe\n")
        p = subprocess.run([LOACAST, "serve", "--config", s.config_path], capture_output=True, timeout=60)
        check(p.returncode != 0 and b"[media] public: expected true or false" in p.stderr, p.stderr)
        p = subprocess.run([LOACAST, "serve", "--print-config"], capture_output=True, timeout=60, check=True)
        check(b"[media]\npublic = false" in p.stdout, p.stdout[-400:])
    print("ok: media %s (%d bytes): 200/206/304/416/401/404, HEAD, public" % (h[:12], size))


if __name__ == "__main__":
    main()
