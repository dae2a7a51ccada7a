#!/usr/bin/env python3
"""Turn one run of the benchmark driver (its CSV and meta file) into
bench/RESULTS.md: the machine, median tables, ratios, the issue-3 targets
with pass/miss, and the data file for the sweep plot; with --history yes,
also each target over the earlier runs committed to the CSV's git history.
Standard library (and git) only.  Nothing in RESULTS.md is typed in: every
figure comes from the CSV or from its earlier versions.
"""
import argparse
import os
import collections
import csv
import io
import re
import statistics
import subprocess

ORDER = ["libchan", "libchan-batch", "textbook", "vyukov", "ck_ring",
         "sem_t", "mutex"]


def load(path):
    with open(path, newline="") as f:
        return load_text(f.read())


def load_text(text):
    rows = collections.defaultdict(list)
    for r in csv.DictReader(io.StringIO(text, newline="")):
        key = (r["workload"], int(r["producers"]), int(r["consumers"]),
               int(r["cap"]), r["contender"])
        rows[key].append(r)
    for v in rows.values():
        v.sort(key=lambda r: int(r["run"]))
    return rows


def meta_of(path):
    m = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.partition(":")
            m[k.strip()] = v.strip()
    return m


class Results:
    def __init__(self, rows):
        self.rows = rows

    def ok_runs(self, wl, p, c, cap, who, field="msgs_per_s"):
        """The figures of the runs that finished (see dnf)."""
        return [float(r[field]) for r in self.rows.get((wl, p, c, cap, who),
                                                       [])
                if r["status"] == "ok"]

    def med(self, wl, p, c, cap, who, field="msgs_per_s"):
        """The median over the runs that finished (see dnf)."""
        v = self.ok_runs(wl, p, c, cap, who, field)
        return statistics.median(v) if v else None

    def by_run(self, wl, p, c, cap, who, field="msgs_per_s"):
        """{run: figure} of the runs that finished."""
        return {int(r["run"]): float(r[field])
                for r in self.rows.get((wl, p, c, cap, who), [])
                if r["status"] == "ok"}

    def paired(self, wl, p, c, cap, who, base, field="msgs_per_s"):
        """who's figure over base's in each round both finished (the
        driver interleaves them, so run i of each ran side by side)."""
        x = self.by_run(wl, p, c, cap, who, field)
        b = self.by_run(wl, p, c, cap, base, field)
        return [x[i] / b[i] for i in sorted(x) if i in b and b[i]]

    def dnf(self, wl, p, c, cap, who):
        return sum(1 for r in self.rows.get((wl, p, c, cap, who), [])
                   if r["status"] != "ok")

    def cells(self):
        """(workload, p, c, cap) in the order the driver ran them."""
        seen = []
        for k in self.rows:
            if k[:4] not in seen:
                seen.append(k[:4])
        return seen

    def contenders(self, cell):
        have = {k[4] for k in self.rows if k[:4] == cell}
        return [c for c in ORDER if c in have]


# The ping-pong workloads: a round trip in ns, not messages/s.
PINGS = ("pingpong", "pingpong_onecpu")


def label(cell):
    wl, p, c, cap = cell
    if wl == "seq" or wl in PINGS:
        shape = ""
    elif wl in ("semaphore", "lock"):
        shape = " (%d thr, %d tok)" % (c, p)
    else:
        shape = " %d→%d" % (p, c)
    return "%s%s" % (wl, shape)


def fmt(x, spec="%.2f"):
    return "–" if x is None else spec % x


def table(res, cells, cols, value, spec):
    out = ["| workload | cap | " + " | ".join(cols) + " |",
           "|---|---:|" + "---:|" * len(cols)]
    for cell in cells:
        vals = [fmt(value(cell, who), spec) +
                (" †%d" % res.dnf(*cell, who) if res.dnf(*cell, who) else "")
                for who in cols]
        out.append("| %s | %d | %s |" % (label(cell), cell[3],
                                         " | ".join(vals)))
    return "\n".join(out)


def mps_of(res, cell, who):
    m = res.med(*cell, who)
    return None if m is None else m / 1e6


def ratio_of(res, cell, who, base):
    x, b = res.med(*cell, who), res.med(*cell, base)
    return None if x is None or not b else x / b


def targets(res):
    """The issue-3 targets, read off one run: rows of (name, measured,
    required, ok, value), ok None where the run has no data, value a
    number to compare across runs (a ratio, or M/s for select_rx)."""
    out = []

    def row(name, measured, required, ok, value):
        out.append((name, measured, required, ok, value))

    def rounds(cell, who, base, good, field="msgs_per_s"):
        """The spread of the ratio over the rounds, and how many pass."""
        v = res.paired(*cell, who, base, field=field)
        if not v:
            return ""
        return " (rounds %.2f–%.2f; in %d of %d)" % (
            min(v), max(v), sum(1 for x in v if good(x)), len(v))

    def ratio_row(name, cell, who, base, need):
        x = ratio_of(res, cell, who, base)
        measured = fmt(x, "%.2f×")
        if x is not None:
            measured += rounds(cell, who, base, lambda r: r >= need)
        row(name, measured, "≥ %.1f×" % need,
            None if x is None else x >= need, x)

    ratio_row("spsc (1→1)", ("spsc", 1, 1, 1024), "libchan", "vyukov", 0.8)
    ratio_row("mpmc 2→2", ("mpmc", 2, 2, 1024), "libchan", "vyukov", 0.5)
    ratio_row("mpmc 4→4", ("mpmc", 4, 4, 1024), "libchan", "vyukov", 0.5)
    ratio_row("semaphore (8 threads, 2 tokens)", ("semaphore", 2, 8, 2),
              "libchan", "vyukov", 0.7)
    cell = ("oversub", 16, 16, 1024)
    lc = res.med(*cell, "libchan", field="cpu_ns_per_msg")
    vy = res.med(*cell, "vyukov", field="cpu_ns_per_msg")
    have = lc is not None and vy
    row("CPU/message, oversubscribed 16→16",
        "%s vs %s ns" % (fmt(lc, "%.0f"), fmt(vy, "%.0f")) +
        (rounds(cell, "libchan", "vyukov", lambda r: r <= 1,
                field="cpu_ns_per_msg") if have else ""),
        "≤ Vyukov's", lc <= vy if have else None, lc / vy if have else None)
    # The two capacities run as one interleaved cell (the driver), so run
    # i of libchan at either capacity ran beside run i of Vyukov's queue.
    vby = res.by_run("pingpong", 1, 1, 1, "vyukov", "rtt_ns")
    nearly = "≤ 3× in nearly every run (80%)"
    for cap in (0, 1):
        lby = res.by_run("pingpong", 1, 1, cap, "libchan", "rtt_ns")
        pairs = [(lby[i], vby[i]) for i in sorted(lby) if i in vby]
        if not pairs:
            row("ping-pong round trip, cap %d (Vyukov at cap 1)" % cap, "–",
                nearly, None, None)
            continue
        lruns = list(lby.values())
        good = sum(1 for l, v in pairs if l <= 3 * v)
        lm = statistics.median(lruns)
        vm = statistics.median(vby.values())
        row("ping-pong round trip, cap %d (Vyukov at cap 1)" % cap,
            "%.0f ns = %.2f× (runs: %.0f–%.0f ns); ≤ 3× in %d of %d runs"
            % (lm, lm / vm, min(lruns), max(lruns), good, len(pairs)),
            nearly, lm <= 3 * vm and good >= 0.8 * len(pairs), lm / vm)
    for cap in (0, 1, 1024):
        m = mps_of(res, ("select_rx", 4, 1, cap), "libchan")
        if m is not None:
            v = [x / 1e6 for x in res.ok_runs("select_rx", 4, 1, cap,
                                              "libchan")]
            row("select_rx 4→1, cap %d" % cap,
                "%.2f M/s (runs %.2f–%.2f; in %d of %d)"
                % (m, min(v), max(v), sum(1 for x in v if x >= 7), len(v)),
                "≥ 7 M/s", m >= 7, m)
    for cap in (0, 1, 1024):
        sb = res.med("select_both", 4, 4, cap, "libchan")
        mp = res.med("mpmc", 4, 4, cap, "libchan")
        if sb is not None and mp:
            row("select_both 4+4 vs mpmc 4→4, cap %d" % cap,
                "%.2f vs %.2f M/s (%.2f×)" % (sb / 1e6, mp / 1e6, sb / mp),
                "≥ 0.5× (within 2×)", sb >= 0.5 * mp, sb / mp)
    for cell in res.cells():
        if cell[0] in ("mpsc", "mpmc", "select_rx", "select_both",
                       "oversub") and res.med(*cell, "textbook"):
            ratio_row("vs textbook: %s, cap %d" % (label(cell), cell[3]),
                      cell, "libchan", "textbook", 5.0)
    ratio_row("batch: spsc (1→1)", ("spsc", 1, 1, 1024), "libchan-batch",
              "vyukov", 1.0)
    ratio_row("batch: mpmc 2→2", ("mpmc", 2, 2, 1024), "libchan-batch",
              "vyukov", 1.0)
    ratio_row("batch: mpmc 4→4", ("mpmc", 4, 4, 1024), "libchan-batch",
              "vyukov", 1.0)
    return out


def git_lines(where, *args):
    """git's output in directory where, as text, or None if git fails."""
    try:
        p = subprocess.run(["git", "-C", where] + list(args),
                           capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return p.stdout


def earlier_runs(csv_path):
    """The runs committed before this one: each version of the CSV in git
    history, oldest first, as (date, commit measured, runs per cell,
    Results).  If the newest equals this run's CSV, it is this run,
    committed.  None if there is no git history to read."""
    where = os.path.dirname(os.path.abspath(csv_path))
    name = os.path.basename(csv_path)
    log = git_lines(where, "log", "--format=%H", "--", name)
    if log is None:
        return None
    with open(csv_path, newline="") as f:
        now = f.read()
    out = []
    hashes = log.split()
    for i, h in reversed(list(enumerate(hashes))):
        text = git_lines(where, "show", "%s:./%s" % (h, name))
        if text is None or (i == 0 and text == now):
            continue
        # What the run measured is in the RESULTS.md committed with it.
        md = git_lines(where, "show", "%s:./RESULTS.md" % h) or ""
        m = re.search(r" on (\S+ \S+ UTC) from commit (\w+)", md)
        n = re.search(r"(\d+) runs each", md)
        out.append((m.group(1) if m else "?", m.group(2) if m else h[:7],
                    n.group(1) if n else "?", Results(load_text(text))))
    return out


def marks(oks):
    """One mark a run, in groups of five: met, missed, not measured."""
    s = "".join("·" if ok is None else ("✓" if ok else "✗") for ok in oks)
    return " ".join(s[i:i + 5] for i in range(0, len(s), 5))


def history_section(res, meta, csv_path):
    """The targets over every run committed to the CSV's git history and
    this one (res, meta): how often each was met, and its spread."""
    L = ["## The targets over the committed runs", ""]
    runs = earlier_runs(csv_path)
    if runs is None:
        return L + ["(No git history here: only this run is shown above.)",
                    ""]
    L.append("Every earlier version of bench/results.csv in this "
             "repository's git history, read by the same rules as the "
             "table above, then this run. They measured the code of "
             "different commits on hosts of the same kind, in the modes "
             "described under *Why the misses*; Vyukov's ping-pong round "
             "trip tells the host's mode (about 100 ns fast, 500 slow).")
    L.append("")
    L.append("| run | date | commit measured | runs per cell | "
             "Vyukov's ping-pong (ns) |")
    L.append("|---:|---|---|---:|---:|")
    table = runs + [(meta.get("date", "?") + " (this run)",
                     meta.get("commit", "?"), meta.get("runs", "?"), res)]
    for i, (d, c, n, r) in enumerate(table, 1):
        v = r.med("pingpong", 1, 1, 1, "vyukov", field="rtt_ns")
        L.append("| %d | %s | %s | %s | %s |" % (i, d, c, n,
                                                fmt(v, "%.0f")))
    L.append("")
    L.append("Marks run oldest to newest, this run last: ✓ met, ✗ missed, "
             "· not measured (the workload or contender was not in that "
             "run yet). The value is the ratio or rate the target reads.")
    L.append("")
    L.append("| target | required | met | runs 1 → %d | value: lowest, "
             "median, highest |" % len(table))
    L.append("|---|---|---:|---|---|")
    rows = [targets(r) for _, _, _, r in table]
    per = [{t[0]: t for t in rs} for rs in rows]
    # This run's targets, last in the table, name the rows.
    for name, _, required, _, _ in rows[-1]:
        got = [p.get(name) for p in per]
        oks = [None if t is None else t[3] for t in got]
        vals = sorted(t[4] for t in got if t is not None and t[4] is not None)
        spec = "%.2f M/s" if name.startswith("select_rx") else "%.2f×"
        spread = ("–" if not vals else ", ".join(
            spec % v for v in (vals[0], statistics.median(vals), vals[-1])))
        L.append("| %s | %s | %d of %d | %s | %s |" % (
            name, required, sum(1 for ok in oks if ok),
            sum(1 for ok in oks if ok is not None), marks(oks), spread))
    L.append("")
    return L


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", required=True)
    ap.add_argument("--meta", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--dat", required=True)
    ap.add_argument("--svg", default="no")
    ap.add_argument("--history", default="no")
    a = ap.parse_args()
    res = Results(load(a.csv))
    meta = meta_of(a.meta)
    cells = res.cells()
    pings = [c for c in cells if c[0] in PINGS]
    flow = [c for c in cells if c not in pings and
            c[0] not in ("semaphore", "lock", "sweep")]
    tokens = [c for c in cells if c[0] in ("semaphore", "lock")]
    sweep = sorted([c for c in cells if c[0] == "sweep"],
                   key=lambda c: c[1])
    allc = [c for c in ORDER if any(k[4] == c for k in res.rows)]
    qcols = [c for c in allc if c not in ("sem_t", "mutex")]

    def mps(cell, who):
        return mps_of(res, cell, who)

    def cpu(cell, who):
        return res.med(*cell, who, field="cpu_ns_per_msg")

    def ratio_to(base):
        return lambda cell, who: ratio_of(res, cell, who, base)

    L = []
    w = L.append
    w("# libchan benchmark results")
    w("")
    w("Generated by `make bench%s` (bench/run.sh → bench/bench.c → "
      "bench/report.py) on %s from commit %s; every figure below comes from "
      "bench/results.csv of that run. Do not edit by hand: rerun instead."
      % ("-full" if meta.get("full") == "1" else "", meta.get("date", "?"),
         meta.get("commit", "?")))
    w("")
    w("## Machine")
    w("")
    w("| | |")
    w("|---|---|")
    for k, name in (("cpu", "CPU"), ("cores", "cores online"),
                    ("kernel", "kernel"), ("compiler", "compiler"),
                    ("libc", "libc"), ("libck", "libck-dev"),
                    ("load_before", "load average before the run (1, "
                     "5, 15 minutes: it counts those minutes, work that "
                     "had finished included)"),
                    ("load_after", "load average after the run "
                     "(counts the benchmark's own threads)"),
                    ("elapsed_seconds", "run time (s)")):
        w("| %s | %s |" % (name, meta.get(k, "?")))
    # What else ran: the machine's busy CPU time over the run (/proc/stat)
    # less the driver's own (run.sh reads both).
    try:
        machine = float(meta["machine_cpu_seconds"])
        own = float(meta["own_cpu_seconds"])
        steal = float(meta["steal_seconds"])
        avail = float(meta["elapsed_seconds"]) * int(meta["cores"])
    except (KeyError, ValueError):
        avail = 0.0
    other = 0.0
    if avail > 0:
        other = max(machine - own, 0.0)
        w("| CPU time used during the run by anything but the benchmark "
          "(other processes, the kernel's threads, interrupts) | %.1f s "
          "of %.0f s (%.1f%%) |" % (other, avail, 100 * other / avail))
        w("| CPU time the hypervisor took (steal) | %.1f s |" % steal)
    w("")
    if avail > 0 and other >= 0.05 * avail:
        w("**Other work used %.0f%% of the CPUs during this run**: the "
          "benchmark threads competed with it. That hurts most where two "
          "threads must run at once to make progress — every capacity-1 "
          "and ping-pong figure, and the contenders that spin — so compare "
          "contenders within this run, and expect a quiet machine to give "
          "other absolute figures." % (100 * other / avail))
        w("")
    w("## Method")
    w("")
    w("- Real OS threads (pthreads), unpinned. Each (workload, capacity) "
      "cell first sizes every contender's message count so one run lasts "
      "about %s s, then runs the contenders interleaved (A B C A B C …), "
      "%s runs each; tables show medians. Each run is a process of its "
      "own; its clock starts as the first of its threads passes the start "
      "barrier and stops when the last has been joined. CPU per message "
      "is getrusage (user + sys, whole process) over that interval (from "
      "just before the threads are released)."
      % (meta.get("target_seconds", "?"), meta.get("runs", "?")))
    w("- Every run checks exactly-once delivery: each message is "
      "(producer, sequence); the sum of a hash of every received message "
      "and the count must match what was sent, each producer's sequence "
      "must rise at each consumer (except `select_both`, where order across "
      "channels is not defined), and the queues must be empty afterwards. "
      "Token runs check that no more threads ever hold a token than there "
      "are tokens, and that every token comes back. A lost message fails "
      "the benchmark even where the contender spins: if every producer "
      "has sent all its messages and the consumers then receive nothing "
      "for a second, the driver stops with \"lost\".")
    w("- Messages are uint64_t. Contenders: **libchan** (`chan_send`/"
      "`chan_recv`, `chan_select`), **libchan-batch** (`chan_sendn`/"
      "`chan_recvn`, up to %s per call; batch consumers share one total "
      "rather than a fixed quota each), **textbook** (one mutex, two "
      "condition variables), **vyukov** (Vyukov's bounded MPMC queue, C11 "
      "atomics), **ck_ring** (Concurrency Kit `ck_ring_*_mpmc`), and for "
      "the token workloads **sem_t** and **mutex**. The lock-free queues "
      "spin %s pauses, then `sched_yield` on each further try, when full "
      "or empty. The driver links libchan's static library "
      "(build/libchan.a); a program linked with libchan.so also pays a "
      "PLT call on each libchan call." % (meta.get("batch", "?"),
                     meta.get("spin_before_yield", "?")))
    w("- Capacity 0 (rendezvous) exists only in libchan; `pingpong` runs "
      "its capacities 0 and 1 as one interleaved cell, so that libchan's "
      "capacity-0 runs are held against the other contenders' capacity-1 "
      "runs of the same rounds. ck_ring keeps one "
      "slot free, so at capacity 1024 it holds 1023. The queues without a "
      "select (all but libchan) poll their try forms over the 4 queues in "
      "rotating order, with the same spin-then-yield back-off.")
    w("- `seq`: one thread fills the queue to capacity, then drains it, "
      "repeatedly. `pingpong`: two threads, one message in flight; the "
      "figure is the round trip. `semaphore`: 8 threads share 2 tokens, "
      "`lock`: 1 token; the holder works ~%s ns (a calibrated busy loop) "
      "plus an atomic holder count; throughput is acquisitions/s. "
      "`oversub`: 16 producers, 16 consumers on %s cores."
      % (meta.get("work_ns", "?"), meta.get("cores", "?")))
    w("")

    # Targets.
    w("## Issue 3 targets")
    w("")
    w("Ratios are of medians, to Vyukov's queue in the same run. Throughput "
      "targets are read at capacity 1024. In parentheses: the lowest and "
      "highest figure of a single run, or for a ratio of a single round "
      "(in which the contenders ran side by side), and in how many it met "
      "the target; the result is read off the medians.")
    w("")
    w("| target | measured | required | result |")
    w("|---|---|---|---|")
    for name, measured, required, ok, _ in targets(res):
        w("| %s | %s | %s | %s |" % (name, measured, required,
                                     "–" if ok is None else
                                     ("**pass**" if ok else "**MISS**")))
    w("")

    dnfs = sorted({k for k, v in res.rows.items()
                   if any(r["status"] != "ok" for r in v)})
    if dnfs:
        which = ", ".join("%s %s cap %d" % (k[4], label(k[:4]), k[3])
                          for k in dnfs)
        w("† *n*: *n* of the runs did not finish within the time limit "
          "for a spinning contender (%s s), or were skipped after one that "
          "did not; medians are over the runs that finished, and – means "
          "none did: %s. A run stopped so was not checked for lost "
          "messages but for one case: had every producer sent all its "
          "messages a second before and the consumers received nothing "
          "since, the driver would have failed the benchmark as a loss."
          % (meta.get("spin_limit_seconds", "?"), which))
        if any(k[4] == "ck_ring" for k in dnfs):
            w("ck_ring's producers commit in ticket order, each spinning "
              "without yielding until the one before it has committed, "
              "so with more producers than CPUs one producer preempted "
              "mid-enqueue stalls the others for a scheduler slice per "
              "message (seen in a debugger: every producer in "
              "ck_ring.h's commit loop, consumers starved).")
        w("")
    if a.history == "yes":
        L.extend(history_section(res, meta, a.csv))
    w("## Throughput (million messages/s, median)")
    w("")
    w(table(res, flow, qcols, mps, "%.2f"))
    w("")
    w("## Ratio to libchan (contender ÷ libchan, medians)")
    w("")
    w(table(res, flow, qcols, ratio_to("libchan"), "%.2f"))
    w("")
    w("## Ratio to Vyukov (contender ÷ vyukov, medians)")
    w("")
    w(table(res, [c for c in flow if res.med(*c, "vyukov")], qcols,
            ratio_to("vyukov"), "%.2f"))
    w("")
    w("## CPU time per message (ns, median; %s cores, so up to %s× wall "
      "time)" % (meta.get("cores", "?"), meta.get("cores", "?")))
    w("")
    w(table(res, flow, qcols, cpu, "%.0f"))
    w("")

    w("## Ping-pong round trip (ns)")
    w("")
    w("`pingpong_onecpu`: the same with both threads moved onto one CPU "
      "(pthread_setaffinity_np), as the scheduler sometimes stacks a pair, "
      "while the process may still use every CPU.")
    w("")
    w("| workload | cap | contender | median | min | max | runs |")
    w("|---|---:|---|---:|---:|---:|---|")
    for cell in pings:
        for who in res.contenders(cell):
            v = res.ok_runs(*cell, who, "rtt_ns")
            dnf = res.dnf(*cell, who)
            if not v:
                w("| %s | %d | %s | – | – | – | †%d |"
                  % (cell[0], cell[3], who, dnf))
                continue
            w("| %s | %d | %s | %.0f | %.0f | %.0f | %s%s |"
              % (cell[0], cell[3], who, statistics.median(v), min(v),
                 max(v), " ".join("%.0f" % x for x in v),
                 " †%d" % dnf if dnf else ""))
    w("")

    if tokens:
        tcols = [c for c in allc if any(res.med(*t, c) for t in tokens)]
        w("## Token workloads (million acquisitions/s, median; "
          "ratio to libchan; CPU ns per acquisition)")
        w("")
        w(table(res, tokens, tcols, mps, "%.2f"))
        w("")
        w(table(res, tokens, tcols, ratio_to("libchan"), "%.2f"))
        w("")
        w(table(res, tokens, tcols, cpu, "%.0f"))
        w("")

    if sweep:
        scols = [c for c in qcols if any(res.med(*s, c) for s in sweep)]
        w("## mpmc thread sweep (n producers, n consumers, capacity 1024; "
          "million messages/s, median)")
        w("")
        w("| threads | " + " | ".join(scols) + " |")
        w("|---:|" + "---:|" * len(scols))
        with open(a.dat, "w") as dat:
            dat.write("# threads " + " ".join(scols) + "\n")
            for s in sweep:
                vals = [mps(s, c) for c in scols]
                w("| %d | %s |" % (s[1] + s[2], " | ".join(
                    fmt(v) + (" †%d" % res.dnf(*s, c) if res.dnf(*s, c)
                              else "") for v, c in zip(vals, scols))))
                # A contender that did not finish is a gap, not a 0.
                dat.write("%d %s\n" % (s[1] + s[2], " ".join(
                    "NaN" if not v else "%.4f" % v for v in vals)))
        w("")
        if a.svg == "yes":
            w("![mpmc sweep: throughput against threads](sweep.svg)")
        else:
            w("(gnuplot was not installed: no plot.)")
        w("")

    # The authors' reading of the misses: prose kept in bench/MISSES.md,
    # copied in as it is (its figures come from the commands it names),
    # after every table it reads.
    why = os.path.join(os.path.dirname(os.path.abspath(a.out)), "MISSES.md")
    if os.path.exists(why):
        with open(why) as f:
            L.extend(f.read().rstrip("\n").split("\n"))
        w("")
    with open(a.out, "w") as f:
        f.write("\n".join(L))


if __name__ == "__main__":
    main()
