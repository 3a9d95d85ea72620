"""A step of the system clock (wall clock only; the monotonic clock goes on, as it does when NTP
or an operator steps the time): the process runs with tests/schedules/clockshift.c preloaded,
which shifts CLOCK_REALTIME by what this test writes in a file.
- Forward: a session 40 s ahead; the clock jumps 37 s: it goes on air within 50 ms of its start
  on the new clock (not 37 s late, not at the old instant).
- Backward: a session 4 s ahead; the clock goes back 8 s: it does not fire at the old instant,
  and goes on air within 50 ms of its start on the new clock."""
import os
import sys
import tempfile
import time

from schedkit import Server, Station, check, sleep_until

SHIM = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("LC_CLOCKSHIFT")


def main():
    check(SHIM and os.path.exists(SHIM), "the clockshift shim: %r" % SHIM)
    fd, offset_file = tempfile.mkstemp(prefix="loacast-clock-")
    os.close(fd)
    offset = [0]

    def set_offset(ms):
        with open(offset_file + ".tmp", "w") as f:
            f.write("%d\n" % ms)
        os.replace(offset_file + ".tmp", offset_file)
        offset[0] = ms

    def fake_now():
        return time.time() + offset[0] / 1000.0

    set_offset(0)
    os.environ["LD_PRELOAD"] = SHIM
    os.environ["LC_CLOCK_OFFSET_FILE"] = offset_file
    os.environ["ASAN_OPTIONS"] = os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"
    try:
        with Server(config="[schedules]\nhold_s = 2\n") as srv:
            srv.start()
            # the python client stays on the real clock
            os.environ.pop("LD_PRELOAD")
            st = Station(srv)
            st.commune("quang-phu")
            # forward
            start = int(fake_now()) + 40
            sid = st.session("quang-phu", start)["id"]
            # stored and scheduled on the old clock before the step (no wait: the POST stored it)
            check(st.find_session("quang-phu", sid)["status"] == "scheduled", "not scheduled")
            set_offset(37000)
            t_step = time.time()
            x = st.wait_session("quang-phu", sid, ("on_air", "done"), timeout=10)
            check(abs(x["late_ms"]) <= 50, x)
            check(time.time() - t_step < 6, "opened %.1f s after the step" % (time.time() - t_step))
            fwd = x["late_ms"]
            # backward
            start = int(fake_now()) + 4
            sid = st.session("quang-phu", start)["id"]
            set_offset(offset[0] - 8000)
            # the behaviour under test: the old instant (start on the old clock, 4 s from now in
            # real time) passes, and nothing fires at it
            sleep_until(time.time() + 5, "the old instant passes without the session")
            x = st.find_session("quang-phu", sid)
            check(x["status"] == "scheduled", ("fired at the old instant", x))
            x = st.wait_session("quang-phu", sid, ("on_air", "done"), timeout=15)
            check(abs(x["late_ms"]) <= 50, x)
            print("clock stepped +37 s: on air %+d ms; stepped -8 s: on air %+d ms"
                  % (fwd, x["late_ms"]))
            srv.stop()
    finally:
        os.environ.pop("LD_PRELOAD", None)
        os.unlink(offset_file)
    print("ok")


if __name__ == "__main__":
    main()
