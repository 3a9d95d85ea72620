"""The web console's files as served by loacast (server/http/static.c): "/" is index.html, types,
the Content-Security-Policy and other security headers on every file, ETag + 304, HEAD, the
station's settings; nothing outside web/ is reachable (.., percent-encoded dots and slashes,
backslashes, NUL, hidden files, symbolic links, deeper paths); a configured web_dir is used,
and a configured one without index.html stops the start with a message."""
import os
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "server"))
from lcserver import LOACAST, Server, check  # noqa: E402

ROOT = os.environ.get("LOACAST_SOURCE_ROOT") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
CSP = "content-security-policy"


def raw(port, request):
    """Sends request bytes as they are (no client-side path normalisation); the status code."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        s.sendall(request)
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return int(data.split(b" ", 2)[1])
    finally:
        s.close()


def check_security(r, what):
    csp = r.headers.get(CSP, "")
    for part in ("default-src 'self'", "script-src 'self'", "media-src 'self' blob:", "object-src 'none'",
                 "frame-ancestors 'none'"):
        check(part in csp, "%s: CSP lacks %s: %r" % (what, part, csp))
    check("unsafe-inline" not in csp and "unsafe-eval" not in csp, csp)
    check(r.headers.get("x-content-type-options") == "nosniff", (what, r.headers))
    check(r.headers.get("cache-control") == "no-cache", (what, r.headers))


def main():
    with Server() as s:
        s.start()
        # "/" and /index.html are the console's page
        r = s.get("/")
        check(r.status == 200 and r.headers["content-type"] == "text/html; charset=utf-8", r)
        check(b'<script type="module" src="/web/app.js">' in r.body, r.body[:300])
        check(b"<script>" not in r.body and b"style=" not in r.body, "inline script or style in index.html")
        check_security(r, "/")
        etag = r.headers.get("etag")
        check(etag and etag.startswith('"') and len(etag) == 34, r.headers)
        with open(os.path.join(ROOT, "web", "index.html"), "rb") as f:
            check(r.body == f.read(), "/ is not web/index.html")
        check(s.get("/index.html").body == r.body, "/index.html differs")

        # types
        for path, ctype in (("/web/app.js", "text/javascript; charset=utf-8"),
                            ("/web/style.css", "text/css; charset=utf-8"),
                            ("/web/screens/bulletins.js", "text/javascript; charset=utf-8"),
                            ("/web/icon.svg", "image/svg+xml")):
            r = s.get(path)
            check(r.status == 200 and r.headers["content-type"] == ctype, (path, r))
            check_security(r, path)

        # issue 19: Leaflet (the map) is served from web/leaflet/, two levels down for its images,
        # and is npm's leaflet (package-lock.json) byte for byte when node_modules is installed
        dist = os.path.join(ROOT, "node_modules", "leaflet", "dist")
        for path, ctype in (("/web/leaflet/leaflet.js", "text/javascript; charset=utf-8"),
                            ("/web/leaflet/leaflet.css", "text/css; charset=utf-8"),
                            ("/web/leaflet/images/marker-icon.png", "image/png"),
                            ("/web/leaflet/images/layers.png", "image/png")):
            r = s.get(path)
            check(r.status == 200 and r.headers["content-type"] == ctype, (path, r))
            check_security(r, path)
            if os.path.isdir(dist):
                with open(os.path.join(dist, path[len("/web/leaflet/"):]), "rb") as f:
                    check(r.body == f.read(), "%s differs from node_modules/leaflet/dist: copy it again "
                          "(docs/console.md, \"Bản đồ\")" % path)

        # revalidation: 304 with the same ETag, 200 with another
        r = s.get("/web/app.js")
        tag = r.headers["etag"]
        r2 = s.get("/web/app.js", headers={"If-None-Match": tag})
        check(r2.status == 304 and r2.body == b"" and r2.headers.get("etag") == tag, r2)
        r3 = s.get("/web/app.js", headers={"If-None-Match": '"0000"'})
        check(r3.status == 200 and r3.body == r.body, r3)
        # HEAD: headers, no body
        r = s.request("HEAD", "/web/app.js")
        check(r.status == 200 and r.body == b"" and r.headers.get("etag") == tag, r)

        # the station's zone for the console
        r = s.get("/web/station.json")
        check(r.status == 200 and r.json()["timezone"] == "Asia/Ho_Chi_Minh" and r.json()["version"], r)

        # nothing outside web/
        for path in ("/web/../server/http/static.c", "/web/..%2fserver/static.c", "/web/%2e%2e/meson.build",
                     "/web/%2e%2e%2fmeson.build", "/web/screens/../../meson.build", "/web/..\\meson.build",
                     "/web/app.js%00.png", "/web//app.js", "/web/./app.js", "/web/", "/web",
                     "/web/screens", "/web/screens/", "/web/a/b/c.js", "/../meson.build",
                     "/web/.gitignore", "/web/%2fetc%2fpasswd", "/web/%252e%252e/meson.build",
                     "//etc/passwd", "/web/screens/..%2f..%2fmeson.build", "/web/APP.JS"):
            code = raw(s.port, b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            check(code in (400, 404), "%s answered %d" % (path, code))
        check(s.post("/web/app.js", {}).status == 405, "POST to a file")
        s.stop()

    # a web_dir of one's own: hidden files, symbolic links and unknown types stay out; read at start
    tmp = tempfile.mkdtemp(prefix="loacast-web-")
    web = os.path.join(tmp, "web")
    os.makedirs(os.path.join(web, "sub"))
    with open(os.path.join(web, "index.html"), "w") as f:
        f.write("<!doctype html><title>x</title>")
    with open(os.path.join(web, ".secret.js"), "w") as f:
        f.write("secret")
    with open(os.path.join(web, "notes.conf"), "w") as f:
        f.write("secret")
    with open(os.path.join(web, "sub", "a.js"), "w") as f:
        f.write("export const a = 1;\n")
    os.symlink("/etc/passwd", os.path.join(web, "passwd.txt"))
    os.symlink("/etc", os.path.join(web, "etc"))
    with Server(config="web_dir = %s\n" % web) as s:
        s.start()
        check(s.get("/").body == b"<!doctype html><title>x</title>", "configured web_dir not used")
        check(s.get("/web/sub/a.js").status == 200, "sub/a.js")
        for path in ("/web/.secret.js", "/web/notes.conf", "/web/passwd.txt", "/web/etc/passwd",
                     "/web/etc/hostname"):
            r = s.get(path)
            check(r.status == 404, "%s answered %d" % (path, r.status))
        s.stop()

    # a configured web_dir without index.html stops the start, naming the key
    with Server(config="web_dir = %s\n" % os.path.join(tmp, "missing")) as s:
        p = subprocess.run([LOACAST, "serve", "--config", s.config_path], capture_output=True, timeout=60)
        check(p.returncode != 0 and b"web_dir" in p.stderr, p)
    print("ok")


if __name__ == "__main__":
    main()
