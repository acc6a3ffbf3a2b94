#!/usr/bin/env python3
"""Forkless benchmark suite (started by bench/run, which installs wrk and builds first).

In one run, on 127.0.0.1, each configuration in turn and repeated (rounds interleave the
configurations, so drift of a shared machine spreads over all of them):

  baseline            java -jar demo.jar (the demo alone)
  isolate 1, 2, max   java -jar runtime.jar --isolates N demo.jar (default options: one warm standby)
  isolate 2, --no-loop-checks
  process 2, max      java -jar runtime.jar --mode process --isolates N demo.jar

For each: start -> first answered request, RSS of the whole set (the runtime and all its descendants),
throughput and p50/p99 latency (wrk, keep-alive, fixed connections, after a warm-up), time from an
injected crash (/crash) to the replacement answering (/whoami names it), and failed requests during a
rolling reload (SIGHUP) under load. Then growth curves: memory and start time for 1, 2, 4, 8 copies in
both modes, throughput for 1..4 copies. Reports the median of the rounds.

Writes the Markdown block between <!-- bench:run:begin --> and <!-- bench:run:end --> of the output
file (other sections are kept), SVG charts, and the raw results as JSON.
"""

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# processors for the servers and for the load generator ("0" and "1"), or None for no pinning: set once by main()
# from --pin / --no-pin (pinned by default on machines of 4 processors or fewer, where wrk and the server fight)
PIN = {"server": None, "load": None}
sys.path.insert(0, str(Path(__file__).resolve().parent))
import report  # noqa: E402  (bench/report.py)

# ---------------------------------------------------------------- processes: all ended on exit

STARTED = []  # Popen objects, each the leader of its own session / process group


def spawn(cmd, **kw):
    p = subprocess.Popen(cmd, start_new_session=True, stdin=subprocess.DEVNULL, **kw)
    STARTED.append(p)
    return p


def kill_group(p, sig):
    try:
        os.killpg(p.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def cleanup():
    for p in STARTED:
        kill_group(p, signal.SIGKILL)
    for p in STARTED:
        try:
            p.wait(timeout=5)
        except Exception:
            pass
    STARTED.clear()


def on_signal(signum, _frame):
    cleanup()
    sys.stderr.write(f"bench: stopped by signal {signum}\n")
    os._exit(128 + signum)


# ---------------------------------------------------------------- small helpers

def log(msg):
    sys.stderr.write(time.strftime("%H:%M:%S ") + msg + "\n")
    sys.stderr.flush()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(port, path, timeout=5.0):
    """One request on a fresh connection; returns (status, body). Raises OSError when not served."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        data = b""
        length = None
        while True:
            if length is None and b"\r\n\r\n" in data:
                head = data.split(b"\r\n\r\n", 1)[0]
                m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                length = len(head) + 4 + int(m.group(1)) if m else -1
            if length is not None and 0 <= length <= len(data):
                break  # the whole answer (the server may keep the connection open despite Connection: close)
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    if not data:
        raise ConnectionResetError("empty answer")
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, body.decode(errors="replace")


def descendants(pid):
    out = []
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    kids = [int(x) for x in f.read().split()]
                out += kids
                todo += kids
        except OSError:
            pass
    return out


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def set_rss_mb(pid):
    pids = [pid] + descendants(pid)
    return sum(rss_kb(p) for p in pids) / 1024.0, len(pids)


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


# ---------------------------------------------------------------- wrk

UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse_wrk(text):
    r = {"rps": None, "p50": None, "p99": None, "requests": 0, "errors": 0, "non2xx": 0, "raw": text}
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if m:
        r["rps"] = float(m.group(1))
    for pct, key in (("50", "p50"), ("99", "p99")):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
        if m:
            r[key] = float(m.group(1)) * UNIT[m.group(2)]
    m = re.search(r"(\d+) requests in", text)
    if m:
        r["requests"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        r["socket_errors"] = {k: int(v) for k, v in zip(("connect", "read", "write", "timeout"), m.groups())}
        r["errors"] = sum(r["socket_errors"].values())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        r["non2xx"] = int(m.group(1))
    return r


class Wrk:
    """wrk on 127.0.0.1: keep-alive, one thread, fixed connections, --latency; always bounded in time."""

    def __init__(self, port, connections, seconds, path="/"):
        self.p = spawn([*pinned("load"), "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "--latency",
                        f"http://127.0.0.1:{port}{path}"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
        self.seconds = seconds

    def result(self, stop=False):
        if stop:
            self.p.send_signal(signal.SIGINT)  # wrk prints its statistics on SIGINT
        out, _ = self.p.communicate(timeout=self.seconds + 60)
        STARTED.remove(self.p)
        return parse_wrk(out)


def pinned(side):
    """@return the taskset prefix that keeps a server (and everything it starts) or wrk on its processors"""
    cpus = PIN[side]
    return ["taskset", "-c", cpus] if cpus else []


def default_pin(nproc):
    """Servers on the first half of the processors, wrk on the second, on machines of 2 to 4 processors."""
    if nproc is None or nproc < 2 or nproc > 4:
        return None
    half = nproc // 2
    cpus = lambda a, b: str(a) if a == b else f"{a}-{b}"
    return cpus(0, half - 1), cpus(half, nproc - 1)


def wrk(port, connections, seconds):
    return Wrk(port, connections, seconds).result()


# ---------------------------------------------------------------- one server (the demo alone or a runtime)

EVENT = re.compile(r"^forkless (?:isolate|process)=(\S+) event=(\w+)")


class Server:
    def __init__(self, java, cmd_tail, port, jvm_args=()):
        self.port = port
        self.lines = []  # (monotonic time, line)
        self.cv = threading.Condition()
        self.started = time.monotonic()
        self.p = spawn([*pinned("server"), java, *jvm_args, *cmd_tail], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       text=True, errors="replace")
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stderr:
            now = time.monotonic()
            with self.cv:
                self.lines.append((now, line.rstrip("\n")))
                self.cv.notify_all()
        with self.cv:
            self.cv.notify_all()

    def mark(self):
        with self.cv:
            return len(self.lines)

    def await_line(self, start, pred, what, timeout=120):
        """Index and match of the first line at or after start for which pred returns something truthy."""
        deadline = time.monotonic() + timeout
        i = start
        with self.cv:
            while True:
                while i < len(self.lines):
                    r = pred(self.lines[i][1])
                    if r:
                        return i, r
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0 or self.p.poll() is not None:
                    tail = "\n  ".join(l for _, l in self.lines[-25:])
                    raise RuntimeError(f"no '{what}' within {timeout} s (exit {self.p.poll()}); last lines:\n  {tail}")
                self.cv.wait(min(left, 0.2))

    def event(self, start, kinds, what=None, exclude=(), timeout=120):
        """Waits for 'forkless <kind>=ID event=E' with E in kinds; returns (index, id, event)."""
        def pred(line):
            m = EVENT.match(line)
            return m if m and m.group(2) in kinds and m.group(1) not in exclude else None
        i, m = self.await_line(start, pred, what or "/".join(kinds), timeout)
        return i, m.group(1), m.group(2)

    def first_answer(self, timeout=120):
        """Milliseconds from spawning the JVM to the first 2xx answer (fresh connection every 2 ms)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.p.poll() is not None:
                break
            try:
                status, _ = http_get(self.port, "/", timeout=timeout)
                if status // 100 == 2:
                    return (time.monotonic() - self.started) * 1000
            except OSError:
                pass
            time.sleep(0.002)
        tail = "\n  ".join(l for _, l in self.lines[-25:])
        raise RuntimeError(f"no answer on port {self.port}; last lines:\n  {tail}")

    def rss(self):
        return set_rss_mb(self.p.pid)

    def full_gc(self, java):
        """A full GC in every JVM of the set (jcmd GC.run): G1 then gives back what the live set does not need."""
        jcmd = str(Path(java).parent / "jcmd")
        pids = [self.p.pid] + descendants(self.p.pid)
        procs = [spawn([jcmd, str(pid), "GC.run"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for pid in pids]
        for p in procs:
            try:
                p.wait(timeout=60)
            finally:
                kill_group(p, signal.SIGKILL)
                STARTED.remove(p)
        time.sleep(0.5)

    def stop(self):
        """SIGTERM (a graceful drain), then SIGKILL of the whole process group after 30 s."""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        kill_group(self.p, signal.SIGKILL)  # children left behind, if any
        self.p.wait()
        if self.p in STARTED:
            STARTED.remove(self.p)


# ---------------------------------------------------------------- configurations

class Config:
    def __init__(self, key, label, mode, copies, flags=(), main=False):
        self.key, self.label, self.mode, self.copies, self.flags, self.main = key, label, mode, copies, list(flags), main

    def command(self, port):
        demo = str(ROOT / "demo/target/demo.jar")
        app = [demo, "--port", str(port), "--host", "127.0.0.1"]
        if self.mode == "alone":
            return ["-jar", *app]
        return ["-jar", str(ROOT / "runtime/target/runtime.jar"), "--mode", self.mode,
                "--isolates", str(self.copies), *RUNTIME_OPTIONS, *self.flags, *app]

    def to_json(self):
        return {"key": self.key, "label": self.label, "mode": self.mode, "copies": self.copies,
                "flags": self.flags, "main": self.main}


STANDBY = 1  # the runtime's default --standby
# Default options but one: a reload aborts when a new copy is not ready within --ready-timeout (3 s), and
# a new child JVM under full load on a small machine can take longer; the reload must go through to count.
RUNTIME_OPTIONS = []  # the defaults: a slow new copy no longer aborts a reload (issue 15), it is waited for


def run_one(java, cfg, opts, jvm_args=(), crash=True, reload=True, load=True, throughput=True):
    """One start of one configuration; returns the figures of this round."""
    port = free_port()
    r = {"config": cfg.key, "load": loadavg()[0]}
    srv = Server(java, cfg.command(port), port, jvm_args)
    try:
        r["start_ms"] = srv.first_answer()
        if cfg.mode != "alone":
            i, _ = srv.await_line(0, lambda l: l.startswith("forkless ready:"), "forkless ready")
            r["serving_ms"] = (srv.lines[i][0] - srv.started) * 1000  # every serving copy ready
            # every serving copy and the standby ready: the set is complete
            i = 0
            for _ in range(cfg.copies + STANDBY):
                i, _, _ = srv.event(i, ("ready",), "event=ready")
                i += 1
            r["all_ready_ms"] = max(r["serving_ms"], (srv.lines[i - 1][0] - srv.started) * 1000)
        else:
            r["serving_ms"] = r["all_ready_ms"] = r["start_ms"]
        time.sleep(opts.settle)
        r["rss_idle_mb"], r["processes"] = srv.rss()
        if not load:
            return r
        # a short load first: the memory after it is the growth curves' "loaded" figure
        wrk(port, opts.connections, opts.short_load)
        r["rss_short_mb"], _ = srv.rss()
        srv.full_gc(java)
        r["rss_gc_mb"], _ = srv.rss()
        if throughput:
            if opts.warmup > opts.short_load:
                wrk(port, opts.connections, opts.warmup - opts.short_load)
            w = wrk(port, opts.connections, opts.duration)
            r.update(rps=w["rps"], p50_ms=w["p50"], p99_ms=w["p99"], load_errors=w["errors"] + w["non2xx"])
            r["rss_loaded_mb"], _ = srv.rss()
        if crash and cfg.mode != "alone":
            r.update(measure_crash(srv, port))
        if reload and cfg.mode != "alone":
            r.update(measure_reload(srv, port, opts))
        return r
    finally:
        srv.stop()


def whoami(port):
    status, body = http_get(port, "/whoami", timeout=10)
    if status // 100 != 2:
        raise OSError(f"/whoami answered {status}")
    return json.loads(body)["isolate"]


def measure_crash(srv, port):
    """/crash, then the time until the copy that took the crashed one's place answers a request."""
    mark = srv.mark()
    status, _ = http_get(port, "/crash", timeout=10)
    t0 = time.monotonic()
    if status != 202:
        raise RuntimeError(f"/crash answered {status}")
    i, crashed, _ = srv.event(mark, ("crashed",), "event=crashed", timeout=30)
    # the standby promoted into the slot (or, without one, the slot's restarted copy)
    j, new, kind = srv.event(i, ("promoted", "ready"), "event=promoted", exclude=(crashed,), timeout=60)
    deadline = time.monotonic() + 30
    polls = 0
    others = []  # how long the copies that were already serving took to answer meanwhile
    while True:
        try:
            polls += 1
            tp = time.monotonic()
            if whoami(port) == new:
                break
            others.append((time.monotonic() - tp) * 1000)
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"copy {new} never answered /whoami after the crash")
        time.sleep(0.001)
    t1 = time.monotonic()
    r = {"crash_ms": (t1 - t0) * 1000, "crash_promoted_ms": (srv.lines[j][0] - t0) * 1000,
         "crash_polls": polls, "crash_replacement": kind, "crash_others_max_ms": max(others, default=None),
         "crash_wall": [time.time() - (time.monotonic() - t0), time.time()]}
    # the set is whole again: a new standby is ready (so the reload starts from the same state)
    if kind == "promoted":
        srv.event(j + 1, ("ready",), "a new standby's event=ready", exclude=(crashed, new), timeout=120)
    return r


def measure_reload(srv, port, opts):
    """A rolling reload (SIGHUP) under wrk load; failed = socket errors + non-2xx answers."""
    w = Wrk(port, opts.connections, 600)
    time.sleep(1.0)
    mark = srv.mark()
    t0 = time.monotonic()
    srv.p.send_signal(signal.SIGHUP)
    i, line = srv.await_line(mark, lambda l: l if "event=reloaded" in l else None, "event=reloaded", timeout=300)
    took = (srv.lines[i][0] - t0) * 1000
    time.sleep(1.0)
    res = w.result(stop=True)
    return {"reload_ok": "ok=true" in line, "reload_line": line, "reload_ms": took, "reload_failed": res["errors"] + res["non2xx"],
            "reload_socket_errors": res.get("socket_errors"), "reload_non2xx": res["non2xx"],
            "reload_requests": res["requests"]}


# ---------------------------------------------------------------- JFR

def profile(java, cfg, opts, out_dir):
    """The configuration under the measured load with a JFR recording; the hottest frames."""
    jfr_file = out_dir / f"{cfg.key}.jfr"
    if jfr_file.exists():
        jfr_file.unlink()
    port = free_port()
    srv = Server(java, cfg.command(port), port,
                 [f"-XX:StartFlightRecording=filename={jfr_file},settings=profile,dumponexit=true,jdk.ExecutionSample#period=1ms", "-XX:FlightRecorderOptions:stackdepth=512"])
    try:
        srv.first_answer()
        if cfg.mode != "alone":
            srv.await_line(0, lambda l: l.startswith("forkless ready:"), "forkless ready")
        wrk(port, opts.connections, opts.warmup)
        w = wrk(port, opts.connections, opts.duration)
    finally:
        srv.stop()
    return dict(analyze_load_profile(java, jfr_file), config=cfg.key, rps=w["rps"])


# What the stack of a sample under load says, each tag counted once per sample. "Outside the app's
# handler" = the frame is on the stack but the demo's handler is not (the drain filter wraps the handler,
# so counting it anywhere on the stack would count the whole request).
def _load_tags(names):
    handler = any(n.startswith("dev.forkless.demo.") for n in names)
    tags = []
    if any(n.startswith("dev.forkless.") and not n.startswith("dev.forkless.demo.") for n in names):
        tags.append("Forkless, any frame (the drain filter wraps the handler: includes it)")
    if any(n.startswith(("dev.forkless.isolate.Isolate.requestStarted", "dev.forkless.isolate.Isolate.requestFinished"))
           for n in names):
        tags.append("drain bookkeeping (Isolate.requestStarted/requestFinished)")
    if not handler and any(n.startswith("dev.forkless.isolate.helidon.DrainFeature") for n in names):
        tags.append("drain filter outside the app's handler (bookkeeping, beforeSend, the filter chain)")
    if not handler and any(n.startswith("io.helidon.webserver.http.Filters") for n in names):
        tags.append("Helidon's filter chain outside the app's handler (there only because a filter exists)")
    if any(n.startswith("dev.forkless.isolate.Cancellation") for n in names):
        tags.append("loop checks (Cancellation)")
    if any(n.startswith("dev.forkless.isolate.ListenerView") for n in names):
        tags.append("accept through the listener view")
    if any(n.startswith("io.helidon.") for n in names):
        tags.append("io.helidon, any frame")
    if names and names[0].startswith(("java.util.concurrent.ForkJoinPool.deactivate", "java.util.concurrent.ForkJoinPool.awaitWork")):
        tags.append("idle carrier threads (ForkJoinPool.deactivate/awaitWork on top)")
    return tags


def analyze_load_profile(java, jfr_file):
    top, incl, total = {}, {}, 0
    for e in jfr_samples(java, jfr_file):
        frames = e["values"]["stackTrace"]["frames"] if e["values"].get("stackTrace") else []
        if not frames:
            continue
        total += 1
        names = [tname(fr["method"]) + "." + fr["method"]["name"] for fr in frames]
        top[names[0]] = top.get(names[0], 0) + 1
        for tag in _load_tags(names):
            incl[tag] = incl.get(tag, 0) + 1
    hot = sorted(top.items(), key=lambda kv: -kv[1])[:12]
    return {"samples": total, "file": str(Path(jfr_file).relative_to(ROOT)), "top": [[n, c] for n, c in hot],
            "inclusive": incl}


def tname(method):
    return method["type"]["name"].replace("/", ".")


def jfr_samples(java, jfr_file):
    jfr = Path(java).parent / "jfr"
    text = subprocess.run([str(jfr), "print", "--json", "--stack-depth", "512", "--events", "jdk.ExecutionSample", str(jfr_file)],
                          capture_output=True, text=True, timeout=600).stdout
    return json.loads(text)["recording"]["events"]


def wall(iso):
    """JFR's startTime ('2026-01-01T10:00:00.123456789Z' or with an offset) as epoch seconds."""
    from datetime import datetime
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?", iso)
    base = datetime.fromisoformat(m.group(1) + (m.group(3) or "Z").replace("Z", "+00:00"))
    return base.timestamp() + float("0." + (m.group(2) or "0"))


CRASH_TAGS = (
    ("call-site rewriting (CallSiteRewriter)", lambda t, n: t.startswith("dev.forkless.isolate.CallSiteRewriter")),
    ("class loading (ClassLoader.loadClass)", lambda t, n: t == "java.lang.ClassLoader" and n == "loadClass"),
    ("JDK class spinning (lambdas, method handles, proxies)",
     lambda t, n: t in ("java.lang.invoke.InvokerBytecodeGenerator", "java.lang.invoke.InnerClassLambdaMetafactory",
                        "java.lang.reflect.ProxyGenerator")),
    ("class-file API, by anyone (java.lang.classfile)", lambda t, n: t.startswith(("java.lang.classfile", "jdk.internal.classfile"))),
    ("Helidon", lambda t, n: t.startswith("io.helidon")),
)


def profile_crash(java, cfg, opts, out_dir, crashes):
    """Crashes under a JFR recording: where the time goes between a crash and the replacement's answer."""
    jfr_file = out_dir / f"{cfg.key}-crash.jfr"
    if jfr_file.exists():
        jfr_file.unlink()
    port = free_port()
    srv = Server(java, cfg.command(port), port,
                 [f"-XX:StartFlightRecording=filename={jfr_file},settings=profile,dumponexit=true,jdk.ExecutionSample#period=1ms", "-XX:FlightRecorderOptions:stackdepth=512"])
    windows, figures = [], []
    try:
        srv.first_answer()
        i = 0
        for _ in range(cfg.copies + STANDBY):
            i, _, _ = srv.event(i, ("ready",), "event=ready")
            i += 1
        wrk(port, opts.connections, opts.short_load)
        for _ in range(crashes):
            r = measure_crash(srv, port)
            windows.append(r["crash_wall"])
            figures.append(r["crash_ms"])
    finally:
        srv.stop()
    inside, threads, tags, top, by_thread = 0, {}, {}, {}, {}
    for e in jfr_samples(java, jfr_file):
        v = e["values"]
        t = wall(v["startTime"])
        if not any(a <= t <= b for a, b in windows):
            continue
        frames = v["stackTrace"]["frames"] if v.get("stackTrace") else []
        if not frames:
            continue
        inside += 1
        th = v.get("sampledThread") or {}
        name = re.sub(r"\d+", "N", th.get("javaName") or th.get("osName") or "(unnamed: a virtual thread)")
        threads[name] = threads.get(name, 0) + 1
        f0 = frames[0]["method"]
        top_name = tname(f0) + "." + f0["name"]
        top[top_name] = top.get(top_name, 0) + 1
        seen = set()
        for fr in frames:
            tn, mn = tname(fr["method"]), fr["method"]["name"]
            for tag, test in CRASH_TAGS:
                if tag not in seen and test(tn, mn):
                    seen.add(tag)
                    tags[tag] = tags.get(tag, 0) + 1
                    by_thread.setdefault(name, {})[tag] = by_thread.setdefault(name, {}).get(tag, 0) + 1
    return {"config": cfg.key, "crashes": figures, "samples": inside,
            "window_ms": sum((b - a) * 1000 for a, b in windows), "file": str(jfr_file.relative_to(ROOT)),
            "threads": sorted(threads.items(), key=lambda kv: -kv[1])[:8], "by_thread": by_thread,
            "top": sorted(top.items(), key=lambda kv: -kv[1])[:10], "inclusive": tags}


# ---------------------------------------------------------------- machine

def machine(java):
    def read(path):
        try:
            return Path(path).read_text()
        except OSError:
            return ""
    cpu = re.search(r"model name\s*:\s*(.*)", read("/proc/cpuinfo"))
    mem = re.search(r"MemTotal:\s*(\d+)", read("/proc/meminfo"))
    jdk = subprocess.run([java, "-version"], capture_output=True, text=True).stderr.splitlines()
    return {"nproc": os.cpu_count(), "cpu": cpu.group(1).strip() if cpu else "?",
            "ram_gb": round(int(mem.group(1)) / 1048576, 1) if mem else None,
            "kernel": os.uname().release, "jdk": " / ".join(jdk[:2]) if jdk else "?",
            "wrk": subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()[0:1]}


def loadavg():
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(prog="bench/run", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="one round, short loads, curves at 1, 2, 4 copies; writes reports/bench/quick/ (under 3 minutes)")
    ap.add_argument("--rounds", type=int, help="repetitions of every configuration (default 3; --quick 1)")
    ap.add_argument("--warmup", type=int, help="seconds of load before each measurement (default 15; --quick 2)")
    ap.add_argument("--duration", type=int, help="seconds of measured load (default 10; --quick 2)")
    ap.add_argument("--connections", type=int, default=32, help="wrk's keep-alive connections (default 32)")
    ap.add_argument("--copies", help="copies of the memory/start curve (default 1,2,4,8; --quick 1,2,4)")
    ap.add_argument("--no-profile", action="store_true", help="skip the JFR profile (full runs only)")
    ap.add_argument("--out", help="the Markdown file (default docs/benchmarks.md; --quick reports/bench/quick/benchmarks.md)")
    ap.add_argument("--from-json", help="only rewrite the report from a results.json of an earlier run")
    ap.add_argument("--wait-quiet", type=int, default=0, metavar="SECONDS",
                    help="first wait up to this long for a 1-minute load average below 1.0 (the report says if it never came)")
    ap.add_argument("--profile-only", action="store_true", help="only the JFR profiles (for development)")
    ap.add_argument("--only", help="only these configurations (keys as in results.json, comma-separated): for development")
    ap.add_argument("--pin", metavar="SERVER:LOAD",
                    help="processors for the servers and for wrk, as taskset -c takes them, e.g. 0:1 or 0-1:2-3 "
                         "(default on 2 to 4 processors: the first half for the servers, the rest for wrk)")
    ap.add_argument("--no-pin", action="store_true", help="no taskset: servers and wrk share every processor")
    ap.add_argument("--command", help=argparse.SUPPRESS)
    opts = ap.parse_args()
    if opts.pin and opts.no_pin:
        sys.stderr.write("bench/run: --pin and --no-pin exclude each other\n")
        return 2
    if opts.pin:
        if not re.fullmatch(r"[0-9,-]+:[0-9,-]+", opts.pin):
            sys.stderr.write(f"bench/run: --pin takes SERVER:LOAD processor lists (e.g. 0:1), not {opts.pin}\n")
            return 2
        PIN["server"], PIN["load"] = opts.pin.split(":")
    elif not opts.no_pin and not opts.from_json:
        pin = default_pin(os.cpu_count())
        if pin:
            PIN["server"], PIN["load"] = pin
    q = opts.quick
    opts.rounds = opts.rounds or (1 if q else 3)
    opts.warmup = opts.warmup if opts.warmup is not None else (2 if q else 15)
    opts.duration = opts.duration or (2 if q else 10)
    opts.short_load = min(opts.warmup, 2 if q else 5)
    opts.settle = 0.5 if q else 2.0
    curve = [int(x) for x in (opts.copies or ("1,2,4" if q else "1,2,4,8")).split(",")]
    out = Path(opts.out) if opts.out else ROOT / ("reports/bench/quick/benchmarks.md" if q else "docs/benchmarks.md")
    out = out if out.is_absolute() else ROOT / out
    img_dir = out.parent / "img"
    data_dir = ROOT / ("reports/bench/quick" if q else "reports/bench")  # a quick run keeps the full run's data
    data_dir.mkdir(parents=True, exist_ok=True)

    if opts.from_json:
        results = json.loads(Path(opts.from_json).read_text())
        java = str(Path(os.environ.get("JAVA_HOME", "")) / "bin" / "java")
        for p in results.get("profiles", []):  # summaries are redrawn from the recordings, when kept
            if (ROOT / p["file"]).exists():
                p.update(analyze_load_profile(java, ROOT / p["file"]))
        report.write(results, out, img_dir)
        log(f"wrote {out}")
        return 0

    java = str(Path(os.environ.get("JAVA_HOME", "")) / "bin" / "java")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    nproc = os.cpu_count()
    waited = None
    if opts.wait_quiet:
        t0 = time.monotonic()
        while loadavg()[0] >= 1.0 and time.monotonic() - t0 < opts.wait_quiet:
            log(f"bench: waiting for a quiet machine, load average {loadavg()}")
            time.sleep(15)
        waited = {"waited_s": round(time.monotonic() - t0), "quiet": loadavg()[0] < 1.0, "limit_s": opts.wait_quiet}
    t_start = time.monotonic()
    results = {"command": opts.command or "bench/suite.py " + " ".join(sys.argv[1:]), "quick": q,
               "machine": machine(java), "load_before": loadavg(), "wait_quiet": waited, "started": time.strftime("%Y-%m-%d %H:%M"),
               "settings": {"pin": dict(PIN) if PIN["server"] else None, "rounds": opts.rounds, "warmup_s": opts.warmup, "duration_s": opts.duration,
                            "connections": opts.connections, "short_load_s": opts.short_load,
                            "standby": STANDBY, "runtime_options": RUNTIME_OPTIONS, "curve_copies": curve, "throughput_copies": [1, 2, 3, 4]}}
    log(f"bench: load average {results['load_before']}, {nproc} processors")

    # the main table
    configs = [Config("alone", "demo alone (baseline)", "alone", 1, main=True),
               Config("isolate-1", "isolate, 1 copy", "isolate", 1, main=True),
               Config("isolate-2", "isolate, 2 copies", "isolate", 2, main=True),
               Config("isolate-2-noloop", "isolate, 2 copies, --no-loop-checks", "isolate", 2,
                      ["--no-loop-checks"], main=True),
               Config("process-2", "process, 2 copies", "process", 2, main=True)]
    aliases = {}
    for mode in ("isolate", "process"):
        key = f"{mode}-{nproc}"
        if any(c.key == key for c in configs):
            aliases[f"{mode}-max"] = key
        else:
            configs.append(Config(key, f"{mode}, max = {nproc} copies", mode, nproc, main=True))
            aliases[f"{mode}-max"] = key
    # the curves: memory/start for the curve's copies, throughput for 1..4 (quick: only where measured anyway)
    have = {(c.mode, c.copies) for c in configs if not c.flags}
    for mode in ("isolate", "process"):
        for n in sorted(set(curve) | ({1, 2, 3, 4} if not q else set())):
            if (mode, n) not in have:
                configs.append(Config(f"{mode}-{n}", f"{mode}, {n} copies", mode, n))
                have.add((mode, n))
    if opts.only:
        configs = [c for c in configs if c.key in opts.only.split(",")]
    results["configs"] = [c.to_json() for c in configs]
    results["aliases"] = aliases
    rounds = {c.key: [] for c in configs}
    results["rounds"] = rounds
    try:
        for rnd in range(1, 0 if opts.profile_only else opts.rounds + 1):
            for c in configs:
                log(f"round {rnd}/{opts.rounds}: {c.label}")
                measure_tp = c.main or c.copies <= 4
                try:
                    r = run_one(java, c, opts, crash=c.main, reload=c.main,
                                load=True, throughput=measure_tp and not (q and not c.main))
                except (RuntimeError, OSError, subprocess.SubprocessError, ValueError) as e:
                    # one failed start does not end the run: the round is recorded with its error
                    log(f"  FAILED: {e}")
                    r = {"config": c.key, "error": str(e)[:2000]}
                r["round"] = rnd
                rounds[c.key].append(r)
                log("  " + ", ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}"
                                     for k, v in r.items() if k not in ("config", "round")))
                (data_dir / "results.json").write_text(json.dumps(results, indent=1))
        if (not q and not opts.no_profile) or opts.profile_only:
            results["profiles"] = []
            for key in ("alone", "isolate-1", "isolate-2"):
                c = next((c for c in configs if c.key == key), None)
                if c:
                    log(f"profile (JFR): {c.label}")
                    results["profiles"].append(profile(java, c, opts, data_dir))
            c = next((c for c in configs if c.key == "isolate-1"), None)
            if c:
                log(f"profile (JFR): {c.label}, crashes")
                results["crash_profile"] = profile_crash(java, c, opts, data_dir, 3 if q else 10)
    finally:
        cleanup()
    results["load_after"] = loadavg()
    results["elapsed_s"] = round(time.monotonic() - t_start)
    (data_dir / "results.json").write_text(json.dumps(results, indent=1))
    report.write(results, out, img_dir)
    log(f"bench: done in {results['elapsed_s']} s; wrote {out}, {img_dir}/bench-*.svg and {data_dir / 'results.json'}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        cleanup()
