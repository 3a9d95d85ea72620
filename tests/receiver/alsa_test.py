"""loacast-receiver through ALSA (issue 17: "plays through ALSA"), on the two kinds of ALSA device a
box without a sound card here can have:

- `alsa:pulse` — ALSA's PulseAudio plugin (libasound2-plugins) into a PulseAudio server started by
  this test with a null sink at 48 kHz: a device that consumes in real time on its own clock and
  reports its latency through snd_pcm_delay(), as a sound card does. parec records the sink's
  monitor: the three tone bulletins are heard whole and in order.
- `alsa:null` — ALSA's null device, which swallows every write at once: the receiver must still
  play in real time (its sink paces by the clock when the device does not), not run ahead and
  start items early or play them twice.

For both: exactly one play report per item (no repeats, also 3 s after the end), in order, from
the cache, each starting within 30 ms of its scheduled time by the report, played_s its length
within 60 ms; SIGTERM ends the receivers with status 0. Prints the reports' offsets.
"""
import array
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rkit as R  # noqa: E402
from rkit import K, check, parse_time, wait_for  # noqa: E402

TONES = [(1.5, 400), (2.5, 800), (1.0, 1200)]


def start_pulse(tmp):
    """A private PulseAudio server with a null sink 'speaker' (48 kHz mono); returns (proc, env)."""
    for prog in ("pulseaudio", "parec"):
        check(shutil.which(prog), "%s is not installed (scripts/install-deps.sh --test)" % prog)
    run = os.path.join(tmp, "pulse")
    os.makedirs(run, exist_ok=True)
    sock = os.path.join(run, "native")
    env = dict(os.environ, XDG_RUNTIME_DIR=run, HOME=run, PULSE_SERVER="unix:" + sock,
               PULSE_SINK="speaker")
    log = open(os.path.join(tmp, "pulse.log"), "wb")
    proc = subprocess.Popen(["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1",
                             "--disallow-exit", "--use-pid-file=no", "--log-target=stderr",
                             "--load=module-null-sink sink_name=speaker rate=48000 channels=1",
                             "--load=module-native-protocol-unix socket=%s auth-anonymous=1" % sock],
                            stdout=log, stderr=log, env=env)
    log.close()
    wait_for(lambda: subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode == 0,
             20, "PulseAudio to answer")
    return proc, env


def tones_in(pcm, level=1500):
    """[(frequency, seconds)] of the tone bursts in pcm (48 kHz), in order."""
    out, i = [], 0
    while True:
        while i < len(pcm) and abs(pcm[i]) <= level:
            i += 1
        if i >= len(pcm):
            return out
        j, quiet = i, 0
        while j < len(pcm) and quiet < 960:
            quiet = quiet + 1 if abs(pcm[j]) <= level else 0
            j += 1
        end = j - quiet
        mid = pcm[i + (end - i) // 4:i + 3 * (end - i) // 4]
        zc = sum(1 for a, b in zip(mid, mid[1:]) if (a < 0) != (b < 0))
        if end - i > 4800:      # 0.1 s: a tone, not a click
            out.append((zc / 2 / (len(mid) / 48000), (end - i) / 48000))
        i = j


def main():
    with K.Server(K.config()) as s, R.Fleet() as fleet:
        s.start()
        pulse, penv = start_pulse(s.tmp)
        rec = None
        try:
            st = K.Setup(s, 2, TONES)
            key = R.station_key(s)
            (c_pulse, t_pulse), (c_null, t_null) = st.clusters
            rxs = [fleet.add(R.Rx(s, s.tmp, c_pulse, t_pulse, key, name="pulse")),
                   fleet.add(R.Rx(s, s.tmp, c_null, t_null, key, name="null"))]
            for rx, dev in zip(rxs, ("pulse", "null")):
                with open(rx.conf) as f:
                    text = f.read().replace("sink = wav:" + rx.wav, "sink = alsa:" + dev)
                with open(rx.conf, "w") as f:
                    f.write(text)
            # the receivers inherit the PulseAudio server's address (the ALSA plugin reads it)
            os.environ.update(PULSE_SERVER=penv["PULSE_SERVER"], PULSE_SINK="speaker")
            for rx in rxs:
                rx.start()
            raw = os.path.join(s.tmp, "speaker.raw")
            rec = subprocess.Popen(["parec", "-d", "speaker.monitor", "--rate=48000", "--channels=1",
                                    "--format=s16le", "--latency-msec=20", raw], env=penv,
                                   stderr=subprocess.DEVNULL)
            start, sess = st.session(6, minutes=1)
            items = sess["items"]
            end = start + items[-1]["offset_s"] + items[-1]["duration_s"]

            def reported():
                got = R.plays(s, st.admin, session=sess["id"])
                return got if len(got) >= 2 * len(items) else None
            got = wait_for(reported, end - time.time() + 30, lambda: "every play reported\n" + fleet.logs(),
                           interval=0.2)
            # a receiver running ahead would play the items again: watch 3 s past the session's
            # end for a repeated report (the absence of an event: a window, not a condition)
            K.sleep_until(end + 3, "3 s past the session's end")
            got = R.plays(s, st.admin, session=sess["id"])
            for rx in rxs:
                rx.stop()
        finally:
            if rec is not None:
                rec.send_signal(signal.SIGINT)
                rec.wait(10)
            pulse.terminate()
            pulse.wait(10)

        for cid, name in ((c_pulse, "alsa:pulse"), (c_null, "alsa:null")):
            mine = sorted([x for x in got if x["cluster"] == cid], key=lambda x: x["start"])
            check(len(mine) == len(items), "%s: %d play reports for %d items (a repeat?): %s" %
                  (name, len(mine), len(items), mine))
            offs = []
            for it, play in zip(items, mine):
                want = start + it["offset_s"]
                err = parse_time(play["start"]) - want
                offs.append(err * 1000)
                check(play["bulletin"] == it["bulletin"] and play["source"] == "cache", (name, play))
                check(abs(err) < 0.030, "%s: bulletin %d began %.1f ms off its time" %
                      (name, it["bulletin"], err * 1000))
                check(abs(play["played_s"] - it["duration_s"]) < 0.06, (name, play, it))
            print("%s: play reports vs schedule: %s ms" % (name, ", ".join("%+.1f" % o for o in offs)))
        pcm = array.array("h")
        with open(raw, "rb") as f:
            pcm.frombytes(f.read())
        heard = tones_in(pcm)
        print("PulseAudio null sink's monitor heard (Hz, s):",
              ", ".join("%.0f/%.2f" % x for x in heard))
        check(len(heard) == len(TONES), "the speaker heard %d tones, not %d" % (len(heard), len(TONES)))
        for (f, sec), (want_s, want_f) in zip(heard, TONES):
            check(abs(f - want_f) <= 10 and abs(sec - want_s) < 0.06, (heard, TONES))
        s.stop()
    print("ok")


if __name__ == "__main__":
    main()
