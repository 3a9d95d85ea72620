"""The complete nginx site of docs/proxy.md in front of loacast, over real TLS (issue 20, point 3).

The two nginx blocks are read from docs/proxy.md itself; the test puts in its ports, a
self-signed certificate made by openssl, and temporary directories, and runs a real nginx. loacast
runs with trusted_proxies = 127.0.0.1 and an access log. From the client address 127.0.0.5:
- a failed and a good login over HTTPS are audited under 127.0.0.5 (not nginx's 127.0.0.1);
- a stream URL with ?token= passes, and the token is in neither nginx's access log nor
  loacast's (both logged the request);
- a media file fetched twice: the second is a cache HIT, loacast sent it once;
- plain HTTP: the console is redirected to HTTPS, a receiver's route is served.
Skipped (77) without nginx or openssl."""
import http.client
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "stream"))
from streamkit import Setup  # noqa: E402  (puts tests/server on the path)
from lcserver import Server, check, free_port, wait_for  # noqa: E402

DOC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "proxy.md")
CLIENT = "127.0.0.5"
SECRET = "SeCrEtToKeN0123456789"


def doc_blocks():
    text = open(DOC, encoding="utf-8").read()
    blocks = re.findall(r"^```nginx\n(.*?)^```", text, re.S | re.M)
    check(len(blocks) == 2, "docs/proxy.md: expected the site and loacast-proxy.conf, found %d blocks" % len(blocks))
    return blocks


def subst(block, pairs):
    for old, new in pairs:
        check(old in block, "docs/proxy.md's nginx block no longer has %r" % old)
        block = block.replace(old, new)
    return block


class Site:
    def __init__(self, loacast_port):
        self.tmp = tempfile.mkdtemp(prefix="loacast-site-")
        os.chmod(self.tmp, 0o755)   # nginx's workers (nobody) write the cache here
        self.http, self.https = free_port(), free_port()
        cert, key = os.path.join(self.tmp, "cert.pem"), os.path.join(self.tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=localhost", "-keyout", key, "-out", cert],
                       check=True, capture_output=True)
        site, proxy = doc_blocks()
        self.access = os.path.join(self.tmp, "nginx-access.log")
        inc = os.path.join(self.tmp, "loacast-proxy.conf")
        with open(inc, "w") as f:
            f.write(proxy)
        site = subst(site, [
            ("listen 80;", "listen 127.0.0.1:%d;" % self.http),
            ("listen 443 ssl;", "listen 127.0.0.1:%d ssl;" % self.https),
            ("/etc/letsencrypt/live/loa.example.gov.vn/fullchain.pem", cert),
            ("/etc/letsencrypt/live/loa.example.gov.vn/privkey.pem", key),
            ("/var/cache/nginx/loacast", os.path.join(self.tmp, "cache")),
            ("/var/log/nginx/loacast.access.log", self.access),
            ("/etc/nginx/loacast-proxy.conf", inc),
            ("server 127.0.0.1:8480;", "server 127.0.0.1:%d;" % loacast_port)])
        temp = "\n".join("    %s_temp_path %s;" % (k, os.path.join(self.tmp, k))
                         for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        conf = os.path.join(self.tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write("daemon off;\nworker_processes 1;\npid %s;\nerror_log %s info;\n"
                    "events { worker_connections 256; }\nhttp {\n%s\n%s\n}\n" %
                    (os.path.join(self.tmp, "nginx.pid"), os.path.join(self.tmp, "error.log"), temp, site))
        self.proc = subprocess.Popen(["nginx", "-c", conf, "-p", self.tmp + "/", "-e",
                                      os.path.join(self.tmp, "error.log")], stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.tmp, "stderr"), "wb"))

        def up():
            if self.proc.poll() is not None:
                raise AssertionError("nginx exited: %s" % open(os.path.join(self.tmp, "stderr")).read())
            with socket.create_connection(("127.0.0.1", self.https), timeout=5):
                return True
        wait_for(up, 30, "nginx to listen", interval=0.05, errors=(OSError,))
        self.ctx = ssl.create_default_context(cafile=cert)
        self.ctx.check_hostname = False

    def request(self, method, path, body=None, headers=None, tls=True):
        if tls:
            c = http.client.HTTPSConnection("127.0.0.1", self.https, timeout=60, context=self.ctx,
                                            source_address=(CLIENT, 0))
        else:
            c = http.client.HTTPConnection("127.0.0.1", self.http, timeout=60, source_address=(CLIENT, 0))
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            c.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)


def main():
    if shutil.which("nginx") is None or shutil.which("openssl") is None:
        print("nginx or openssl is not installed (sh scripts/install-deps.sh --test)")
        sys.exit(77)
    with Server("access_log = ./access.log\ntrusted_proxies = 127.0.0.1\n[media]\npublic = true\n") as s:
        s.start()
        st = Setup(s, 1, [(2, 440)])
        media = s.get("/api/v1/bulletins/%d" % st.bulletins[0], st.admin).json()["media_hash"]
        site = Site(s.port)
        try:
            login = '{"username":"admin","password":"%s"}'
            status, _, _ = site.request("POST", "/api/v1/login", login % "wrong-one",
                                        {"Content-Type": "application/json"})
            check(status == 401, status)
            status, _, body = site.request("POST", "/api/v1/login", login % s.admin_password,
                                           {"Content-Type": "application/json"})
            check(status == 200, (status, body))
            audit = s.get("/api/v1/audit", st.admin).json()["audit"]
            mine = [(a["action"], a["address"]) for a in audit if a["action"] in ("login", "login_failed")]
            check(("login", CLIENT) in mine and ("login_failed", CLIENT) in mine, mine)

            status, _, _ = site.request("GET", "/stream/%s.opus?token=%s" % (st.clusters[0][0], SECRET))
            check(status in (401, 503), status)     # a wrong token; off air
            for _ in range(2):
                status, hd, body = site.request("GET", "/media/%s.opus" % media)
                check(status == 200 and body[:4] == b"OggS", (status, body[:40]))
            check(hd.get("x-cache-status") == "HIT", hd)
            # plain HTTP: staff to HTTPS, receivers served
            status, hd, _ = site.request("GET", "/", tls=False)
            check(status == 301 and hd["location"].startswith("https://"), (status, hd))
            status, _, body = site.request("GET", "/api/v1/time", tls=False)
            check(status == 200, (status, body))

            def logs_have_stream():
                a = open(site.access).read() if os.path.exists(site.access) else ""
                b = open(os.path.join(s.tmp, "access.log")).read()
                return "/stream/" in a and "/stream/" in b and (a, b)
            nginx_log, loacast_log = wait_for(logs_have_stream, 10, "both access logs")
            check(SECRET not in nginx_log and SECRET not in loacast_log, "the token was logged")
            # loacast's line names the client behind nginx
            check(re.search(r'^\S+ %s "GET /stream/\S+\?token=\[hidden\]" (401|503) ' % re.escape(CLIENT),
                            loacast_log, re.M), loacast_log)
        finally:
            site.stop()
        s.stop()
    print("ok")


if __name__ == "__main__":
    main()
