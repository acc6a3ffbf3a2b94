#!/usr/bin/env python3
"""Forkless beside its peers, pinned (issue 16): throughput, latency and memory in one run.

Every configuration serves a small answer on 127.0.0.1 with one core: the server and everything it
starts pinned to processor 0 (taskset -c 0, inherited by every child), the load generator pinned to
processor 1 (taskset -c 1 wrk -t1 -c64 --latency). Each start: wait until it answers (and, where it
says so, until every copy is ready), a warm-up load (discarded; after --warmup seconds it goes on in
5 s steps until the JIT has finished: it compiled less than 2% of each of three steps in a row; on one
core the JIT compiles each isolate's copy of the app's classes on the serving CPU), then the measured load, then the RSS
of the whole set (the started process and all its descendants). The configurations take turns within
each round; the report gives the median of the rounds.

  nginx               nginx, 1 worker, return 200 "hello": the ceiling of this machine and load
  demo alone          java -jar demo.jar (Helidon 4)
  Forkless isolate 1, 2 and process 2 with the demo (default options but --admin off)
  node alone          http.createServer hello world (bench/peers-apps/hello.js)
  PM2 -i 2            pm2-runtime, cluster mode, 2 copies of hello.js (bench/.peers, npm)
  node cluster 2      Node's cluster module, 2 workers (bench/peers-apps/cluster.js)
  Vert.x alone, Vert.x --instances 2, Forkless isolate 1 and 2 with the Vert.x example

Writes a Markdown section (default reports/bench/peers.md; with --out FILE, the block between
<!-- bench:peers:begin --> and <!-- bench:peers:end --> of FILE, other text kept) and the raw figures
beside it as JSON.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- bench:peers:begin -->", "<!-- bench:peers:end -->"
PM2_DIR = ROOT / "bench/.peers"
PM2_BIN = PM2_DIR / "node_modules/.bin"
APPS = ROOT / "bench/peers-apps"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
NODE = shutil.which("node") or "/usr/bin/node"
SERVER_CPU, LOAD_CPU = "0", "1"
CONNECTIONS = 64
STANDBY = 1  # the runtime's default --standby: every Forkless set below holds one warm standby
# every process this run starts carries this in its environment: the last sweep finds even one that
# left its process group (a daemon), and ends it
RUN_TAG = "FORKLESS_PEERS_RUN"
RUN_ID = uuid.uuid4().hex

# ---------------------------------------------------------------- processes: all ended on exit

STARTED = []  # Popen objects, each the leader of its own session / process group


def spawn(cmd, env=None, **kw):
    e = dict(os.environ if env is None else env)
    e[RUN_TAG] = RUN_ID
    p = subprocess.Popen(cmd, start_new_session=True, stdin=subprocess.DEVNULL, env=e, **kw)
    STARTED.append(p)
    return p


def kill_group(p, sig):
    try:
        os.killpg(p.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def tagged_pids():
    """Processes of this run still alive, wherever they are (their environment carries RUN_ID)."""
    mine = f"{RUN_TAG}={RUN_ID}".encode()
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit() and int(d) != os.getpid():
            try:
                with open(f"/proc/{d}/environ", "rb") as f:
                    if mine in f.read().split(b"\0"):
                        out.append(int(d))
            except OSError:
                pass
    return out


TEMP_DIRS = []  # each start's directory (logs, nginx conf, PM2_HOME)


def cleanup():
    """SIGTERM to every group still running (a runtime removes its sockets), SIGKILL after 5 s."""
    live = [p for p in STARTED if p.poll() is None]
    for p in live:
        kill_group(p, signal.SIGTERM)
    deadline = time.monotonic() + 5
    for p in live:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except Exception:
            pass
    for p in STARTED:
        kill_group(p, signal.SIGKILL)
    for p in STARTED:
        try:
            p.wait(timeout=5)
        except Exception:
            pass
    STARTED.clear()
    for d in TEMP_DIRS:
        shutil.rmtree(d, ignore_errors=True)
    TEMP_DIRS.clear()
    for pid in tagged_pids():
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def on_signal(signum, _frame):
    cleanup()
    sys.stderr.write(f"bench/peers: stopped by signal {signum}\n")
    os._exit(128 + signum)


# ---------------------------------------------------------------- small helpers

def log(msg):
    sys.stderr.write(time.strftime("%H:%M:%S ") + msg + "\n")
    sys.stderr.flush()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(port):
    """True when GET / on a fresh connection answers 2xx."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            head = s.recv(64)
            return head.startswith(b"HTTP/1.") and head[9:10] == b"2"
    except OSError:
        return False


def descendants(pid):
    out, todo = [], [pid]
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


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def loadavg():
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse_wrk(text):
    r = {"rps": None, "p50": None, "p99": None, "errors": 0}
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if m:
        r["rps"] = float(m.group(1))
    for pct, key in (("50", "p50"), ("99", "p99")):
        m = re.search(rf"^\s+{pct}(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
        if m:
            r[key] = float(m.group(1)) * UNIT[m.group(2)]
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        r["errors"] += sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        r["errors"] += int(m.group(1))
    return r


STEADY_STEP_S = 5
STEADY_STEPS = 3
STEADY_SHARE = 0.03
# a JVM is warm once its JIT compiled for less than this share of each of the last STEADY_STEPS steps
JIT_QUIET_SHARE = 0.02


NATIVE_WARMUP_S = 10  # nginx and node (V8 compiles a hello world in well under a second)


def jvm_pids(pids):
    """The Java processes among pids (the runtime, its child JVMs, an app alone)."""
    out = []
    for pid in pids:
        try:
            if os.path.basename(os.readlink(f"/proc/{pid}/exe")) == "java":
                out.append(pid)
        except OSError:
            pass
    return out


def jit_seconds(pids):
    """Seconds the JIT compilers of these JVMs have spent so far (jstat -compiler, its Time column, read from
    the JVM's perf data without stopping it; jstat runs on the load's processor between steps). None when no
    JVM answers."""
    jstat = str(Path(os.environ.get("JAVA_HOME", "/usr/lib/jvm/temurin-25-jdk-amd64")) / "bin" / "jstat")
    total, seen = 0.0, False
    for pid in pids:
        try:
            out = subprocess.run(["taskset", "-c", LOAD_CPU, jstat, "-compiler", str(pid)], capture_output=True,
                                 text=True, timeout=30).stdout.split("\n")
            total += float(out[1].split()[3])
            seen = True
        except (OSError, subprocess.TimeoutExpired, IndexError, ValueError):
            pass
    return total if seen else None


def warm_up(port, pinned, opts, jit=True, pids=()):
    """Discarded load: --warmup seconds, then (unless --no-steady) 5 s steps until warm, at most --warmup-max
    seconds in all. A JVM is warm when its JIT has finished: in each of the last three steps its compilers
    (every JVM of the set, summed) worked less than 2% of the step. On one CPU the JIT compiles while it
    serves, and two isolates are two copies of every app class to compile; Spring Boot's JIT works for
    about 100 s under this load. Three steps whose rates agree within 3% were the test before (session 12):
    Spring Boot's rate swings by a fifth between 10 s windows even with its JIT done, and on a plateau
    reached before C2 had finished, steps could agree too (session 10: Javalin measured at 0.17 of itself).
    Programs that are not JVMs (nginx, node) are warm when three steps agree within 3%.
    @return (seconds of warm-up, whether it was warm before --warmup-max)"""
    spent = 0
    warmup = opts.warmup if jit else min(opts.warmup, NATIVE_WARMUP_S)
    if warmup > 0:
        wrk(port, warmup, pinned)
        spent += warmup
    jvms = jvm_pids(pids) if jit else []
    steps, quiet = [], []
    compiled = jit_seconds(jvms) if jvms else None
    while opts.steady and spent + STEADY_STEP_S <= opts.warmup_max:
        steps.append(wrk(port, STEADY_STEP_S, pinned)["rps"])
        spent += STEADY_STEP_S
        if compiled is not None:
            now = jit_seconds(jvms)
            quiet.append(now is not None and now - compiled < JIT_QUIET_SHARE * STEADY_STEP_S)
            compiled = now if now is not None else compiled
            if len(quiet) >= STEADY_STEPS and all(quiet[-STEADY_STEPS:]):
                return spent, True
        else:
            last = steps[-STEADY_STEPS:]
            if len(last) == STEADY_STEPS and min(last) >= (1 - STEADY_SHARE) * max(last):
                return spent, True
    return spent, not opts.steady


def wrk(port, seconds, pinned):
    cmd = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "5s", "--latency",
           f"http://127.0.0.1:{port}/"]
    if pinned:
        cmd = ["taskset", "-c", LOAD_CPU, *cmd]
    p = spawn(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = p.communicate(timeout=seconds + 60)
    finally:
        kill_group(p, signal.SIGKILL)
        STARTED.remove(p)
    r = parse_wrk(out)
    if r["rps"] is None:
        raise RuntimeError("wrk printed no figures:\n" + out[-2000:])
    return r


# ---------------------------------------------------------------- configurations

class Config:
    """One server set: how to start it on a port, which line says every copy is ready, its baseline."""

    def __init__(self, key, label, group, baseline, command, ready=None, ready_count=1, env=None, copies=1, jvm=True):
        self.key, self.label, self.group, self.baseline, self.jvm = key, label, group, baseline, jvm
        self.command, self.ready, self.ready_count, self.env, self.copies = command, ready, ready_count, env, copies


def configs(java):
    runtime = str(ROOT / "runtime/target/runtime.jar")
    demo = str(ROOT / "demo/target/demo.jar")
    vertx = str(ROOT / "examples/vertx/target/example-vertx.jar")
    forkless = [java, "-jar", runtime, "--admin", "off"]

    def demo_args(port):
        return [demo, "--port", str(port), "--host", "127.0.0.1"]

    def vertx_args(port):
        return [vertx, "--port", str(port), "--host", "127.0.0.1"]

    spring = str(ROOT / "examples/spring-boot-tomcat/target/example-spring-boot-tomcat.jar")
    javalin = str(ROOT / "examples/javalin/target/example-javalin.jar")

    def example_rows(key, label, jar):
        """An example app (issue 16 item 1: at least 0.95 of itself alone): alone, 1 and 2 isolates, 2 child JVMs."""
        def args(port):
            return [jar, "--port", str(port)]
        return [
            Config(key, f"{label} alone", key, key, lambda tmp, port: [java, "-jar", *args(port)]),
            # one isolate tells what a request pays for the isolate; two, what a second copy on the same CPU adds
            Config(f"forkless-{key}-1", f"Forkless `--isolates 1`, {label}", key, key,
                   lambda tmp, port: [*forkless, "--isolates", "1", *args(port)], FORKLESS_READY, 1 + STANDBY),
            Config(f"forkless-{key}-2", f"Forkless `--isolates 2`, {label}", key, key,
                   lambda tmp, port: [*forkless, "--isolates", "2", *args(port)], FORKLESS_READY, 2 + STANDBY, copies=2),
            Config(f"forkless-process-{key}-2", f"Forkless `--mode process --isolates 2`, {label}", key, key,
                   lambda tmp, port: [*forkless, "--mode", "process", "--isolates", "2", *args(port)],
                   FORKLESS_READY, 2 + STANDBY, copies=2),
        ]

    def nginx_setup(tmp, port):
        (tmp / "logs").mkdir(exist_ok=True)
        conf = tmp / "nginx.conf"
        conf.write_text(f"""daemon off;
master_process on;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/logs/error.log warn;
{"user root;" if os.geteuid() == 0 else ""}
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{port};
        location / {{ return 200 "hello"; }}
    }}
}}
""")
        return [NGINX, "-p", str(tmp), "-e", f"{tmp}/logs/error.log", "-c", str(conf)]

    def node_env(tmp, port):
        return {"PORT": str(port), "HOST": "127.0.0.1"}

    # every serving copy and the default standby ready ("forkless ready:" comes once the serving ones are):
    # the standby's start must not fall into the measured load
    FORKLESS_READY = r"^forkless (?:isolate|process)=\S+ event=ready"
    return [
        Config("nginx", 'nginx, 1 worker, `return 200 "hello"` (the ceiling)', "nginx", "nginx",
               lambda tmp, port: nginx_setup(tmp, port), jvm=False),
        Config("demo", "demo alone (Helidon 4)", "demo", "demo",
               lambda tmp, port: [java, "-jar", *demo_args(port)]),
        Config("forkless-1", "Forkless `--isolates 1`, demo", "demo", "demo",
               lambda tmp, port: [*forkless, "--isolates", "1", *demo_args(port)], FORKLESS_READY, 1 + STANDBY),
        Config("forkless-2", "Forkless `--isolates 2`, demo", "demo", "demo",
               lambda tmp, port: [*forkless, "--isolates", "2", *demo_args(port)], FORKLESS_READY, 2 + STANDBY, copies=2),
        # without the warm standby: a third copy of every app class makes JDK call sites the copies share see
        # three receiver types, where C2 inlines at most two (session 11's lead)
        Config("forkless-2-standby0", "Forkless `--isolates 2 --standby 0`, demo", "demo", "demo",
               lambda tmp, port: [*forkless, "--isolates", "2", "--standby", "0", *demo_args(port)], FORKLESS_READY, 2,
               copies=2),
        Config("forkless-process-2", "Forkless `--mode process --isolates 2`, demo", "demo", "demo",
               lambda tmp, port: [*forkless, "--mode", "process", "--isolates", "2", *demo_args(port)],
               FORKLESS_READY, 2 + STANDBY, copies=2),
        Config("node", "node alone (`http.createServer`)", "node", "node",
               lambda tmp, port: [NODE, str(APPS / "hello.js")], env=node_env, jvm=False),
        Config("pm2-2", "PM2 `-i 2` (cluster mode), same hello world", "node", "node",
               lambda tmp, port: [str(PM2_BIN / "pm2-runtime"), "start", str(APPS / "hello.js"), "-i", "2",
                                  "--name", "hello"],
               r"App \[hello:\d+\] online", 2, copies=2, env=lambda tmp, port: {**node_env(tmp, port), "PM2_HOME": str(tmp / "pm2")},
               jvm=False),
        Config("node-cluster-2", "node `cluster`, 2 workers, same hello world", "node", "node",
               lambda tmp, port: [NODE, str(APPS / "cluster.js")], r"^cluster ready", 1, copies=2,
               env=lambda tmp, port: {**node_env(tmp, port), "WORKERS": "2"}, jvm=False),
        Config("vertx", "Vert.x 5 alone (1 verticle)", "vertx", "vertx",
               lambda tmp, port: [java, "-jar", *vertx_args(port)]),
        Config("vertx-instances-2", "Vert.x 5 `--instances 2` (2 verticles)", "vertx", "vertx",
               lambda tmp, port: [java, "-jar", *vertx_args(port), "--instances", "2"], r"listening on .* \(2 instances\)",
               copies=2),
        Config("forkless-vertx-1", "Forkless `--isolates 1`, Vert.x", "vertx", "vertx",
               lambda tmp, port: [*forkless, "--isolates", "1", *vertx_args(port)], FORKLESS_READY, 1 + STANDBY),
        Config("forkless-vertx-2", "Forkless `--isolates 2`, Vert.x", "vertx", "vertx",
               lambda tmp, port: [*forkless, "--isolates", "2", *vertx_args(port)], FORKLESS_READY, 2 + STANDBY, copies=2),
        Config("forkless-process-vertx-2", "Forkless `--mode process --isolates 2`, Vert.x", "vertx", "vertx",
               lambda tmp, port: [*forkless, "--mode", "process", "--isolates", "2", *vertx_args(port)],
               FORKLESS_READY, 2 + STANDBY, copies=2),
        *example_rows("spring", "Spring Boot 4 on Tomcat (example)", spring),
        *example_rows("javalin", "Javalin 7 on Jetty 12 (example)", javalin),
    ]


def affinity_of(pids):
    out = set()
    for p in pids:
        try:
            out.add(",".join(str(c) for c in sorted(os.sched_getaffinity(p))))
        except OSError:
            pass
    return sorted(out)


def run_one(cfg, opts, pinned):
    port = free_port()
    tmp = Path(tempfile.mkdtemp(prefix=f"peers-{cfg.key}-"))
    TEMP_DIRS.append(tmp)
    r = {"config": cfg.key, "pinned": pinned, "load": loadavg()[0]}
    cmd = cfg.command(tmp, port)
    if pinned:
        cmd = ["taskset", "-c", SERVER_CPU, *cmd]
    env = dict(os.environ)
    if cfg.env:
        env.update(cfg.env(tmp, port))
    logf = open(tmp / "server.log", "w+")
    t0 = time.monotonic()
    p = spawn(cmd, env=env, stdout=logf, stderr=subprocess.STDOUT)
    try:
        deadline = t0 + 180
        while not answers(port):
            if p.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"no answer on {port} (exit {p.poll()}):\n" + tail(tmp / "server.log"))
            time.sleep(0.05)
        r["first_answer_ms"] = round((time.monotonic() - t0) * 1000)
        if cfg.ready:
            pat = re.compile(cfg.ready, re.M)
            while len(pat.findall((tmp / "server.log").read_text(errors="replace"))) < cfg.ready_count:
                if p.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"never '{cfg.ready}' x{cfg.ready_count}:\n" + tail(tmp / "server.log"))
                time.sleep(0.05)
            r["ready_ms"] = round((time.monotonic() - t0) * 1000)
        pids = [p.pid] + descendants(p.pid)
        r["processes"] = len(pids)
        r["affinity"] = affinity_of(pids)
        if pinned and r["affinity"] != [SERVER_CPU]:
            raise RuntimeError(f"not pinned: processor sets {r['affinity']}")
        r["warmup_s"], r["warm"] = warm_up(port, pinned, opts, jit=cfg.jvm, pids=pids)
        w = wrk(port, opts.duration, pinned)
        r.update(rps=w["rps"], p50_ms=w["p50"], p99_ms=w["p99"], errors=w["errors"])
        pids = [p.pid] + descendants(p.pid)
        r["rss_mb"] = round(sum(rss_kb(x) for x in pids) / 1024.0, 1)
        r["processes"] = len(pids)
        if p.poll() is not None:
            raise RuntimeError(f"the server ended during the load (exit {p.poll()}):\n" + tail(tmp / "server.log"))
        return r
    finally:
        if p.poll() is None:
            kill_group(p, signal.SIGTERM)
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        kill_group(p, signal.SIGKILL)  # whatever is left of the group
        p.wait()
        STARTED.remove(p)
        logf.close()
        shutil.rmtree(tmp, ignore_errors=True)
        TEMP_DIRS.remove(tmp)


def tail(path, n=25):
    try:
        return "\n".join("  " + l for l in Path(path).read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


# ---------------------------------------------------------------- machine

def first_line(cmd):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        lines = (p.stdout + p.stderr).strip().splitlines()
        return lines[0].strip() if lines else "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def machine(java):
    cpu = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text())
    mem = re.search(r"MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text())
    pm2 = "?"
    try:
        pm2 = json.loads((PM2_DIR / "node_modules/pm2/package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu.group(1).strip() if cpu else "?",
            "ram_gb": round(int(mem.group(1)) / 1048576, 1) if mem else None,
            "kernel": os.uname().release, "jdk": first_line([java, "-version"]).replace('"', ""),
            "node": first_line([NODE, "--version"]), "nginx": first_line([NGINX, "-v"]).replace("nginx version: nginx/", ""),
            "pm2": pm2, "wrk": first_line(["wrk", "-v"]).split(" Copyright")[0]}


# ---------------------------------------------------------------- report

def fmt(x, spec="{:,.0f}"):
    return "n/a" if x is None else spec.format(x)


def summarize(results):
    """Medians per configuration and mode; ratios to the group's baseline."""
    summary = {}
    for mode in results["modes"]:
        rows = {}
        for c in results["configs"]:
            rs = [r for r in results["rounds"] if r["config"] == c["key"] and r["pinned"] == (mode == "pinned")
                  and "rps" in r]
            rows[c["key"]] = {"rps": median([r["rps"] for r in rs]), "p50_ms": median([r["p50_ms"] for r in rs]),
                              "p99_ms": median([r["p99_ms"] for r in rs]), "rss_mb": median([r["rss_mb"] for r in rs]),
                              "errors": sum(r["errors"] for r in rs), "n": len(rs)}
        for c in results["configs"]:
            base = rows.get(c["baseline"], {}).get("rps")
            row = rows[c["key"]]
            row["ratio"] = row["rps"] / base if row["rps"] and base else None
            ng = rows.get("nginx", {}).get("rps")
            row["of_nginx"] = row["rps"] / ng if row["rps"] and ng else None
        summary[mode] = rows
    return summary


def headline(rows, a, b, target, what, quick=False):
    ra, rb = rows.get(a, {}).get("rps"), rows.get(b, {}).get("rps")
    if not ra or not rb:
        return f"- **{what}**: not measured in this run."
    ratio = ra / rb
    verdict = "**met**" if ratio >= target else "**not met**"
    if quick:
        verdict += " on this quick run (no verdict: warm-up too short for JIT, one round)"
    return f"- **{what}** = {ra:,.0f} / {rb:,.0f} = **{ratio:.2f}** (target ≥ {target}): {verdict}."


def markdown(results):
    s = results["settings"]
    m = results["machine"]
    summary = summarize(results)
    quick = s["quick"]
    out = [BEGIN, ""]
    if quick:
        out += ["**Quick run (1 short round): noisy figures, for checking the script, not for quoting.**", ""]
    out += [f"Command: `{results['command']}` — {results['started']} UTC, {results['elapsed_s']} s.", "",
            f"Machine: {m['nproc']} processors ({m['cpu']}), {m['ram_gb']} GB, Linux {m['kernel']}; {m['jdk']}; "
            f"node {m['node']}; nginx {m['nginx']}; PM2 {m['pm2']}; {m['wrk']}.", "",
            f"Pinning: every server and everything it starts on processor {SERVER_CPU} (`taskset -c {SERVER_CPU}`, "
            f"checked on every process of the set with sched_getaffinity), the load on processor {LOAD_CPU} "
            f"(`taskset -c {LOAD_CPU} wrk -t1 -c{CONNECTIONS} --latency`, keep-alive, `GET /` on 127.0.0.1). "
            + ("Unpinned figures (no taskset anywhere) are measured in the same rounds and written beside. "
               if "unpinned" in results["modes"] else "")
            + f"Load averages (1, 5, 15 min): before {results['load_before']}, after {results['load_after']}.", "",
            f"Each start: wait until it answers and every copy is ready, {s['warmup_s']} s of warm-up load "
            + (f"then {STEADY_STEP_S} s steps until warm: for a JVM, until its JIT (every JVM of the set, "
               f"`jstat -compiler`) compiled less than {round(JIT_QUIET_SHARE * 100)}% of each of three steps in a "
               f"row; for nginx and node, until three steps agree within {round(STEADY_SHARE * 100)}% "
               f"(at most {s.get('warmup_max_s')} s of warm-up in all, a run that stopped there says 'no' in the "
               "warm column; the JIT compiles each isolate's classes on the serving CPU) " if s.get("steady") else "")
            + f"(discarded), {s['duration_s']} s measured, then the RSS of the set. {s['rounds']} round(s), "
            "the configurations taking turns within each round; every figure is the median of the rounds.", ""]
    wq = results.get("wait_quiet")
    if wq:
        out += [(f"It waited {wq['waited_s']} s for a 1-minute load average under 1.0 first" if wq["quiet"] else
                 f"It waited {wq['waited_s']} s (the limit) for a 1-minute load average under 1.0, which never came")
                + ".", ""]
    busy = max(results["load_before"][0], results["load_after"][0])
    if busy >= 1.0:
        out += [f"**The machine was busy** (1-minute load average up to {busy} on {m['nproc']} processors): other "
                "processes ran on the pinned processors too, so the figures carry their noise; compare rows only "
                "with care, and rerun on a quiet machine before quoting.", ""]
    pinned = summary.get("pinned", {})
    unp = summary.get("unpinned")
    head = "| configuration | req/s | ratio to its alone | of nginx | p50 ms | p99 ms | RSS MB |"
    sep = "|---|---|---|---|---|---|---|"
    if unp:
        head += " req/s unpinned | p99 ms unpinned | RSS MB unpinned |"
        sep += "---|---|---|"
    out += [head, sep]
    labels = {c["key"]: c for c in results["configs"]}
    for key, row in pinned.items():
        c = labels[key]
        base = "—" if key == c["baseline"] else fmt(row["ratio"], "{:.2f}")
        line = (f"| {c['label']} | {fmt(row['rps'])} | {base} | {fmt(row['of_nginx'], '{:.2f}')} | "
                f"{fmt(row['p50_ms'], '{:.2f}')} | {fmt(row['p99_ms'], '{:.2f}')} | {fmt(row['rss_mb'])} |")
        if unp:
            u = unp[key]
            line += f" {fmt(u['rps'])} | {fmt(u['p99_ms'], '{:.2f}')} | {fmt(u['rss_mb'])} |"
        out.append(line)
    errs = [f"{labels[k]['label']}: {r['errors']}" for k, r in pinned.items() if r["errors"]]
    failed = [r for r in results["rounds"] if "error" in r]
    out += [""]
    if errs:
        out += ["wrk errors (socket errors + non-2xx) in the measured loads: " + "; ".join(errs) + ".", ""]
    if failed:
        out += ["Failed starts (not in the medians): " + "; ".join(
            f"{labels[r['config']]['label']} round {r['round']}: {r['error'].splitlines()[0][:200]}" for r in failed)
            + ".", ""]
    out += ["Headline ratios (issue 16), pinned:", "",
            headline(pinned, "forkless-2", "demo", 0.97, "Forkless `--isolates 2` / demo alone", quick),
            headline(pinned, "forkless-2", "pm2-2", 1.5, "Forkless `--isolates 2` / PM2 `-i 2`", quick),
            headline(pinned, "forkless-vertx-2", "vertx", 0.95, "Forkless `--isolates 2` / Vert.x alone", quick),
            headline(pinned, "forkless-spring-2", "spring", 0.95, "Forkless `--isolates 2` / Spring Boot alone", quick),
            headline(pinned, "forkless-javalin-2", "javalin", 0.95, "Forkless `--isolates 2` / Javalin alone", quick), ""]
    out += ["What the figures mean:", "",
            "- **req/s**: requests per second wrk counted over the measured load, keep-alive connections, one core "
            "serving. **p50 / p99**: wrk's latency percentiles (`--latency`) of that load, in milliseconds; with "
            f"{CONNECTIONS} connections always busy they mostly measure queueing (Little's law: mean latency = "
            f"{CONNECTIONS} / req/s), and p99 catches pauses: GC, JIT, and on a shared machine other processes "
            "taking processor 0.",
            "- **ratio to its alone**: req/s over the same server run alone in the same round (the demo for the "
            "demo's rows, node for PM2 and cluster, Vert.x with 1 verticle for the Vert.x rows): the price of "
            "the manager and of running 2 copies on 1 core. **of nginx**: req/s over nginx's, the ceiling of "
            "this machine and load generator.",
            "- **RSS MB**: resident memory of the whole set after the measured load: the started process and all "
            "its descendants (PM2: pm2-runtime and its 2 workers; node cluster: the primary and 2 workers; "
            "nginx: master and worker; Forkless process mode: the runtime and its child JVMs). Forkless runs "
            "with its default `--standby 1`, so its sets hold one warm standby copy besides the serving ones "
            "(in the RSS, idle under load).",
            "- A JVM pinned to one processor sees 1 CPU and picks the Serial GC by itself (JDK 25's ergonomics); "
            "all JVM rows run that way, as a user's would in a 1-CPU container. The JVM rows run with the JVM's "
            "default heap settings.",
            "- **Forkless `--isolates 2` / demo alone** (target ≥ 0.97): two copies of the demo under Forkless "
            "on one core against one plain JVM on the same core: what sharing one core between 2 copies and "
            "the runtime costs. **Forkless `--isolates 2` / PM2 `-i 2`** (target ≥ 1.5): the user's comparison: "
            "2 copies of an app on one core, Forkless with the Java demo (Helidon 4, `GET /` answers "
            "`Hello World`) against PM2 with Node's hello world (answers `hello`). Both apps do nothing but "
            "answer, but on different stacks, so this compares what a user gets from each, not the managers "
            "alone; the node, node cluster, Vert.x and nginx rows give that context (node cluster is PM2 "
            "without PM2: PM2's cluster mode is Node's cluster module, the primary accepting and handing each "
            "connection to a worker in turn).", ""]
    if "unpinned" in results["modes"]:
        out += ["Unpinned: every server may use both processors and so may wrk, which then competes with it; the "
                "pinned figures are the ones the targets are judged on.", ""]
    out += ["Every round:", "",
            "| round | configuration | pinned | warm-up s | warm | req/s | p50 ms | p99 ms | RSS MB | processes | load |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results["rounds"]:
        lab = labels[r["config"]]["label"]
        if "error" in r:
            out.append(f"| {r['round']} | {lab} | {'yes' if r['pinned'] else 'no'} | | | failed | | | | | {r['load']} |")
        else:
            out.append(f"| {r['round']} | {lab} | {'yes' if r['pinned'] else 'no'} | {r.get('warmup_s', '')} | "
                       f"{({True: 'yes', False: 'no'}).get(r.get('warm'), '')} | {fmt(r['rps'])} | {fmt(r['p50_ms'], '{:.2f}')} | {fmt(r['p99_ms'], '{:.2f}')} | "
                       f"{fmt(r['rss_mb'])} | {r['processes']} | {r['load']} |")
    out += ["", END]
    return "\n".join(out) + "\n"


def write(results, out):
    block = markdown(results)
    if out.exists() and BEGIN in out.read_text():
        text = out.read_text()
        a, b = text.index(BEGIN), text.index(END) + len(END)
        out.write_text(text[:a] + block.rstrip("\n") + text[b:])
    elif out.exists():
        sys.stderr.write(f"bench/peers: {out} has no {BEGIN} ... {END} block to replace\n")
        sys.exit(2)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("## Peers, pinned (issue 16)\n\n" + block)


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(prog="bench/peers", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--quick", action="store_true", help="1 round, 2 s warm-up, 2 s measured (to check the script)")
    ap.add_argument("--rounds", type=int, help="rounds (default 3; --quick 1)")
    ap.add_argument("--warmup", type=int, help="seconds of discarded warm-up load before the steady steps (default 60; --quick 2)")
    ap.add_argument("--duration", type=int, help="seconds of measured load (default 10; --quick 2)")
    ap.add_argument("--no-steady", dest="steady", action="store_false",
                    help="warm up --warmup seconds only, not on in 5 s steps until the JIT is quiet (nginx, node: "
                         "until three steps agree within 3%%)")
    ap.add_argument("--warmup-max", type=int, default=240, help="seconds of warm-up at most, steps included (default 240)")
    ap.add_argument("--unpinned", action="store_true", help="also measure every configuration unpinned, written beside")
    ap.add_argument("--unpinned-rounds", type=int, default=1,
                    help="with --unpinned, in how many of the rounds (the first ones) to measure unpinned too "
                         "(default 1: unpinned figures swing by a third between runs anyway, and a round of them "
                         "shows that; each unpinned round costs as much as a pinned one)")
    ap.add_argument("--only", help="only these configurations, comma-separated keys (see --list)")
    ap.add_argument("--list", action="store_true", help="print the configurations' keys and end")
    ap.add_argument("--out", help="Markdown file (default reports/bench/peers.md); an existing file must hold the "
                                  f"{BEGIN} ... {END} block, which is replaced")
    ap.add_argument("--wait-quiet", type=int, default=0, metavar="SECONDS",
                    help="first wait up to this long for a 1-minute load average under 1.0 (the report says if it came)")
    ap.add_argument("--from-json", metavar="FILE", help="only write the report again from the figures of an earlier run "
                                                         "(reports/bench/peers.json)")
    ap.add_argument("--command", help=argparse.SUPPRESS)
    opts = ap.parse_args()
    java = str(Path(os.environ.get("JAVA_HOME", "/usr/lib/jvm/temurin-25-jdk-amd64")) / "bin" / "java")
    all_configs = configs(java)
    if opts.list:
        for c in all_configs:
            print(f"{c.key:20} {c.label}")
        return 0
    out = Path(opts.out) if opts.out else ROOT / "reports/bench/peers.md"
    out = out if out.is_absolute() else ROOT / out
    if out.exists() and BEGIN not in out.read_text() and opts.out:
        sys.stderr.write(f"bench/peers: {out} has no {BEGIN} ... {END} block to replace\n")
        return 2
    if opts.from_json:
        write(json.loads(Path(opts.from_json).read_text()), out)
        log(f"bench/peers: wrote {out}")
        return 0
    q = opts.quick
    opts.rounds = opts.rounds or (1 if q else 3)
    opts.warmup = opts.warmup if opts.warmup is not None else (2 if q else 60)
    opts.steady = opts.steady and not q
    opts.duration = opts.duration or (2 if q else 10)
    if opts.rounds < 1 or opts.warmup < 0 or opts.duration < 1:
        sys.stderr.write("bench/peers: --rounds and --duration must be 1 or more, --warmup 0 or more\n")
        return 2
    chosen = all_configs
    if opts.only:
        keys = opts.only.split(",")
        unknown = [k for k in keys if k not in {c.key for c in all_configs}]
        if unknown:
            sys.stderr.write(f"bench/peers: unknown configuration {', '.join(unknown)} (see --list)\n")
            return 2
        chosen = [c for c in all_configs if c.key in keys]
    if (os.cpu_count() or 1) < 2 or not {0, 1} <= os.sched_getaffinity(0):
        sys.stderr.write("bench/peers: pinning needs processors 0 and 1\n")
        return 2

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    modes = ["pinned"] + (["unpinned"] if opts.unpinned else [])
    waited = None
    if opts.wait_quiet:
        w0 = time.monotonic()
        while loadavg()[0] >= 1.0 and time.monotonic() - w0 < opts.wait_quiet:
            log(f"bench/peers: waiting for a quiet machine, load average {loadavg()}")
            time.sleep(max(0.0, min(15.0, opts.wait_quiet - (time.monotonic() - w0))))
        waited = {"waited_s": round(time.monotonic() - w0), "quiet": loadavg()[0] < 1.0, "limit_s": opts.wait_quiet}
    t0 = time.monotonic()
    results = {"command": opts.command or "bench/peers.py " + " ".join(sys.argv[1:]),
               "started": time.strftime("%Y-%m-%d %H:%M", time.gmtime()), "machine": machine(java),
               "load_before": loadavg(), "modes": modes, "wait_quiet": waited,
               "settings": {"quick": q, "rounds": opts.rounds, "warmup_s": opts.warmup, "steady": opts.steady,
                            "warmup_max_s": opts.warmup_max, "duration_s": opts.duration,
                            "unpinned_rounds": min(opts.unpinned_rounds, opts.rounds) if opts.unpinned else 0,
                            "connections": CONNECTIONS, "server_cpus": SERVER_CPU, "load_cpus": LOAD_CPU},
               "configs": [{"key": c.key, "label": c.label, "group": c.group, "baseline": c.baseline}
                           for c in chosen],
               "rounds": []}
    log(f"bench/peers: load average {results['load_before']}; {len(chosen)} configurations x {len(modes)} x "
        f"{opts.rounds} rounds")
    data = ROOT / "reports/bench/peers.json" if out.name == "benchmarks.md" else out.with_suffix(".json")
    data.parent.mkdir(parents=True, exist_ok=True)
    try:
        for rnd in range(1, opts.rounds + 1):
            for c in chosen:
                for mode in modes:
                    if mode == "unpinned" and rnd > opts.unpinned_rounds:
                        continue
                    log(f"round {rnd}/{opts.rounds}: {c.label} ({mode})")
                    try:
                        r = run_one(c, opts, mode == "pinned")
                    except (RuntimeError, OSError, subprocess.SubprocessError, ValueError) as e:
                        log(f"  FAILED: {e}")
                        r = {"config": c.key, "pinned": mode == "pinned", "load": loadavg()[0], "error": str(e)[:2000]}
                    r["round"] = rnd
                    results["rounds"].append(r)
                    if "rps" in r:
                        log(f"  {r['rps']:,.0f} req/s, p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms, "
                            f"RSS {r['rss_mb']:.0f} MB, {r['processes']} processes, errors {r['errors']}")
                    data.write_text(json.dumps(results, indent=1))
    finally:
        cleanup()
    results["load_after"] = loadavg()
    results["elapsed_s"] = round(time.monotonic() - t0)
    data.write_text(json.dumps(results, indent=1))
    write(results, out)
    log(f"bench/peers: done in {results['elapsed_s']} s; wrote {out} and {data}")
    for line in markdown(results).splitlines():
        if line.startswith("- **Forkless") and "target ≥" in line and "=" in line.split("(target")[0]:
            log(line)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        cleanup()
