"""A real nginx with proxy_cache in front of GET /media (docs/receivers.md, "A cache in front:
nginx"): 20 clients prefetch two media files through it at once, and loacast sends each file
exactly once.

The nginx configuration is the block of docs/receivers.md itself (read from the file, with this
test's ports and a temporary cache directory put in), wrapped in the few lines a test needs
(daemon off, pid, logs and temporary paths in a temporary directory). loacast runs with
[media] public = true. Then:
1. 20 threads, started together by a barrier, each fetch both files (half of them in the other
   order): every body's BLAKE2b-256 is its hash, ETag and Cache-Control come through nginx;
2. loacast's /metrics: loacast_media_requests_total{code="200"} is 2 — each file left loacast
   once — and nothing else was asked of it; X-Cache-Status says one MISS per file, HIT for the
   rest (reported);
3. ranges (bytes=0-99, bytes=-10) and If-None-Match through nginx are answered from its cache
   (206 with the exact bytes, 304), and loacast still sent nothing more.
Skipped (77) when nginx is not installed (scripts/install-deps.sh --test installs it)."""
import hashlib
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "stream"))
from streamkit import Setup  # noqa: E402  (it puts tests/server, lcserver's, on the path)
from lcserver import Server, check, free_port, wait_for  # noqa: E402

CLIENTS = 20
DOC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "receivers.md")
CACHE = "public, max-age=31536000, immutable"


def doc_block():
    """The nginx block of docs/receivers.md's section "A cache in front: nginx"."""
    text = open(DOC, encoding="utf-8").read()
    m = re.search(r"^### A cache in front: nginx\n.*?^```nginx\n(.*?)^```", text, re.S | re.M)
    check(m is not None, "docs/receivers.md: no nginx block under \"### A cache in front: nginx\"")
    return m.group(1)


def nginx_conf(tmp, loacast_port, port):
    block = doc_block()
    for old, new in (("/var/cache/nginx/loacast", os.path.join(tmp, "cache")),
                     ("server 127.0.0.1:8480;", "server 127.0.0.1:%d;" % loacast_port),
                     ("listen 80;", "listen 127.0.0.1:%d;" % port)):
        check(old in block, "docs/receivers.md's nginx block no longer has %r" % old)
        block = block.replace(old, new)
    temp = "\n".join("    %s_temp_path %s;" % (k, os.path.join(tmp, k))
                     for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return ("daemon off;\nworker_processes 2;\npid %s;\nerror_log %s info;\n"
            "events { worker_connections 256; }\n"
            "http {\n    access_log %s;\n%s\n%s\n}\n" %
            (os.path.join(tmp, "nginx.pid"), os.path.join(tmp, "error.log"),
             os.path.join(tmp, "access.log"), temp, block))


class Nginx:
    def __init__(self, loacast_port):
        self.tmp = tempfile.mkdtemp(prefix="loacast-nginx-")
        os.chmod(self.tmp, 0o755)   # run as root, nginx's workers (nobody) make the cache here
        self.port = free_port()
        self.conf = os.path.join(self.tmp, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(nginx_conf(self.tmp, loacast_port, self.port))
        self.proc = subprocess.Popen(["nginx", "-c", self.conf, "-p", self.tmp + "/",
                                      "-e", os.path.join(self.tmp, "error.log")],
                                     stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.tmp, "stderr"), "wb"))

        def up():
            if self.proc.poll() is not None:
                raise AssertionError("nginx exited with %s:\n%s" % (self.proc.returncode, self.logs()))
            with socket.create_connection(("127.0.0.1", self.port), timeout=5):
                return True
        wait_for(up, 30, "nginx to listen", interval=0.05, errors=(OSError,))

    def logs(self):
        out = []
        for name in ("stderr", "error.log"):
            p = os.path.join(self.tmp, name)
            if os.path.exists(p):
                out.append(open(p, "rb").read().decode("utf-8", "replace")[-4000:])
        return "\n".join(out)

    def get(self, path, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            c.request("GET", path, headers=headers or {})
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            c.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)   # graceful: workers finish, then exit
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


def media_counts(s):
    text = s.get("/metrics").body.decode()
    return {int(c): int(v) for c, v in re.findall(r'^loacast_media_requests_total\{code="(\d+)"\} (\d+)$',
                                                  text, re.M)}


def main():
    if shutil.which("nginx") is None:
        print("nginx is not installed (sh scripts/install-deps.sh --test)")
        sys.exit(77)
    with Server("[media]\npublic = true\n") as s:
        s.start()
        st = Setup(s, 0, [(6, 440), (4, 880)])     # two approved recorded bulletins
        hashes = [s.get("/api/v1/bulletins/%d" % b, st.admin).json()["media_hash"] for b in st.bulletins]
        check(media_counts(s) == {}, "loacast sent media before the test: %r" % media_counts(s))
        ng = Nginx(s.port)
        try:
            # 1. 20 clients at once, both files each
            barrier = threading.Barrier(CLIENTS)
            results, errors = [], []
            lock = threading.Lock()

            def client(i):
                try:
                    barrier.wait(60)
                    order = hashes if i % 2 == 0 else hashes[::-1]
                    for h in order:
                        st, hd, body = ng.get("/media/%s.opus" % h)
                        with lock:
                            results.append((h, st, hd, body))
                except Exception as e:  # reported below, with the others
                    with lock:
                        errors.append("client %d: %r" % (i, e))
            threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(180)
            check(not errors and not any(t.is_alive() for t in threads), errors or "a client hung")
            check(len(results) == 2 * CLIENTS, len(results))
            cache = {h: {} for h in hashes}
            for h, st, hd, body in results:
                check(st == 200, (st, hd, body[:200]))
                check(hashlib.blake2b(body, digest_size=32).hexdigest() == h, "a body is not its hash")
                check(hd.get("etag") == '"%s"' % h and hd.get("cache-control") == CACHE, hd)
                check(hd.get("content-type") == "audio/ogg", hd)
                st_ = hd.get("x-cache-status", "?")
                cache[h][st_] = cache[h].get(st_, 0) + 1

            # 2. what reached loacast: each file once
            counts = media_counts(s)
            check(counts == {200: 2}, "loacast answered %r for %d requests through nginx (cache: %r)"
                  % (counts, 2 * CLIENTS, cache))
            for h in hashes:
                check(cache[h].get("MISS") == 1, "file %s: %r" % (h[:12], cache[h]))

            # 3. ranges and revalidation, answered from nginx's cache
            h = hashes[0]
            whole = next(b for x, _, _, b in results if x == h)
            size = len(whole)
            for rng, part, cr in (("bytes=0-99", whole[:100], "0-99"),
                                  ("bytes=-10", whole[-10:], "%d-%d" % (size - 10, size - 1))):
                st, hd, body = ng.get("/media/%s.opus" % h, {"Range": rng})
                check(st == 206 and body == part and hd.get("content-range") == "bytes %s/%d" % (cr, size),
                      (rng, st, hd))
                check(hd.get("x-cache-status") == "HIT", hd)
            st, hd, body = ng.get("/media/%s.opus" % h, {"If-None-Match": '"%s"' % h})
            check(st == 304 and body == b"", (st, hd))
            check(media_counts(s) == {200: 2}, "loacast was asked again: %r" % media_counts(s))
        except AssertionError:
            sys.stderr.write("---- nginx ----\n" + ng.logs() + "\n")
            raise
        finally:
            ng.stop()
        s.stop()
    print("ok: %d clients x %d files through nginx: loacast sent each file once; X-Cache-Status %s"
          % (CLIENTS, len(hashes), "; ".join("%s… %s" % (h[:8], sorted(c.items())) for h, c in cache.items())))


if __name__ == "__main__":
    main()
