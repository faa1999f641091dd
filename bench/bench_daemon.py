#!/usr/bin/env python3
"""bench_daemon: the load steps of bench/bench_daemon.sh (run it from there).

Starts custosd (foreground, fresh state dir) tailing an empty file, then for
each step runs bench_appender at a target rate for a bounded time, samples
`status` over the control socket every SAMPLE_S seconds (records read,
input lag in bytes) and /proc/PID/status (VmRSS, VmHWM), waits for the
daemon to catch up, and reads the latency probe alerts back from the store.

Figures per step:
  offered     lines/s the appender actually wrote (its own count and clock)
  ingested    records/s read by the daemon while the appender was writing
              (status deltas from 1 s after the start to the end of writing)
  lag         input lag (bytes not yet read) at the end of writing, and its
              largest value; "bounded" when the end lag is under 1 s of
              input, else "grows"
  catch-up    seconds after writing stopped until every line was read
  latency     per probe line: store created_ms of its alert minus the wall
              time just after the write(2) that made the line visible
              (CLOCK_REALTIME both).  created_ms is taken when the
              writer thread starts the transaction that stores it (an
              alerts-only commit every alerts_every_ms, or a checkpoint),
              so the row is visible that commit's duration later: a
              slight underestimate.  Every probe written
              must come back, or the step says how many are missing.
RSS: VmRSS/VmHWM at the first sample with >= 1,000,000 records read in total,
and at the end.
"""
import argparse
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time

SAMPLE_S = 0.25
PROBE_RULE_ID = "0b7e5c1a-bench-4d00-8000-1a7e2c9f0001"
PROBE_RULE = """title: Benchmark latency probe
id: %s
status: test
description: Matches the benchmark appender's marked lines (every Nth).
detection:
  selection:
    probe: 'yes'
  condition: selection
level: low
""" % PROBE_RULE_ID


def status(sock_path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(sock_path)
    s.sendall(b"status\n")
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    return json.loads(data)


def proc_mem(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0])
    return out


class Sampler(threading.Thread):
    """Samples (monotonic s, records, lag_bytes, pending alerts) forever."""

    def __init__(self, sock_path, pid):
        super().__init__(daemon=True)
        self.sock_path, self.pid = sock_path, pid
        self.samples = []
        self.rss_1m = None
        self.stop = False
        self.lock = threading.Lock()

    def run(self):
        while not self.stop:
            t = time.monotonic()
            try:
                o = status(self.sock_path)
            except (OSError, ValueError):
                time.sleep(SAMPLE_S)
                continue
            inp = o["inputs"][0]
            s = (t, inp["records"], inp["lag_bytes"], o.get("pending_alerts", 0))
            with self.lock:
                self.samples.append(s)
            if self.rss_1m is None and inp["records"] >= 1000000:
                self.rss_1m = dict(proc_mem(self.pid), records=inp["records"])
            time.sleep(max(0.0, SAMPLE_S - (time.monotonic() - t)))

    def window(self, t0, t1):
        with self.lock:
            return [s for s in self.samples if t0 <= s[0] <= t1]

    def last(self):
        with self.lock:
            return self.samples[-1] if self.samples else None


def percentile(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = min(len(xs) - 1, max(0, int(round(p / 100.0 * len(xs) + 0.5)) - 1))
    return xs[k]


def run_appender(a, rate, seq0, probes_path):
    cmd = [a.appender, "--pool", a.pool, "--out", a.log, "--seq0", str(seq0),
           "--rate", str(rate), "--duration", str(a.step_s),
           "--probe-every", str(a.probe_every), "--probes", probes_path]
    t_launch = time.monotonic()
    r = subprocess.run(cmd, stderr=subprocess.PIPE, text=True, check=True)
    t_end = time.monotonic()
    w = r.stderr.split()
    written, secs = int(w[w.index("written") + 1]), float(w[w.index("seconds") + 1])
    behind = int(w[w.index("behind") + 1])
    return written, secs, behind, max(t_launch, t_end - secs), t_end


def wait_caught_up(sampler, target, limit_s):
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit_s:
        s = sampler.last()
        if s and s[1] >= target and s[2] == 0:
            return s[0] - t0
        time.sleep(SAMPLE_S / 2)
    return None


def probe_latencies(a, probes_path, seq_lo, seq_hi, limit_s):
    want = {}
    with open(probes_path) as f:
        for line in f:
            q, us = line.split()
            if seq_lo <= int(q) < seq_hi:
                want[int(q)] = int(us)
    got = {}
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit_s:
        db = sqlite3.connect("file:%s?mode=ro" % a.db, uri=True, timeout=10)
        rows = db.execute(
            "select json_extract(event_json, '$.seq'), created_ms from alerts "
            "where rule_id = ? and json_extract(event_json, '$.seq') "
            "between ? and ?", (PROBE_RULE_ID, seq_lo, seq_hi - 1)).fetchall()
        db.close()
        got = {int(q): ms for q, ms in rows}
        if len(got) >= len(want):
            break
        time.sleep(0.5)
    lat = [got[q] - want[q] / 1000.0 for q in want if q in got]
    return lat, len(want) - len([q for q in want if q in got])


def step_figures(sampler, rate, written, secs, t_start, t_end, line_bytes):
    win = sampler.window(t_start + 1.0, t_end)
    ingested = float("nan")
    per_s = []
    if len(win) >= 2:
        ingested = (win[-1][1] - win[0][1]) / (win[-1][0] - win[0][0])
        i = 0
        for j in range(1, len(win)):
            if win[j][0] - win[i][0] >= 1.0:
                per_s.append((win[j][1] - win[i][1]) / (win[j][0] - win[i][0]))
                i = j
    end_lag = win[-1][2] if win else -1
    max_lag = max((s[2] for s in win), default=-1)
    bounded = end_lag >= 0 and end_lag < rate * line_bytes
    return {"offered": written / secs, "ingested": ingested,
            "ingested_med_1s": statistics.median(per_s) if per_s else ingested,
            "end_lag": end_lag, "max_lag": max_lag, "bounded": bounded}


def write_config(a):
    os.makedirs(os.path.join(a.tmp, "probe"), exist_ok=True)
    with open(os.path.join(a.tmp, "probe", "probe.yml"), "w") as f:
        f.write(PROBE_RULE)
    with open(a.config, "w") as f:
        f.write("""inputs:
  - name: bench
    path: %s
rules: [ %s, %s ]
state_dir: %s/state
control_socket: %s
checkpoint: { every_records: %d, every_ms: %s, alerts_every_ms: %s }
retention: { access_events: %s }
status_log_interval: 0
""" % (a.log, a.rules, os.path.join(a.tmp, "probe"), a.tmp, a.sock,
            a.ck_records, a.ck_ms, a.alerts_ms, a.retain))


def fmt_rate(x):
    return "%8.0f" % x if x == x else "     n/a"


def main():
    p = argparse.ArgumentParser()
    for k in ("custosd", "appender", "pool", "rules", "tmp"):
        p.add_argument("--" + k, required=True)
    p.add_argument("--rates", default="50000,100000,200000,400000")
    p.add_argument("--step-s", type=float, default=10)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--probe-every", type=int, default=1000)
    p.add_argument("--ck-records", type=int, default=10000)
    p.add_argument("--ck-ms", default="2s")
    p.add_argument("--alerts-ms", default="200ms")
    p.add_argument("--retain", default="true")
    p.add_argument("--perf", default="", help="perf record output file")
    p.add_argument("--replay-rate", type=float, default=0,
                   help="baseline events/s, for the overhead ratio")
    a = p.parse_args()
    a.log = os.path.join(a.tmp, "tail.jsonl")
    a.config = os.path.join(a.tmp, "custosd.yml")
    a.sock = os.path.join(a.tmp, "ctl.sock")
    a.db = os.path.join(a.tmp, "state", "alerts.db")
    probes_path = os.path.join(a.tmp, "probes.txt")
    open(a.log, "w").close()
    write_config(a)
    with open(a.pool, "rb") as f:
        head = f.read(1 << 20).splitlines()
    line_bytes = sum(len(x) + 1 for x in head) / max(1, len(head)) + 12

    dlog = open(os.path.join(a.tmp, "custosd.log"), "w")
    d = subprocess.Popen([a.custosd, "-f", "-c", a.config], stderr=dlog)
    perf = None
    try:
        t0 = time.monotonic()
        while not os.path.exists(a.sock):
            if d.poll() is not None or time.monotonic() - t0 > 30:
                sys.exit("bench_daemon: custosd did not start; see %s"
                         % dlog.name)
            time.sleep(0.1)
        if a.perf:
            perf = subprocess.Popen(["perf", "record", "-g", "-o", a.perf,
                                     "-p", str(d.pid)],
                                    stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
        sampler = Sampler(a.sock, d.pid)
        sampler.start()
        rows = run_steps(a, sampler, probes_path, line_bytes)
        end_mem = proc_mem(d.pid)
        final = status(a.sock)
    finally:
        if perf:
            perf.send_signal(2)
            perf.wait()
        d.terminate()
        d.wait()
    print_table(a, rows, sampler.rss_1m, end_mem, final)


def run_steps(a, sampler, probes_path, line_bytes):
    rows = []
    seq = 0
    for rate in [int(x) for x in a.rates.split(",")]:
        for rep in range(a.repeats):
            written, secs, behind, t_start, t_end = run_appender(
                a, rate, seq, probes_path)
            fig = step_figures(sampler, rate, written, secs, t_start, t_end,
                               line_bytes)
            catch = wait_caught_up(sampler, seq + written, 300)
            lat, missing = probe_latencies(a, probes_path, seq, seq + written,
                                           30)
            fig.update(rate=rate, rep=rep, seq0=seq, written=written, behind=behind,
                       catch_up=catch, lat=lat, missing=missing)
            rows.append(fig)
            seq += written
            print("  step %d/s #%d: offered %.0f, ingested %.0f, end lag %d, "
                  "catch-up %s s, %d probes" %
                  (rate, rep + 1, fig["offered"], fig["ingested"],
                   fig["end_lag"], "%.1f" % catch if catch is not None else
                   ">300", len(lat)), file=sys.stderr)
            time.sleep(1)
    return rows


def file_mib(path):
    try:
        return os.path.getsize(path) / 1048576.0
    except OSError:
        return 0.0


def med(rows, key):
    xs = [r[key] for r in rows if r[key] is not None and r[key] == r[key]]
    return statistics.median(xs) if xs else float("nan")


def print_table(a, rows, rss_1m, end_mem, final):
    print("custosd file tail, checkpoint every_records %d / every_ms %s, "
          "alerts_every_ms %s, retention.access_events %s, "
          "probe rule on every %dth line, %g s steps x %d"
          % (a.ck_records, a.ck_ms, a.alerts_ms, a.retain, a.probe_every,
             a.step_s, a.repeats))
    print("  %8s %9s %9s %9s %10s %10s %8s %9s %8s %8s %8s %6s %9s" % (
        "target/s", "offered/s", "ingest/s", "ingest1s", "end lag", "max lag",
        "lag", "catch-up", "p50 ms", "p99 ms", "max ms", "probes", "from line"))
    for rate in sorted(set(r["rate"] for r in rows)):
        rs = [r for r in rows if r["rate"] == rate]
        lat = [x for r in rs for x in r["lat"]]
        catches = [r["catch_up"] for r in rs]
        catch = ("%8.1fs" % max(catches) if None not in catches
                 else "   >300s")
        missing = sum(r["missing"] for r in rs)
        print("  %8d %9s %9s %9s %9.1fM %9.1fM %8s %9s %8.0f %8.0f %8.0f %6d %9d%s"
              % (rate, fmt_rate(med(rs, "offered")), fmt_rate(med(rs, "ingested")),
                 fmt_rate(med(rs, "ingested_med_1s")),
                 med(rs, "end_lag") / 1048576, max(r["max_lag"] for r in rs) / 1048576,
                 "bounded" if all(r["bounded"] for r in rs) else "grows",
                 catch, percentile(lat, 50), percentile(lat, 99),
                 max(lat) if lat else float("nan"), len(lat), rs[0]["seq0"],
                 " (%d missing)" % missing if missing else ""))
        if any(r["behind"] for r in rs):
            print("           (appender fell behind its schedule by up to %d "
                  "lines: offered < target)" % max(r["behind"] for r in rs))
    if rss_1m:
        print("  RSS after %d records: VmRSS %d KiB, VmHWM %d KiB"
              % (rss_1m["records"], rss_1m["VmRSS"], rss_1m["VmHWM"]))
    kept = [med([r for r in rows if r["rate"] == x], "ingested")
            for x in set(r["rate"] for r in rows)
            if all(r["bounded"] for r in rows if r["rate"] == x)]
    peak = max((r["ingested"] for r in rows if r["ingested"] == r["ingested"]),
               default=float("nan"))
    print("  highest step kept up with (lag bounded): %s events/s; peak "
          "ingest %.0f events/s" % ("%.0f" % max(kept) if kept else "none",
                                    peak))
    if a.replay_rate and peak == peak:
        print("  replay / daemon peak ingest: %.1fx" % (a.replay_rate / peak))
    inp = final["inputs"][0]
    print("  RSS at the end (%d records): VmRSS %d KiB, VmHWM %d KiB"
          % (inp["records"], end_mem["VmRSS"], end_mem["VmHWM"]))
    e, c = final.get("engine", {}), final.get("checkpoint", {})
    print("  daemon totals: %d records, %d malformed, %d alerts, %d groups; "
          "%d checkpoints and %d alerts-only commits wrote %d alerts and "
          "%d group states (%.0f per checkpoint); store %.1f MiB (+ WAL "
          "%.1f MiB)"
          % (inp["records"], inp.get("malformed", 0), e.get("alerts", 0),
             e.get("groups", 0), c.get("commits", 0),
             c.get("alert_commits", 0),
             c.get("alerts_stored", 0), c.get("groups_written", 0),
             c.get("groups_written", 0) / max(1, c.get("commits", 0)),
             file_mib(a.db), file_mib(a.db + "-wal")))
    ev = final.get("store", {}).get("access_events", {})
    if ev.get("enabled"):
        print("  retained access events: %d written, %d waiting, %d dropped "
              "(retain bound reached: not stored, detection unaffected)"
              % (ev.get("written", 0), ev.get("waiting", 0),
                 ev.get("dropped", 0)))


if __name__ == "__main__":
    main()
