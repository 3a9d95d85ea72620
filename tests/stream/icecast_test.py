"""Fan-out through Icecast (issue 19, point 4): a real loacast pushes its on-air commune to a real
icecast2 master (libshout, mount /quang-phu.opus); a second icecast2 relays that mount (<relay>,
with the relay password as its credentials); both authenticate their listeners against loacast
(<authentication type="url">: POST /icecast/listener_add and _remove).

- two clusters pull http://relay/quang-phu.opus?token=... (curl) through a session: their captures
  decode whole (ffmpeg -v error) and hold the session's tones in order;
- both appear in GET /api/v1/deliveries with via "icecast", their seconds, reached;
- a wrong token is refused by listener_add: Icecast answers it no audio;
- bad input to the routes (no credentials, garbage form, no token, unknown mount, a missing
  duration) answers 4xx and changes no delivery row.
Skipped (77) without icecast2 or curl.
"""
import base64
import html
import os
import shutil
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import streamkit as K  # noqa: E402
import icecastkit  # noqa: E402  (tests/server, on sys.path through streamkit)
from streamkit import check  # noqa: E402

TONES = [(3.0, 400), (2.0, 800)]
HOLD_S = 8
SECRET = "ice-auth-secret"
SOURCE_PW = "ice-source-pw"


class Icecast(icecastkit.Icecast2):
    """URL auth of every *.opus mount against loacast; with relay_of, a <relay> of that master's
    mount (with the relay password as its credentials). port: one chosen beforehand (the one
    [icecast] url names), else a free one."""

    def __init__(self, name, lc_port, relay_of=None, port=None):
        auth_url = html.escape("http://127.0.0.1:%d/icecast/" % lc_port)
        relay = ""
        if relay_of is not None:
            relay = ("<master-update-interval>1</master-update-interval>"
                     "<relay><server>127.0.0.1</server><port>%d</port><mount>/%s.opus</mount>"
                     "<local-mount>/%s.opus</local-mount><username>relay</username><password>%s</password>"
                     "<on-demand>0</on-demand></relay>" % (relay_of.port, K.COMMUNE, K.COMMUNE, SECRET))
        super().__init__(
            name, "<source-password>%s</source-password><relay-password>%s</relay-password>"
            "<admin-user>admin</admin-user><admin-password>ice-admin</admin-password>" % (SOURCE_PW, SECRET),
            """<limits><burst-size>0</burst-size></limits>
  %s
  <mount type="normal"><mount-name>/*.opus</mount-name>
    <authentication type="url">
      <option name="listener_add" value="%slistener_add"/>
      <option name="listener_remove" value="%slistener_remove"/>
      <option name="username" value="icecast"/><option name="password" value="%s"/>
      <option name="auth_header" value="icecast-auth-user: 1"/>
    </authentication></mount>""" % (relay, auth_url, auth_url, SECRET), port=port)


def form(**fields):
    return "&".join("%s=%s" % (k, urllib.request.quote(str(v), safe="")) for k, v in fields.items()).encode()


def call(s, route, body, auth=True):
    h = {"Content-Type": "application/x-www-form-urlencoded"}
    if auth:
        h["Authorization"] = "Basic " + base64.b64encode(b"icecast:" + SECRET.encode()).decode()
    return s.request("POST", "/icecast/" + route, body, headers=h)


def rows_now(s):
    db = K.deliveries(s)
    return {k: (v["connected_at"], v["disconnected_at"], v["audio_s"], v["reconnections"]) for k, v in db.items()}


def main():
    for tool in ("icecast2", "curl", "ffmpeg"):
        if shutil.which(tool) is None:
            print("skip: no %s" % tool)
            sys.exit(77)
    t_begin = time.time()
    master = relay = None
    ice_port = K.lcserver.free_port()
    extra = "[icecast]\nurl = http://source:%s@127.0.0.1:%d\nauth_secret = %s\n" % (SOURCE_PW, ice_port, SECRET)
    cfg = K.config("hold_audio = true\n" + extra).replace("hold_s = 5", "hold_s = %d" % HOLD_S)
    with K.Server(cfg) as s:
        try:
            s.start()
            # the URL's password never printed
            out = subprocess.run([K.lcserver.LOACAST, "serve", "--config", s.config_path, "--print-config"],
                                 capture_output=True, text=True, timeout=30).stdout
            check(SOURCE_PW not in out and SECRET not in out and "[icecast]" in out, out[-600:])
            master = Icecast("master", s.port, port=ice_port)  # where [icecast] url points
            relay = Icecast("relay", s.port, relay_of=master)
            st = K.Setup(s, 3, TONES)
            adm = st.admin

            # bad input first: 4xx, no row
            before = rows_now(s)
            r = call(s, "listener_add", form(action="listener_add", mount="/%s.opus" % K.COMMUNE), auth=False)
            check(r.status == 401, r)
            r = call(s, "listener_add", b"\x01garbage=%zz&&")
            check(r.status == 400, r)
            r = call(s, "listener_add", form(action="listener_add", client=1, mount="/%s.opus" % K.COMMUNE))
            check(r.status == 403 and "icecast-auth-user" not in r.headers and
                  r.headers.get("icecast-auth-message"), (r, r.headers))
            r = call(s, "listener_add", form(action="listener_add", client=1,
                                             mount="/nowhere.opus?token=%s" % st.clusters[0][1]))
            check(r.status == 404 and "icecast-auth-user" not in r.headers, r)
            r = call(s, "listener_add", form(action="listener_add", client=1,
                                             mount="/%s.opus?token=%s" % (K.COMMUNE, "x" * 40)))
            check(r.status == 403 and "icecast-auth-user" not in r.headers, r)
            r = call(s, "listener_remove", form(action="listener_remove", client=1,
                                                mount="/%s.opus?token=%s" % (K.COMMUNE, st.clusters[0][1])))
            check(r.status == 400, r)  # no duration
            check(rows_now(s) == before, "rows changed by bad input")

            start, sess = st.session(HOLD_S + 1, minutes=1)
            length = sess["length_s"]
            K.wait_held(s)
            # the source reaches the master, the relay pulls it (authenticated as a relay)
            mount = "%s.opus" % K.COMMUNE
            K.wait_for(lambda: mount in master.mounts(), 10, lambda: "master mount:\n" + master.logs(),
                       interval=0.1)
            K.wait_for(lambda: mount in relay.mounts(), 10, lambda: "relay mount:\n" + relay.logs(),
                       interval=0.1)
            check(time.time() < start - 1, "the relay came up too late: %.1f s before the start" %
                  (start - time.time()))
            caps, procs = [], []
            for i in (0, 1):
                cid, tok = st.clusters[i]
                path = os.path.join(s.tmp, "%s.opus" % cid)
                caps.append(path)
                procs.append(subprocess.Popen(
                    ["curl", "-sS", "--max-time", str(int(start + length + 20 - time.time())), "-o", path,
                     "-w", "%{http_code}", "http://127.0.0.1:%d/%s?token=%s" % (relay.port, mount, tok)],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE))
            # a wrong token (another commune's would be the same): refused, no audio
            bad = subprocess.run(["curl", "-sS", "--max-time", "5", "-o", "-", "-w", "\n%{http_code}",
                                  "http://127.0.0.1:%d/%s?token=%s" % (relay.port, mount, "y" * 40)],
                                 capture_output=True, timeout=15)
            code = bad.stdout.rsplit(b"\n", 1)[-1]
            check(code in (b"401", b"403") and b"OggS" not in bad.stdout, bad.stdout[-300:])

            for p, path in zip(procs, caps):
                out, err = p.communicate(timeout=start + length + 30 - time.time())
                check(out == b"200", (out, err, relay.logs()))
                dec = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-f", "null", "-"],
                                     capture_output=True, text=True)
                check(dec.returncode == 0 and dec.stderr.strip() == "", "%s: %s" % (path, dec.stderr[-600:]))
                segs = [x for x in K.tones(K.decode(path)) if x[0]]
                check([f for f, _, _ in segs] == [f for _, f in TONES], (path, segs))
                for (f, t0, t1), (sec, _) in zip(segs, TONES):
                    check(abs((t1 - t0) - sec) < 0.15, (path, segs))

            # both clusters in the deliveries, via Icecast, reached; the third has no row
            want = {st.clusters[0][0], st.clusters[1][0]}

            # the session's day in the station's zone (UTC+7), not "today": a run across midnight
            day = time.strftime("%Y-%m-%d", time.gmtime(start + 7 * 3600))

            def rows():
                r = s.get("/api/v1/deliveries?commune=%s&date=%s" % (K.COMMUNE, day), adm)
                check(r.status == 200, r)
                got = {d["cluster"]: d for d in r.json()["deliveries"] if d["session"] == sess["id"]}
                return got if want <= set(got) and all(got[c]["disconnected_at"] for c in want) else None
            got = K.wait_for(rows, 20, lambda: "delivery rows: %r\n%s" % (
                s.get("/api/v1/deliveries?commune=%s&date=%s" % (K.COMMUNE, day), adm).body[:2000],
                relay.logs()),
                interval=0.2)
            check(set(got) == want, got)
            for c in want:
                d = got[c]
                check(d["via"] == "icecast" and d["reached"] is True and d["connected_at"], d)
                check(abs(d["programme_s"] - length) < 1.0 and d["audio_s"] >= 0.9 * d["programme_s"], d)
                check(d["bytes"] > 1000, d)
            print("ok: 2 clusters through an Icecast relay, reached (audio_s %s of %.1f s); "
                  "wrong token refused; bad input 4xx; %.1f s" % (
                      [got[c]["audio_s"] for c in sorted(want)], length, time.time() - t_begin))
        finally:
            for ic in (relay, master):
                if ic is not None:
                    ic.stop()


if __name__ == "__main__":
    main()
