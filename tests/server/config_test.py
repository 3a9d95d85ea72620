"""Configuration and first start: unknown keys, unknown sections and bad values stop the server
with a message naming file, line and key; the first start prints the admin's one-time password
once (and it works); the second start prints none; --print-config shows the embedded defaults."""
import os
import re
import stat
import resource
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lcserver import LOACAST, Server, check, wait_for  # noqa: E402


def serve(conf_text):
    d = tempfile.mkdtemp(prefix="loacast-conf-")
    path = os.path.join(d, "bad.conf")
    with open(path, "w") as f:
        f.write(conf_text)
    p = subprocess.run([LOACAST, "serve", "--config", path], capture_output=True, timeout=30, cwd=d)
    return p.returncode, p.stderr.decode(), path


def main():
    cases = [
        ("[server]\nlisten = 127.0.0.1:1\ncolour = blue\n", 3, "colour", "unknown key"),
        ("[server]\n\n[audio]\nbitrate_kbps = 500\n", 4, "bitrate_kbps", "out of range"),
        ("[audio]\nloudness_lufs = loud\n", 2, "loudness_lufs", "not a number"),
        ("[server]\ntimezone = Mars/Olympus\n", 2, "timezone", "time zone"),
        ("[server]\nlisten = localhost\n", 2, "listen", "address:port"),
        ("[radio]\npower = 5\n", 2, "power", "unknown section"),
        ("[limits]\nmax_json_bytes = 12abc\n", 2, "max_json_bytes", "not an integer"),
        ("this is not ini\n", 1, None, "syntax"),
    ]
    for text, line, key, what in cases:
        rc, err, path = serve(text)
        check(rc != 0, "accepted: %r" % text)
        check("%s:%d:" % (path, line) in err, "no file:line in %r" % err)
        check(key is None or key in err, "no key in %r" % err)
        check(what in err, "no reason %r in %r" % (what, err))
    check(subprocess.run([LOACAST, "serve", "--config", "/nonexistent.conf"], capture_output=True).returncode != 0, "")
    # a lexicon that cannot be read stops the start, naming it
    d = tempfile.mkdtemp(prefix="loacast-conf-")
    with open(os.path.join(d, "c.conf"), "w") as f:
        f.write("[server]\nlisten = 127.0.0.1:1\ndata_dir = %s/var\n[audio]\nlexicon = %s/missing.tsv\n" % (d, d))
    p = subprocess.run([LOACAST, "serve", "--config", os.path.join(d, "c.conf")], capture_output=True, timeout=60)
    check(p.returncode != 0 and b"missing.tsv" in p.stderr, p.stderr)
    p = subprocess.run([LOACAST, "serve", "--print-config"], capture_output=True, check=True)
    out = p.stdout.decode()
    for want in ("listen = 127.0.0.1:8480", "data_dir = ./var", "timezone = Asia/Ho_Chi_Minh",
                 "bitrate_kbps = 24", "loudness_lufs = -16"):
        check(want in out, "defaults lack %r:\n%s" % (want, out))
    check(subprocess.run([LOACAST, "serve", "--help"], capture_output=True).returncode == 0, "--help")
    check(subprocess.run([LOACAST, "serve", "--bogus"], capture_output=True).returncode == 2, "bad usage")

    # the first start writes a one-time password to a 0600 file in the data dir, and the log
    # says where, never what (under systemd the log is the journal, kept for years); the
    # comments of the SPEC's example parse
    with Server("[audio]\nbitrate_kbps = 24      ; comment\nloudness_lufs = -16\n", admin_password=None) as s:
        s.start()
        pwfile = os.path.join(s.data, "admin-password")
        check(os.path.exists(pwfile), "no password file:\n" + s.logs())
        check(stat.S_IMODE(os.stat(pwfile).st_mode) == 0o600, oct(os.stat(pwfile).st_mode))
        with open(pwfile) as f:
            pw = f.read().strip()
        check(len(pw) == 16 and pw not in s.logs(), "the password is in the log:\n" + s.logs())
        check("one-time password is in %s" % pwfile in s.logs(), "the log does not say where:\n" + s.logs())
        s.login("admin", pw)
        s.stop()
        s.start()
        check("password" not in s.stdout(), "printed again: " + s.stdout())
        tok = s.login("admin", pw)
        # once admin's password is changed the one-time password is no longer one: its file goes
        r = s.request("PATCH", "/api/v1/users/admin", {"password": "a-new-password-1"}, tok)
        check(r.status == 200, r)
        wait_for(lambda: not os.path.exists(pwfile), 10, "the password file deleted")
        s.login("admin", "a-new-password-1")
        # max_connections = 0 (the default): the file limit, which loacast raises to the hard
        # limit, less 128 for its own files; the start line says so (before: 4096 whatever the
        # limit, refusing the 4,097th receiver of a province)
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        m = re.search(r"up to (\d+) connections \(file limit (\d+)\)", s.stdout())
        check(m and int(m.group(2)) == hard and int(m.group(1)) == hard - 128, s.stdout())
        s.stop()
    print("ok")


if __name__ == "__main__":
    main()
