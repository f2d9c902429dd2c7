"""Serve the simulators on loopback, each on its own port (one origin each, like real life), in
background threads so that tests and the demo can start and stop them in-process."""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from pathlib import Path

from werkzeug.serving import make_server

from .arena.app import create_app as create_arena_app
from .ent.app import create_app as create_ent_app
from .ent.seed import DEMO_ENT_ADMIN, seed_ent
from .sacoche.app import create_app as create_sacoche_app
from .sacoche.connectors import ESUP_CAS_SERVER
from .seed import DEMO_SCHOOLS, demo_school_data, seed_sacoche


class TimedApp:
    """WSGI wrapper adding up the time the simulator spends serving requests, and keeping when
    each was served (wall clock), so that benchmarks can set each step's server time beside the
    bot's own."""

    def __init__(self, app, kept_intervals: int = 200_000):
        self.app = app
        self.seconds = 0.0
        self.requests = 0
        self.intervals: deque[tuple[float, float]] = deque(maxlen=kept_intervals)   # (start, end), time.time()
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        started, wall = time.perf_counter(), time.time()
        try:
            return list(self.app(environ, start_response))
        finally:
            spent = time.perf_counter() - started
            with self._lock:
                self.seconds += spent
                self.requests += 1
                self.intervals.append((wall, wall + spent))

    def intervals_between(self, start: float, end: float) -> list[tuple[float, float]]:
        """(start, end) of the requests that started between `start` and `end` (time.time())."""
        with self._lock:
            return [(a, b) for a, b in self.intervals if start <= a < end]


def busy_seconds(intervals) -> float:
    """How long at least one request was being served: requests served at the same time (a
    page's files, lists asked for at once, two simulators) count once, so that a bot asking for
    more at a time does not make the servers look busier than they were."""
    busy, reach = 0.0, float("-inf")
    for start, end in sorted(intervals):
        if end > reach:
            busy += end - max(start, reach)
            reach = end
    return busy


class ServedApp:
    """One simulator on its own port, served from a background thread. It can go away and come
    back on the same port (the `go_away` fault), as a real server restarting would."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, quiet: bool = True, ssl_context=None):
        """`ssl_context`: (certificate file, key file) to serve https (the TLS tests)."""
        if quiet:
            logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.app = app
        self.timing = TimedApp(app)
        self._lock = threading.Lock()
        self._stopped = False
        self.ssl_context = ssl_context
        self._server = make_server(host, port, self.timing, threaded=True, ssl_context=ssl_context)
        self.host, self.port = host, self._server.server_port
        self._thread = self._serving_thread()
        faults = app.config.get("FAULTS")
        if faults is not None and hasattr(faults, "go_away"):
            faults.go_away = self.go_away

    def _serving_thread(self) -> threading.Thread:
        return threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"{'https' if self.ssl_context else 'http'}://{self.host}:{self.port}/"

    def start(self) -> "ServedApp":
        self._thread.start()
        return self

    def _close(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._server.server_close()

    def go_away(self, seconds: float) -> None:
        """Stop listening now (new connections are refused) and come back after `seconds`.
        Called from a request thread, never from the serving thread."""
        with self._lock:
            if self._stopped:
                return
            self._close()

        def come_back():
            threading.Event().wait(seconds)   # the simulated outage
            with self._lock:
                if self._stopped:
                    return
                self._server = make_server(self.host, self.port, self.timing, threaded=True,
                                           ssl_context=self.ssl_context)
                self._thread = self._serving_thread()
                self._thread.start()
        threading.Thread(target=come_back, daemon=True).start()

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            self._close()


class Simulators:
    """The three simulated sites (three origins on loopback: SACoche, the ENT, ARENA) with their
    state folder; use as a context manager. The ENT and ARENA hold the same synthetic school as
    the files the bot imports, and SACoche's CAS connector for the Montpellier ENT is pointed at
    the local ENT."""

    def __init__(self, state_dir: Path, host: str = "127.0.0.1", sacoche_port: int = 0, ent_port: int = 0,
                 seed: bool = True, quiet: bool = True, today=None, school_data=None, arena_port: int = 0):
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        sacoche_app = create_sacoche_app(self.state_dir, today=today)
        ent_app = create_ent_app(self.state_dir)
        self.sacoche_store = sacoche_app.config["STORE"]
        self.ent_store = ent_app.config["STORE"]
        self.sacoche = ServedApp(sacoche_app, host, sacoche_port, quiet=quiet)
        self.ent = ServedApp(ent_app, host, ent_port, quiet=quiet)
        sacoche_app.config["CAS_HOSTS"] = {ESUP_CAS_SERVER["host"]: self.ent.url.rstrip("/")}
        self.school_data = school_data
        if seed:
            seed_sacoche(self.sacoche_store)
            self.school_data = school_data or demo_school_data(today=today)
            school = DEMO_SCHOOLS[0]
            seed_ent(self.ent_store, self.school_data, uai=school.uai, admin_login=DEMO_ENT_ADMIN[0],
                     admin_password=DEMO_ENT_ADMIN[1], sacoche_url=self.sacoche.url, school_name=school.name)
        # ARENA gives the exports of the same school (none when nothing was seeded).
        self.arena = ServedApp(create_arena_app(self.school_data), host, arena_port, quiet=quiet)

    @property
    def arena_url(self) -> str:
        return self.arena.url

    @property
    def sacoche_url(self) -> str:
        return self.sacoche.url

    @property
    def ent_url(self) -> str:
        return self.ent.url

    def start(self) -> "Simulators":
        self.sacoche.start()
        self.ent.start()
        self.arena.start()
        return self

    def stop(self) -> None:
        self.sacoche.stop()
        self.ent.stop()
        self.arena.stop()
        self.sacoche_store.close()
        self.ent_store.close()

    def __enter__(self) -> "Simulators":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
