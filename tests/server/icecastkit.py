"""Debian's icecast2 for the tests (relay-icecast, stream-players, stream-icecast): a temporary
directory, an icecast.xml made of the parts every test shares and its own fragments, the process,
its logs. Runs as icecast2 (<changeowner>) when we are root: icecast2 refuses to run as root.
Standard library only."""
import http.client
import json
import os
import shutil
import subprocess
import tempfile
import urllib.request

import lcserver


class Icecast2:
    """auth: the inside of <authentication> (source, relay, admin passwords); body: more
    elements of <icecast> (<relay>, <mount>, <limits>...); port: a free one when None."""

    def __init__(self, name, auth, body="", port=None):
        self.tmp = tempfile.mkdtemp(prefix="loacast-%s-" % name)
        os.chmod(self.tmp, 0o755)
        os.makedirs(os.path.join(self.tmp, "log"))
        owner = ""
        if os.geteuid() == 0:
            shutil.chown(os.path.join(self.tmp, "log"), "icecast2", "icecast")
            owner = "<changeowner><user>icecast2</user><group>icecast</group></changeowner>"
        self.port = port or lcserver.free_port()
        conf = os.path.join(self.tmp, "icecast.xml")
        with open(conf, "w") as f:
            f.write("""<icecast>
  <hostname>127.0.0.1</hostname>
  <authentication>%s</authentication>
  <listen-socket><port>%d</port><bind-address>127.0.0.1</bind-address></listen-socket>
  %s
  <paths><basedir>/usr/share/icecast2</basedir><logdir>%s</logdir>
    <webroot>/usr/share/icecast2/web</webroot><adminroot>/usr/share/icecast2/admin</adminroot></paths>
  <logging><accesslog>access.log</accesslog><errorlog>error.log</errorlog><loglevel>3</loglevel></logging>
  <security><chroot>0</chroot>%s</security>
</icecast>
""" % (auth, self.port, body, os.path.join(self.tmp, "log"), owner))
        self.proc = subprocess.Popen(["icecast2", "-c", conf], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.tmp, "stderr"), "wb"))

    def alive(self):
        if self.proc.poll() is not None:
            raise AssertionError("icecast2 exited with %s:\n%s" % (self.proc.returncode, self.logs()))

    def mounted(self, mount):
        """The mount answers 200 (a listener that leaves at once)."""
        self.alive()
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            c.request("GET", mount)
            return c.getresponse().status == 200
        except OSError:
            return False
        finally:
            c.close()

    def mounts(self):
        """The mounts with a source now (status-json.xsl), without their leading '/'."""
        self.alive()
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/status-json.xsl" % self.port, timeout=5) as r:
                st = json.loads(r.read().decode("utf-8", "replace"))
        except (OSError, ValueError):
            return []
        src = st.get("icestats", {}).get("source", [])
        src = src if isinstance(src, list) else [src]
        return [s.get("listenurl", "").rsplit("/", 1)[-1] for s in src]

    def logs(self):
        out = []
        for name in ("stderr", "log/error.log", "log/access.log"):
            p = os.path.join(self.tmp, name)
            if os.path.exists(p):
                with open(p, "rb") as f:
                    out.append("%s:\n%s" % (name, f.read().decode("utf-8", "replace")[-6000:]))
        return "\n".join(out)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)
