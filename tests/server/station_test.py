"""The station's key and clock (issue 16, point 1 and the time route; SPEC "Receivers that store").

- The first start makes <data_dir>/station.key, mode 0600; GET /api/v1/station (open) answers
  {"name","public_key"}, the 32-byte Ed25519 public key in base64; the name is [server]
  station_name.
- The private key is never served nor logged: no answer of the open routes and nothing the
  server printed holds it.
- A restart keeps the key; a key file others may read, or one that is not a key, stops the start
  with a clear message and leaves the file as it was.
- GET /api/v1/time (open): received_us <= sent_us, both within 2 s of this machine's clock."""
import base64
import os
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lcserver import LOACAST, Server, check  # noqa: E402


def main():
    with Server("[server]\nstation_name = Đài truyền thanh huyện Quảng Điền\n") as s:
        s.start()
        r = s.get("/api/v1/station")
        check(r.status == 200, r)
        st = r.json()
        check(st["name"] == "Đài truyền thanh huyện Quảng Điền", st)
        pk = base64.b64decode(st["public_key"])
        check(len(pk) == 32, st)
        path = os.path.join(s.data, "station.key")
        check(stat.S_IMODE(os.stat(path).st_mode) == 0o600, oct(os.stat(path).st_mode))
        with open(path) as f:
            lines = f.read().split("\n")
        secret_b64 = lines[1]
        secret = base64.b64decode(secret_b64)
        check(len(secret) == 64 and secret[32:] == pk, "the file holds the seed and this public key")
        t0 = time.time()
        r = s.get("/api/v1/time")
        t1 = time.time()
        t = r.json()
        check(t["received_us"] <= t["sent_us"], t)
        check(t0 - 2 <= t["received_us"] / 1e6 <= t1 + 2 and t0 - 2 <= t["sent_us"] / 1e6 <= t1 + 2,
              (t0, t, t1))
        seen = "".join(s.get(p).body.decode("utf-8", "replace")
                       for p in ("/api/v1/station", "/metrics", "/healthz", "/api/v1/time"))
        for needle in (secret_b64, secret_b64[:24], base64.b64encode(secret[:32]).decode()[:24]):
            check(needle not in seen and needle not in s.logs(), "the private key leaked")
        s.stop()

        s.start()
        check(s.get("/api/v1/station").json()["public_key"] == st["public_key"], "kept over a restart")
        s.stop()

        os.chmod(path, 0o644)
        p = subprocess.run([LOACAST, "serve", "--config", s.config_path], capture_output=True, timeout=60)
        check(p.returncode != 0 and b"others may read" in p.stderr, p.stderr)
        os.chmod(path, 0o600)
        with open(path, "rb") as f:
            good = f.read()
        with open(path, "wb") as f:
            f.write(b"not a key\n")
        p = subprocess.run([LOACAST, "serve", "--config", s.config_path], capture_output=True, timeout=60)
        check(p.returncode != 0 and b"not a loacast station key" in p.stderr, p.stderr)
        with open(path, "rb") as f:
            check(f.read() == b"not a key\n", "the file is left as it was")
        with open(path, "wb") as f:
            f.write(good)
        s.start()
        check(s.get("/api/v1/station").json()["public_key"] == st["public_key"], "the same key again")
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
