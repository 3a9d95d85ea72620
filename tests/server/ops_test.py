"""Running loacast like a Debian service (issue 20): behind a proxy, with an access log, signals.

- `[server] trusted_proxies`: X-Forwarded-For / Forwarded are believed only from them. A client
  that writes the header itself, straight to loacast, keeps its own address; behind the trusted
  proxy, the audit names the real client and the per-address login limit counts per real
  client: bad logins from one address under made-up names (20 in the issue) do not lock the admin out from
  another (before: one limit for the whole station, the admin locked out for 15 minutes).
- The access log: one line per request with method, URL without secrets (`?token=` hidden),
  status, bytes, duration, client and user; SIGHUP after logrotate's rename writes to a new file.
- SIGHUP reads the configuration again: a lower [limits] max_json_bytes refuses a body at once,
  the log line says what was applied and which changed key waits for a restart; a config that no
  longer parses changes nothing. SIGUSR1 reopens the logs; SIGUSR2 and SIGALRM are not fatal.
- Logs under systemd's journal carry syslog priorities ("<4>" for a warning).
- A receiver's connect and drop are each a line in the log.
"""
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lcserver import LOACAST, Server, check, wait_for  # noqa: E402


def login_status(s, name, password, xff=None, forwarded=None):
    headers = {}
    if xff:
        headers["X-Forwarded-For"] = xff
    if forwarded:
        headers["Forwarded"] = forwarded
    return s.post("/api/v1/login", {"username": name, "password": password}, headers=headers).status


def log_text(s):
    with open(s.err_path, "rb") as f:
        return f.read().decode("utf-8", "replace")


def main():
    with Server("access_log = ./access.log\ntrusted_proxies = 127.0.0.1\n"
                "[auth]\nlogin_max_failures_address = 8\n") as s:
        s.start()
        access = os.path.join(s.tmp, "access.log")
        admin = s.admin()

        # ---- X-Forwarded-For from the trusted proxy names the client; the login limit counts
        # per real client: bad logins from 198.51.100.7 under made-up names up to its limit
        for i in range(8):
            check(login_status(s, "nobody%d" % i, "wrong-password", xff="198.51.100.7") == 401, i)
        check(login_status(s, "admin", s.admin_password, xff="198.51.100.7") == 429, "the flooding address is not limited")
        # the admin, from their own address behind the same proxy, still logs in
        check(login_status(s, "admin", s.admin_password, xff="203.0.113.20") == 200, "admin locked out")
        # Forwarded (RFC 7239) too, with a port and a quoted IPv6
        check(login_status(s, "admin", s.admin_password, forwarded='for="[2001:db8::5]:4711";proto=https') == 200, "Forwarded")
        audit = s.get("/api/v1/audit?action=login", admin).json()["audit"]
        addrs = {a["address"] for a in audit}
        check({"203.0.113.20", "2001:db8::5"} <= addrs, addrs)  # (127.0.0.1: s.admin(), no header)
        refused = s.get("/api/v1/audit?action=login_failed", admin).json()["audit"]
        check(refused and all(a["address"] == "198.51.100.7" for a in refused), refused)

        # ---- SIGHUP: not trusting the proxy any more, a written header is ignored
        with open(s.config_path, "a") as f:
            f.write("\n[limits]\nmax_json_bytes = 2048\n[audio]\nbitrate_kbps = 32\n")
        # blanks separate entries as commas do (several of them: no entry may be lost or overflow)
        cfg = open(s.config_path).read().replace("trusted_proxies = 127.0.0.1", "trusted_proxies = 10.0.0.0/8 192.0.2.1 ::1")
        with open(s.config_path, "w") as f:
            f.write(cfg)
        os.rename(access, access + ".1")    # what logrotate does before its HUP
        s.proc.send_signal(signal.SIGHUP)
        line = wait_for(lambda: re.search(r"SIGHUP: .* read again: (.*)", log_text(s)), 30, "the reload's line")
        said = line.group(1)
        check("[server] trusted_proxies: 127.0.0.1 → 10.0.0.0/8 192.0.2.1 ::1" in said and
              "[limits] max_json_bytes: 1048576 → 2048" in said and
              "applied at the next start only: [audio] bitrate_kbps" in said, said)
        check(login_status(s, "admin", s.admin_password, xff="192.0.2.99") == 200, "login after reload")
        last = s.get("/api/v1/audit?action=login", admin).json()["audit"]
        check(last[0]["address"] == "127.0.0.1", last[0])   # newest first
        # the new limit at once: a 3 KiB JSON body is 413 now
        r = s.post("/api/v1/communes", {"id": "big", "name": "x" * 3000}, admin)
        check(r.status == 413, r)
        # a configuration that no longer parses changes nothing
        with open(s.config_path, "a") as f:
            f.write("\n[limits]\nmax_json_bytes = lots\n")
        s.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "max_json_bytes: not an integer: nothing changed" in log_text(s), 30, "the refusal")
        check(s.post("/api/v1/communes", {"id": "big", "name": "x" * 3000}, admin).status == 413, "changed")
        # signals sent by mistake are not fatal
        s.proc.send_signal(signal.SIGUSR2)
        s.proc.send_signal(signal.SIGALRM)
        s.proc.send_signal(signal.SIGUSR1)
        wait_for(lambda: log_text(s).count("ignored: SIGHUP reloads") == 2, 30, "the ignored signals' lines")
        check(s.get("/healthz").status == 200 and s.proc.poll() is None, "a signal killed the server")

        # ---- the access log: the old file has the lines before the rename, the new one after;
        # secrets never appear
        cid = s.post("/api/v1/communes", {"id": "an-phu", "name": "Xã An Phú"}, admin)
        check(cid.status == 201, cid)
        cl = s.post("/api/v1/clusters", {"commune": "an-phu", "name": "Thôn 1"}, admin).json()
        token = cl["token"]
        s.get("/stream/%s.opus?token=%s" % (cl["id"], token))
        s.get("/api/v1/communes?token=%s&x=1" % admin, admin)
        s.get("/api/v1/station")

        def logged():
            try:
                return open(access).read()
            except FileNotFoundError:
                return ""
        new = wait_for(lambda: "/api/v1/station" in logged() and logged(), 10, "the new access log's lines")
        old = open(access + ".1").read()
        check("POST /api/v1/login" in old and "/api/v1/station" not in old, old[-500:])
        check(token not in new and admin not in new and token not in old and admin not in old, "a secret in the access log")
        m = re.search(r'^\S+ 127\.0\.0\.1 "GET /api/v1/communes\?token=\[hidden\]&x=1" 200 (\d+) ([\d.]+)ms admin$', new, re.M)
        check(m and int(m.group(1)) > 0, new)
        check(re.search(r'"POST /api/v1/communes" 201 \d+ [\d.]+ms admin$', new, re.M), new)
        check(re.search(r'"GET /stream/%s\.opus\?token=\[hidden\]" \d{3} ' % re.escape(cl["id"]), new), new)
        m = re.search(r'^\S+ 198\.51\.100\.7 "POST /api/v1/login" 401 ', old, re.M)
        check(m, old[:800])
        s.stop()

    # ---- under systemd: stderr is the journal (JOURNAL_STREAM names it) → priorities, no time
    with Server("[limits]\nmax_json_bytes = 1024\n") as s:
        err = os.path.join(s.tmp, "journal")
        with open(err, "wb") as f:
            st = os.fstat(f.fileno())
            env = dict(os.environ, JOURNAL_STREAM="%d:%d" % (st.st_dev, st.st_ino),
                       LOACAST_ADMIN_PASSWORD=s.admin_password)
            p = subprocess.Popen([LOACAST, "serve", "--config", s.config_path], stdout=subprocess.DEVNULL,
                                 stderr=f, env=env, cwd=s.tmp)
        try:
            # up and answering: the signal handlers are installed before it listens
            wait_for(lambda: s.get("/healthz", timeout=5).status == 200, 60, "the server", errors=(OSError,))
            check("<6>loacast[static]" in open(err).read(), open(err).read())
            p.send_signal(signal.SIGUSR2)
            wait_for(lambda: re.search(r"^<4>loacast\[server\] on_signal: warning: signal", open(err).read(), re.M),
                     30, "a warning with priority 4")
            check(not re.search(r"^\d{4}-", open(err).read(), re.M), "a time stamp under the journal")
        finally:
            p.send_signal(signal.SIGTERM)
            check(p.wait(30) == 0, "exit")
    print("ok")


if __name__ == "__main__":
    main()
