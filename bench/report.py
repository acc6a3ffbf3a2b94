"""The benchmark suite's report: a Markdown block (between markers, the rest of the file is kept) and
SVG line charts drawn here, without any library."""

import html
import statistics
from pathlib import Path

BEGIN = "<!-- bench:run:begin -->"
END = "<!-- bench:run:end -->"


# ---------------------------------------------------------------- figures

def med(rounds, key):
    xs = [r.get(key) for r in rounds if r.get(key) is not None]
    return statistics.median(xs) if xs else None


def spread(rounds, key):
    xs = [r.get(key) for r in rounds if r.get(key) is not None]
    return (min(xs), max(xs)) if xs else None


def num(v, digits=None):
    if v is None:
        return "n/a"
    if digits is None:
        digits = 0 if abs(v) >= 100 else 1 if abs(v) >= 10 else 2
    return f"{v:,.{digits}f}"


def ratio(v, base):
    if v is None or not base:
        return ""
    return f" ({v / base:.2f}x)"


def cell(v, base, digits=None):
    return num(v, digits) + ratio(v, base)


# ---------------------------------------------------------------- SVG

COLORS = {"isolate": "#1f77b4", "process": "#d62728", "baseline": "#555555"}


def svg_chart(path, title, xlabel, ylabel, series, baseline=None, xs=None):
    """series: list of (name, color, dashed, [(x, y)]); baseline: (label, y) drawn as a grey dashed line."""
    W, H, L, R, T, B = 640, 380, 70, 190, 40, 50
    pts = [p for _, _, _, s in series for p in s if p[1] is not None]
    if not pts:
        return False
    xs = xs or sorted({x for x, _ in pts})
    ymax = max([y for _, y in pts] + ([baseline[1]] if baseline else []))
    ymax = nice_ceiling(ymax * 1.08)
    x0, x1 = min(xs), max(xs)

    def X(x):
        return L + (W - L - R) * ((x - x0) / (x1 - x0) if x1 > x0 else 0.5)

    def Y(y):
        return T + (H - T - B) * (1 - y / ymax)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{W / 2 - R / 2 + L / 2}" y="22" text-anchor="middle" font-size="15">{html.escape(title)}</text>']
    for i in range(6):
        y = ymax * i / 5
        out.append(f'<line x1="{L}" x2="{W - R}" y1="{Y(y):.1f}" y2="{Y(y):.1f}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{L - 6}" y="{Y(y) + 4:.1f}" text-anchor="end">{num(y) if y else "0"}</text>')
    for x in xs:
        out.append(f'<line x1="{X(x):.1f}" x2="{X(x):.1f}" y1="{H - B}" y2="{H - B + 4}" stroke="#333"/>')
        out.append(f'<text x="{X(x):.1f}" y="{H - B + 18}" text-anchor="middle">{x}</text>')
    out.append(f'<line x1="{L}" x2="{W - R}" y1="{H - B}" y2="{H - B}" stroke="#333"/>')
    out.append(f'<line x1="{L}" x2="{L}" y1="{T}" y2="{H - B}" stroke="#333"/>')
    out.append(f'<text x="{(L + W - R) / 2}" y="{H - 10}" text-anchor="middle">{html.escape(xlabel)}</text>')
    out.append(f'<text transform="translate(16,{(T + H - B) / 2}) rotate(-90)" text-anchor="middle">'
               f'{html.escape(ylabel)}</text>')
    legend = []
    if baseline and baseline[1] is not None:
        out.append(f'<line x1="{L}" x2="{W - R}" y1="{Y(baseline[1]):.1f}" y2="{Y(baseline[1]):.1f}" '
                   f'stroke="{COLORS["baseline"]}" stroke-dasharray="2,4" stroke-width="1.5"/>')
        legend.append((baseline[0], COLORS["baseline"], "2,4"))
    for name, color, dashed, s in series:
        s = [(x, y) for x, y in s if y is not None]
        if not s:
            continue
        dash = ' stroke-dasharray="6,4"' if dashed else ""
        out.append(f'<polyline fill="none" stroke="{color}" stroke-width="2"{dash} points="'
                   + " ".join(f"{X(x):.1f},{Y(y):.1f}" for x, y in s) + '"/>')
        for x, y in s:
            out.append(f'<circle cx="{X(x):.1f}" cy="{Y(y):.1f}" r="3.5" fill="{color}"/>')
            out.append(f'<text x="{X(x) + 5:.1f}" y="{Y(y) - 6:.1f}" font-size="10" fill="{color}">{num(y)}</text>')
        legend.append((name, color, "6,4" if dashed else None))
    for i, (name, color, dash) in enumerate(legend):
        y = T + 10 + i * 20
        d = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<line x1="{W - R + 12}" x2="{W - R + 40}" y1="{y}" y2="{y}" stroke="{color}" stroke-width="2"{d}/>')
        out.append(f'<text x="{W - R + 46}" y="{y + 4}">{html.escape(name)}</text>')
    out.append("</svg>")
    Path(path).write_text("\n".join(out) + "\n")
    return True


def nice_ceiling(v):
    if v <= 0:
        return 1
    mag = 10 ** (len(str(int(v))) - 1)
    for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if step * mag >= v:
            return step * mag
    return 10 * mag


# ---------------------------------------------------------------- Markdown

def write(results, out, img_dir):
    out = Path(out)
    img_dir = Path(img_dir)
    img_dir.mkdir(parents=True, exist_ok=True)
    block = render(results, out, img_dir)
    if out.exists():
        text = out.read_text()
        if BEGIN in text and END in text:
            head, rest = text.split(BEGIN, 1)
            _, tail = rest.split(END, 1)
            text = head + block + tail
        elif "## Suite" in text:
            head, tail = text.split("## Suite", 1)
            nl = tail.find("\n")
            text = head + "## Suite" + tail[:nl + 1] + "\n" + block + "\n" + tail[nl + 1:]
        else:
            text = text.rstrip("\n") + "\n\n## Suite\n\n" + block + "\n"
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        text = "# Benchmarks\n\n## Suite\n\n" + block + "\n"
    out.write_text(text)


def render(res, out, img_dir):
    rounds = res["rounds"]
    cfgs = {c["key"]: c for c in res["configs"]}
    aliases = res.get("aliases", {})
    s = res["settings"]
    m = res["machine"]
    base = rounds.get("alone", [])
    B = {k: med(base, k) for k in ("rps", "p50_ms", "p99_ms", "rss_loaded_mb", "rss_idle_mb", "rss_short_mb",
                                   "rss_gc_mb", "start_ms")}
    L = [BEGIN, "",
         "<!-- Generated by bench/run from reports/bench/results.json; edit bench/report.py, not this block. -->", ""]
    if res.get("quick"):
        L += ["**A `--quick` run: one round, short loads. Development numbers, not for quoting.**", ""]
    L += ["### How this run was made", "",
          f"    {res['command']}", "",
          f"Started {res['started']}, took {res['elapsed_s'] // 60} min {res['elapsed_s'] % 60} s. "
          f"Load average (1, 5, 15 min) before: {', '.join(map(str, res['load_before']))}; "
          f"after: {', '.join(map(str, res.get('load_after', [])))}."
          + quiet_note(res), "",
          "| machine | |", "|---|---|",
          f"| processors (`nproc`) | {m['nproc']} |",
          f"| CPU | {m['cpu']} |",
          f"| RAM | {m['ram_gb']} GB |",
          f"| kernel | {m['kernel']} |",
          f"| JDK | {m['jdk']} |",
          f"| load generator | {(m.get('wrk') or ['wrk'])[0]} |", "",
          f"Every configuration is started {s['rounds']} time(s), the configurations taking turns within each round; "
          f"each figure is the median of the rounds (every round is listed at the end). Load: wrk with 1 thread and "
          f"{s['connections']} keep-alive connections on `/` of the demo, 127.0.0.1; {s['warmup_s']} s of warm-up "
          f"load (discarded: every copy JIT-compiles its own Helidon), then {s['duration_s']} s measured with "
          f"`--latency`. Forkless runs with its default options, so every set has one warm standby besides its "
          + (f"serving copies (`--standby {s['standby']}`), with one change: "
             f"`{' '.join(s.get('runtime_options', []))}` (the default 3 s aborts a reload whose new copy is not "
             f"ready in time; a new child JVM under full load on a small machine can take longer, and the reload "
             f"must go through to be measured)." if s.get('runtime_options') else
             f"serving copies (`--standby {s['standby']}`).") + " "
          + (f"Pinned: every server and everything it starts on processor(s) {s['pin']['server']} "
             f"(`taskset -c {s['pin']['server']}`), wrk on processor(s) {s['pin']['load']}: on a small machine "
             f"unpinned they fight for the same processors and one build's ratio swings by a third "
             f"(`--no-pin` to measure unpinned; bench/peers below measures both)." if s.get('pin') else
             "Not pinned: servers and wrk share every processor."), "",
          "- **start -> first answer**: from spawning the JVM to the first 2xx answer on `/` (a fresh connection "
          "every 2 ms).",
          "- **RSS**: VmRSS of the JVM and every descendant (`/proc`), summed, right after the measured load; "
          "`procs` is how many processes that is.",
          "- **crash -> replacement answering**: `/crash` answers 202 and its copy crashes; from that answer to the "
          "first `/whoami` answered by the copy the runtime logged as the slot's replacement (`event=promoted`), "
          "polled on fresh connections every millisecond.",
          "- **failed in reload**: wrk's socket errors (connect, read, write, timeout) plus non-2xx answers while "
          "a rolling reload (SIGHUP) replaces every copy under the same load; the load starts 1 s before the "
          "signal and ends 1 s after `event=reloaded`.", ""]

    # ---- side by side
    order = [k for k in ("alone", "isolate-1", "isolate-2", "isolate-max", "isolate-2-noloop", "process-2",
                         "process-max") if aliases.get(k, k) in cfgs]
    L += ["### Side by side", "",
          "Ratios are to the demo alone (the baseline): above 1 is more requests, more latency, more memory, "
          "longer start.", "",
          "| configuration | req/s | p50 ms | p99 ms | RSS MB | procs | start -> first answer ms "
          "| crash -> replacement answering ms | failed in reload / requests |",
          "|---|---|---|---|---|---|---|---|---|"]
    for key in order:
        real = aliases.get(key, key)
        rs = rounds.get(real, [])
        c = cfgs[real]
        label = c["label"]
        if key in aliases:
            label = f"{key.split('-')[0]}, max ({c['copies']} copies here: the {c['label']} runs)"
        rss = med(rs, "rss_loaded_mb")
        procs = med(rs, "processes")
        crash = med(rs, "crash_ms")
        failed = med(rs, "reload_failed")
        reqs = med(rs, "reload_requests")
        L.append(f"| {label} | {cell(med(rs, 'rps'), B['rps'])} | {cell(med(rs, 'p50_ms'), B['p50_ms'])} "
                 f"| {cell(med(rs, 'p99_ms'), B['p99_ms'])} | {cell(rss, B['rss_loaded_mb'])} "
                 f"| {num(procs, 0)} | {cell(med(rs, 'start_ms'), B['start_ms'])} "
                 f"| {num(crash) if key != 'alone' else 'n/a (nothing restarts it)'} "
                 f"| {(num(failed, 0) + ' / ' + num(reqs, 0)) if key != 'alone' else 'n/a'} |")
    L.append("")

    # ---- targets
    L += ["### Targets", ""] + targets(res, rounds, B) + [""]

    # ---- curves
    modes = ("isolate", "process")
    curve = s["curve_copies"]

    def series(mode, n, key):
        k = f"{mode}-{n}"
        return med(rounds.get(k, []), key) if k in cfgs and not cfgs[k]["flags"] else None

    ns = sorted({c["copies"] for c in cfgs.values() if c["mode"] != "alone" and not c["flags"]})
    MEM = (("rss_idle_mb", "idle"), ("rss_short_mb", "after load"), ("rss_gc_mb", "after load + full GC"))
    L += ["### Growth: memory", "",
          f"RSS of the whole set (N serving copies + 1 standby): when every copy is ready (idle); after "
          f"{s['short_load_s']} s of the load above; and then after a full GC in every JVM of the set "
          f"(`jcmd PID GC.run`: G1 gives back heap the live data does not need, so this is what each copy keeps, "
          f"without the garbage a default-sized heap lets pile up). The demo alone is measured the same way. "
          f"Per-copy figures and the targets use the last column.", "",
          "| copies | " + " | ".join(f"{mo} {w} MB" for mo in modes for _, w in MEM) + " |",
          "|---|" + "---|" * (2 * len(MEM)),
          "| demo alone | " + " | ".join(num(B[k]) for _ in modes for k, _ in MEM) + " |"]
    for n in ns:
        L.append(f"| {n} | " + " | ".join(cell(series(mo, n, k), B[k]) for mo in modes for k, _ in MEM) + " |")
    L.append("")
    L += per_copy_lines(res, rounds, cfgs, B) + [""]
    rel = lambda p: Path(p).relative_to(out.parent).as_posix() if Path(p).is_relative_to(out.parent) else str(p)
    if svg_chart(img_dir / "bench-memory.svg", "Resident memory of the set", "serving copies (+1 standby)", "MB",
                 [(f"{mo}, after GC", COLORS[mo], False, [(n, series(mo, n, "rss_gc_mb")) for n in ns])
                  for mo in modes]
                 + [(f"{mo}, after load", COLORS[mo], True, [(n, series(mo, n, "rss_short_mb")) for n in ns])
                    for mo in modes],
                 ("demo alone, after GC", B["rss_gc_mb"]), ns):
        L += [f"![memory against copies]({rel(img_dir / 'bench-memory.svg')})", ""]

    L += ["### Growth: start time", "",
          "From spawning the runtime's JVM to the first answered request, and to every copy and the standby "
          "logging `event=ready`.", "",
          "| copies | isolate first answer ms | isolate all ready ms | process first answer ms "
          "| process all ready ms |", "|---|---|---|---|---|",
          f"| demo alone | {num(B['start_ms'])} | {num(B['start_ms'])} | {num(B['start_ms'])} "
          f"| {num(B['start_ms'])} |"]
    for n in ns:
        L.append(f"| {n} | " + " | ".join(cell(series(mo, n, k), B["start_ms"]) for mo in modes
                                         for k in ("start_ms", "all_ready_ms")) + " |")
    L.append("")
    if svg_chart(img_dir / "bench-start.svg", "Start time", "serving copies (+1 standby)", "ms",
                 [(f"{mo} first answer", COLORS[mo], False, [(n, series(mo, n, "start_ms")) for n in ns])
                  for mo in modes]
                 + [(f"{mo} all ready", COLORS[mo], True, [(n, series(mo, n, "all_ready_ms")) for n in ns])
                    for mo in modes],
                 ("demo alone", B["start_ms"]), ns):
        L += [f"![start time against copies]({rel(img_dir / 'bench-start.svg')})", ""]

    tn = [n for n in ns if n <= 4]
    L += ["### Growth: throughput", "",
          f"Requests/s (median) with 1 to 4 serving copies on {m['nproc']} processors, measured as in the "
          f"side-by-side table.", "",
          "| copies | isolate req/s | process req/s |", "|---|---|---|",
          f"| demo alone | {num(B['rps'])} | {num(B['rps'])} |"]
    for n in tn:
        L.append(f"| {n} | {cell(series('isolate', n, 'rps'), B['rps'])} | {cell(series('process', n, 'rps'), B['rps'])} |")
    L.append("")
    if svg_chart(img_dir / "bench-throughput.svg", "Throughput", "serving copies", "requests/s",
                 [(mo, COLORS[mo], False, [(n, series(mo, n, "rps")) for n in tn]) for mo in modes],
                 ("demo alone", B["rps"]), tn):
        L += [f"![throughput against copies]({rel(img_dir / 'bench-throughput.svg')})", ""]

    # ---- profiles
    if res.get("profiles"):
        L += ["### Profile (JFR): under load", "",
              "The baseline and isolate mode with 1 and 2 copies once more, each under the same warm-up and measured "
              "load with `-XX:StartFlightRecording=settings=profile,jdk.ExecutionSample#period=1ms` on the JVM (the "
              "recording costs some throughput itself), summarized from `jfr print --json --stack-depth 512 "
              "--events jdk.ExecutionSample`. The recordings stay in `reports/bench/*.jfr`.", ""]
        for p in res["profiles"]:
            c = cfgs[p["config"]]
            L += [f"**{c['label']}** ({num(p['rps'])} req/s while recorded, {p['samples']} samples). "
                  "Share of samples: "
                  + ", ".join(f"{k} {100 * v / max(p['samples'], 1):.1f}%"
                              for k, v in sorted(p["inclusive"].items(), key=lambda kv: -kv[1])) + ".", "",
                  "| top frame | samples | share |", "|---|---|---|"]
            for name, count in p["top"]:
                L.append(f"| `{name}` | {count} | {100 * count / max(p['samples'], 1):.1f}% |")
            L.append("")

    cp = res.get("crash_profile")
    if cp:
        c = cfgs.get(cp["config"], {"label": cp["config"]})
        tags = list(cp["inclusive"].keys())
        tags.sort(key=lambda t: -cp["inclusive"][t])
        L += ["### Profile (JFR): from a crash to the replacement's answer", "",
              f"**{c['label']}**, {len(cp['crashes'])} crashes in a row under a JFR recording "
              f"(`jdk.ExecutionSample#period=1ms`), each after the previous set was whole again; crash -> "
              f"replacement answering: {', '.join(f'{x:.0f}' for x in cp['crashes'])} ms. Only samples inside those "
              f"windows ({cp['window_ms']:.0f} ms in all) count: {cp['samples']}. A sample counts for a column when "
              f"such a frame is anywhere on its stack.", "",
              "| thread | samples | " + " | ".join(tags) + " |", "|---|---|" + "---|" * len(tags)]
        for name, n in cp["threads"]:
            bt = cp.get("by_thread", {}).get(name, {})
            L.append(f"| {name} | {n} | " + " | ".join(f"{bt.get(t, 0)}" for t in tags) + " |")
        L.append(f"| all | {cp['samples']} | " + " | ".join(
            f"{cp['inclusive'][t]} ({100 * cp['inclusive'][t] / max(cp['samples'], 1):.0f}%)" for t in tags) + " |")
        L.append("")

    # ---- every round
    L += ["### Every round", "", "<details><summary>all measurements</summary>", "",
          "| configuration | round | load | req/s | p50 ms | p99 ms | RSS idle / short / GC / loaded MB | start ms "
          "| all ready ms | crash ms | reload failed / requests, ms |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for key, c in cfgs.items():
        for r in rounds.get(key, []):
            L.append(f"| {c['label']} | {r.get('round')} | {num(r.get('load'))} | {num(r.get('rps'))} | {num(r.get('p50_ms'))} "
                     f"| {num(r.get('p99_ms'))} | {num(r.get('rss_idle_mb'))} / {num(r.get('rss_short_mb'))} / "
                     f"{num(r.get('rss_gc_mb'))} / "
                     f"{num(r.get('rss_loaded_mb'))} | {num(r.get('start_ms'))} | {num(r.get('all_ready_ms'))} "
                     f"| {num(r.get('crash_ms'))} | "
                     + (f"{r['reload_failed']} / {r['reload_requests']}, {num(r['reload_ms'])}"
                        + ("" if r.get("reload_ok") else " (not ok)") if "reload_failed" in r else "n/a") + " |")
    errors = [(cfgs[k]["label"], r.get("round"), r["error"].splitlines()[0]) for k in cfgs for r in rounds.get(k, [])
              if "error" in r]
    L += ["", "</details>", ""]
    if errors:
        L += ["Failed starts (left out of the medians):", ""] + [f"- {lbl}, round {rnd}: {e}" for lbl, rnd, e in errors] + [""]
    L += [END]
    return "\n".join(L)


def quiet_note(res):
    w = res.get("wait_quiet")
    lb = res["load_before"][0]
    if w and not w["quiet"]:
        return (f" **The machine never became quiet**: it waited {w['waited_s']} s for a 1-minute load average "
                f"below 1.0 and ran anyway at {lb}; other work shared the {res['machine']['nproc']} processors, so "
                f"absolute figures are low and noisy, and the side-by-side ratios (configurations taking turns) "
                f"are the figures to read.")
    if lb >= 1.0:
        return f" **Not a quiet machine** (1-minute load average {lb} at the start): read the ratios, not the absolute figures."
    la = (res.get("load_after") or [0])[0]
    if la >= 1.0:
        return (f" **The machine did not stay quiet**: it was at the start, but the 1-minute load average was {la} "
                f"at the end (other work on the same {res['machine']['nproc']} processors); the configurations took "
                f"turns, so each round's ratios stay comparable, and the medians smooth the rest. Every round is "
                f"listed at the end.")
    return ""


def slope(rounds, cfgs, mode, key):
    """MB per extra copy: least squares over the curve's points (median per point)."""
    pts = []
    for k, c in cfgs.items():
        if c["mode"] == mode and not c["flags"]:
            v = med(rounds.get(k, []), key)
            if v is not None:
                pts.append((c["copies"], v))
    if len(pts) < 2:
        return None, pts
    n = len(pts)
    mx = sum(x for x, _ in pts) / n
    my = sum(y for _, y in pts) / n
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    return sum((x - mx) * (y - my) for x, y in pts) / sxx, sorted(pts)


def per_copy_lines(res, rounds, cfgs, B):
    L = []
    for mode in ("isolate", "process"):
        for key, bk, what in (("rss_gc_mb", "rss_gc_mb", "after load + full GC"), ("rss_short_mb", "rss_short_mb", "after load")):
            sl, pts = slope(rounds, cfgs, mode, key)
            if sl is None or not B[bk]:
                continue
            steps = ", ".join(f"{a[0]}->{b[0]}: {(b[1] - a[1]) / (b[0] - a[0]):+.0f} MB"
                              for a, b in zip(pts, pts[1:]))
            L.append(f"- each extra {mode}, {what}: {sl:.0f} MB = **{100 * sl / B[bk]:.0f}%** of the demo alone "
                     f"({num(B[bk])} MB; least squares over {len(pts)} points; per copy by step: {steps})")
    return L


def targets(res, rounds, B):
    L = []
    iso2 = med(rounds.get("isolate-2", []), "rps")
    if iso2 and B["rps"]:
        r = iso2 / B["rps"]
        L.append(f"- isolate mode, 2 copies, at least 0.95 of the baseline's requests/s: **{r:.2f}** "
                 f"({num(iso2)} against {num(B['rps'])}): "
                 + ("met." if r >= 0.95 else f"**missed** by {0.95 - r:.2f} ({100 * (0.95 - r) / 0.95:.0f}% short)."))
    cfgs = {c["key"]: c for c in res["configs"]}
    for mode, lim in (("isolate", 15), ("process", 100)):
        sl, _ = slope(rounds, cfgs, mode, "rss_gc_mb")
        if sl is not None and B["rss_gc_mb"]:
            pct = 100 * sl / B["rss_gc_mb"]
            if mode == "isolate":
                verdict = "met." if pct <= lim else f"**missed** by {pct - lim:.0f} points."
                L.append(f"- each extra isolate at most 15% of the baseline's RSS (after load + full GC): "
                         f"**{pct:.0f}%** ({sl:.0f} MB of {num(B['rss_gc_mb'])} MB): {verdict}")
            else:
                L.append(f"- each extra process about 100% of the baseline's RSS (after load + full GC): "
                         f"**{pct:.0f}%** ({sl:.0f} MB).")
    for key in ("isolate-1", "isolate-2"):
        c = med(rounds.get(key, []), "crash_ms")
        if c is not None:
            lo, hi = spread(rounds.get(key, []), "crash_ms")
            L.append(f"- crash -> serving under 100 ms for an isolate ({cfgs[key]['label']}): **{c:.0f} ms** "
                     f"(rounds {lo:.0f}-{hi:.0f}): " + ("met." if c < 100 else f"**missed** by {c - 100:.0f} ms."))
    pc = med(rounds.get("process-2", []), "crash_ms")
    if pc is not None:
        L.append(f"- for comparison, process mode, 2 copies: {pc:.0f} ms.")
    nl = rounds.get("isolate-2-noloop", [])
    if nl and iso2:
        a, b = med(nl, "rps"), iso2
        sa, sb = med(nl, "start_ms"), med(rounds["isolate-2"], "start_ms")
        ra, rb = med(nl, "all_ready_ms"), med(rounds["isolate-2"], "all_ready_ms")
        L.append(f"- loop checks (issue 7), isolate mode with 2 copies, present against absent (`--no-loop-checks`): "
                 f"{num(b)} against {num(a)} req/s (**{b / a:.3f}x**), start -> first answer {num(sb)} against "
                 f"{num(sa)} ms (**{sb / sa:.2f}x**), all ready {num(rb)} against {num(ra)} ms.")
    return L
