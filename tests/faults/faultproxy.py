"""A fault-injecting TCP proxy for tests, on loopback only: what a weak 3G/4G link does to a box.

    with FaultProxy(target_port) as p:       # listens on 127.0.0.1:p.port, forwards to target
        p.throttle(48_000)                   # bytes/s each way, per connection (None: no limit)
        p.cut_after(100_000)                 # close each new connection after N bytes downstream
        p.stall()                            # forward nothing (connections stay open, silent)
        p.resume()                           # forward again (what was held goes on)
        p.cut_all()                          # close every open connection now
        p.refuse(True)                       # new connections are closed at once (no route)
        p.bytes_down, p.connections          # counters

Everything runs on one asyncio loop in a thread of its own; the controls are thread-safe and take
effect at once on open connections too (a stall holds data that is already read). Nothing but
127.0.0.1 is ever dialled.
"""
import asyncio
import threading
import time


class FaultProxy:
    CHUNK = 4096

    def __init__(self, target_port, target_host="127.0.0.1"):
        assert target_host in ("127.0.0.1", "localhost"), "loopback only"
        self.target = (target_host, target_port)
        self.port = None
        self.rate = None
        self.cut_bytes = None
        self.refusing = False
        self.bytes_down = 0
        self.bytes_up = 0
        self.connections = 0
        self._flow = None  # asyncio.Event: set while forwarding
        self._writers = set()
        self._loop = None
        self._thread = None
        self._ready = threading.Event()

    # ---- controls (any thread) -------------------------------------------------------------

    def throttle(self, bytes_per_s):
        self.rate = bytes_per_s

    def cut_after(self, nbytes):
        self.cut_bytes = nbytes

    def stall(self):
        self._call(self._flow.clear)

    def resume(self):
        self._call(self._flow.set)

    def refuse(self, on=True):
        self.refusing = on

    def cut_all(self):
        def cut():
            for w in list(self._writers):
                w.transport.abort()
        self._call(cut)

    # ---- life --------------------------------------------------------------------------------

    def __enter__(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the proxy did not start")
        return self

    def __exit__(self, *exc):
        if self._loop:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def _call(self, fn):
        done = threading.Event()

        def run():
            fn()
            done.set()
        self._loop.call_soon_threadsafe(run)
        done.wait(5)

    def _run(self):
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        self._flow = asyncio.Event()
        self._flow.set()
        server = self._loop.run_until_complete(
            asyncio.start_server(self._client, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()
            for w in list(self._writers):
                w.transport.abort()
            tasks = asyncio.all_tasks(self._loop)
            for t in tasks:
                t.cancel()
            self._loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            self._loop.close()

    async def _client(self, creader, cwriter):
        if self.refusing:
            cwriter.transport.abort()
            return
        self.connections += 1
        try:
            sreader, swriter = await asyncio.open_connection(*self.target)
        except OSError:
            cwriter.transport.abort()
            return
        self._writers.update((cwriter, swriter))
        state = {"down": 0}
        up = asyncio.ensure_future(self._pipe(creader, swriter, state, False))
        down = asyncio.ensure_future(self._pipe(sreader, cwriter, state, True))
        pending = {up, down}
        try:
            while pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                if any(t.result() != "eof" for t in done):
                    break  # a cut or an error ends both directions; an EOF only its own
        finally:
            for t in pending:
                t.cancel()
            for w in (cwriter, swriter):
                self._writers.discard(w)
                w.transport.abort()

    async def _pipe(self, reader, writer, state, downstream):
        """Copies one direction; returns "eof" (passed on as a half-close), "cut" or "error"."""
        cut = self.cut_bytes if downstream else None
        try:
            while True:
                data = await reader.read(self.CHUNK)
                if not data:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return "eof"
                while data:
                    await self._flow.wait()
                    piece = data
                    if cut is not None:
                        piece = piece[:max(0, cut - state["down"])]
                        if not piece:
                            return "cut"
                    t0 = time.monotonic()
                    writer.write(piece)
                    await writer.drain()
                    if downstream:
                        state["down"] += len(piece)
                        self.bytes_down += len(piece)
                    else:
                        self.bytes_up += len(piece)
                    data = data[len(piece):]
                    if self.rate:  # pace: this piece takes len/rate seconds
                        await asyncio.sleep(max(0.0, len(piece) / self.rate - (time.monotonic() - t0)))
        except (ConnectionError, OSError):
            return "error"
