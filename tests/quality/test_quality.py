"""Unit tests for tools/custos-gen (determinism, realism invariants of the
normal work, the injected scenarios) and tools/detection-quality (label /
alert attribution, agent-day count, thresholds, exit codes).

Run: python3 -m unittest discover -s tests/quality -p 'test_*.py'
"""
import collections
import datetime as dt
import importlib.machinery
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GEN = os.path.join(ROOT, "tools", "custos-gen")
DQ = os.path.join(ROOT, "tools", "detection-quality")


def load(path, name):
    loader = importlib.machinery.SourceFileLoader(name, path)
    spec = importlib.util.spec_from_loader(name, loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


dq = load(DQ, "detection_quality")


def gen(tmp, *args):
    """Runs custos-gen into tmp; returns the paths of its four outputs."""
    out = {k: os.path.join(tmp, k) for k in ("log", "labels", "dir",
                                             "lists")}
    subprocess.run([sys.executable, GEN, "-o", out["log"], "--labels",
                    out["labels"], "--directory", out["dir"], "--lists",
                    out["lists"]] + list(args), check=True)
    return out


def text(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


def read_bytes(paths):
    return {k: text(p, "rb") for k, p in paths.items()}


def jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def directory(path):
    with open(path) as f:
        head = f.readline().strip().split(",")
        return {row[0]: dict(zip(head, row)) for row in
                (line.strip().split(",") for line in f)}


SMALL = ["--agents", "60", "--days", "16", "--seed", "7",
         "--busy-day", "2025-03-26"]


class Corpus:
    """One normal corpus and one with every scenario, built once."""
    _tmp = None

    @classmethod
    def get(cls):
        if cls._tmp is None:
            cls._tmp = tempfile.TemporaryDirectory()
            base = cls._tmp.name
            os.mkdir(os.path.join(base, "normal"))
            os.mkdir(os.path.join(base, "all"))
            cls.normal = gen(os.path.join(base, "normal"), *SMALL)
            cls.all = gen(os.path.join(base, "all"), *SMALL,
                          "--all-scenarios")
            cls.normal_events = jsonl(cls.normal["log"])
            cls.all_events = jsonl(cls.all["log"])
            cls.dir = directory(cls.normal["dir"])
        return cls


def tearDownModule():
    if Corpus._tmp is not None:
        Corpus._tmp.cleanup()


class GeneratorDeterminism(unittest.TestCase):
    def test_same_seed_same_bytes(self):
        c = Corpus.get()
        with tempfile.TemporaryDirectory() as tmp:
            again = gen(tmp, *SMALL, "--all-scenarios")
            self.assertEqual(read_bytes(again), read_bytes(c.all))

    def test_hash_seed_does_not_matter(self):
        c = Corpus.get()
        with tempfile.TemporaryDirectory() as tmp:
            env = dict(os.environ, PYTHONHASHSEED="12345")
            out = os.path.join(tmp, "log")
            subprocess.run([sys.executable, GEN, "-o", out] + SMALL +
                           ["--all-scenarios"], check=True, env=env)
            self.assertEqual(text(out, "rb"),
                             text(c.all["log"], "rb"))

    def test_other_seed_other_bytes(self):
        c = Corpus.get()
        with tempfile.TemporaryDirectory() as tmp:
            other = gen(tmp, *(SMALL[:5] + ["8"] + SMALL[6:]))
            self.assertNotEqual(read_bytes(other)["log"],
                                read_bytes(c.normal)["log"])

    def test_scenarios_leave_normal_work_alone(self):
        # injecting scenarios adds events; it must not reshuffle the rest
        c = Corpus.get()
        normal = text(c.normal["log"]).splitlines()
        mixed = set(text(c.all["log"]).splitlines())
        self.assertTrue(all(line in mixed for line in normal))


class GeneratorShape(unittest.TestCase):
    def test_schema_and_order(self):
        c = Corpus.get()
        allowed = {"ts", "agent", "team", "site", "action", "object",
                   "customer", "ticket", "rows", "query", "src_ip",
                   "session", "tool", "outcome"}
        prev = ""
        for e in c.all_events:
            self.assertLessEqual(set(e), allowed)
            self.assertRegex(e["ts"],
                             r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            self.assertLessEqual(prev, e["ts"])
            prev = e["ts"]
            self.assertIn(e["outcome"], ("success", "denied"))
            self.assertIsInstance(e["rows"], int)
            if e["action"] in ("view", "update") and \
                    e.get("object") != "report":
                self.assertIn("customer", e)

    def test_directory_and_lists(self):
        c = Corpus.get()
        self.assertEqual(len(c.dir), 60)
        roles = collections.Counter(r["role"] for r in c.dir.values())
        for role in ("agent", "lead", "qa", "verifier"):
            self.assertGreater(roles[role], 0, role)
        tzs = {r["tz"] for r in c.dir.values()}
        self.assertEqual(tzs, {"Asia/Manila", "Europe/Lisbon",
                               "America/Bogota"})
        body = text(c.normal["lists"])
        self.assertIn("lists:\n  vip_customers:\n    - C", body)
        self.assertIn("\n  decoy_customers:\n    - C", body)


def local_shift_ok(row, ms, slack_min=30):
    """Is instant ms within the agent's rostered shift +-slack (any day)?
    Uses zoneinfo, independently of the generator's own zone rules."""
    from zoneinfo import ZoneInfo
    t = dt.datetime.fromtimestamp(ms / 1000, ZoneInfo(row["tz"]))
    h, m = map(int, row["shift_start"].split(":"))
    for back in (0, 1):
        d = t.date() - dt.timedelta(days=back)
        start = dt.datetime(d.year, d.month, d.day, h, m,
                            tzinfo=ZoneInfo(row["tz"]))
        end = start + dt.timedelta(hours=8)
        if start - dt.timedelta(minutes=slack_min) <= t <= \
                end + dt.timedelta(minutes=slack_min):
            return True
    return False


class NormalWork(unittest.TestCase):
    """Legitimate work must look like real tools' logs: the rule pack is
    tuned against it."""

    def test_within_shift(self):
        c = Corpus.get()
        try:
            import zoneinfo  # noqa: F401
            zoneinfo.ZoneInfo("Europe/Lisbon")
        except Exception:
            self.skipTest("no tz database")
        for e in c.normal_events:
            ms = dq.parse_ts(e["ts"])
            self.assertTrue(local_shift_ok(c.dir[e["agent"]], ms), e)

    def test_views_carry_the_assigned_ticket(self):
        c = Corpus.get()
        assigned, closed = {}, {}
        ticketless = collections.Counter()
        for e in c.normal_events:
            a, t = e["agent"], e.get("ticket")
            if e["action"] == "ticket_assign":
                assigned[(a, t)] = e["customer"]
            elif e["action"] == "ticket_close":
                closed[t] = (e["ts"], e["customer"])
            elif e["action"] == "view" and "customer" in e:
                if t is None:
                    ticketless[(a, e["ts"][:10])] += 1
                    continue
                if c.dir[a]["role"] == "qa":
                    self.assertIn(t, closed, e)
                    self.assertLess(closed[t][0], e["ts"])
                    self.assertEqual(closed[t][1], e["customer"])
                else:
                    self.assertEqual(assigned.get((a, t)), e["customer"], e)
        # a few look-ups before a ticket exists, never five a day
        self.assertGreater(sum(ticketless.values()), 0)
        self.assertLessEqual(max(ticketless.values()), 4)

    def test_roles(self):
        c = Corpus.get()
        idd, days = collections.Counter(), collections.defaultdict(set)
        for e in c.normal_events:
            days[c.dir[e["agent"]]["role"]].add(e["session"])
            role = c.dir[e["agent"]]["role"]
            if e["action"] == "export":
                self.assertEqual(role, "lead")
                self.assertLessEqual(e["rows"], 2000)
            if e.get("object") == "id_document" and e["action"] == "view":
                idd[role] += 1
            if role == "verifier" and e["action"] == "view":
                self.assertIn("ticket", e)
        # per agent-day, the verification queue opens ID documents all day
        self.assertGreater(idd["verifier"] / len(days["verifier"]),
                           20 * idd["agent"] / len(days["agent"]))
        self.assertEqual(idd["qa"], 0)

    def test_busy_day(self):
        c = Corpus.get()
        # Lisbon's shifts fall within the UTC day: count tickets per date
        per_day = collections.Counter(
            e["ts"][:10] for e in c.normal_events
            if e["action"] == "ticket_assign" and e["site"] == "LIS")
        self.assertGreater(per_day["2025-03-26"], 2.5 * per_day["2025-03-19"])
        self.assertGreater(per_day["2025-03-26"], 2.5 * per_day["2025-03-27"])


class Scenarios(unittest.TestCase):
    def labels(self):
        return jsonl(Corpus.get().all["labels"])

    def by_agent(self, agent):
        return [e for e in Corpus.get().all_events if e["agent"] == agent]

    def test_one_label_per_scenario(self):
        labs = self.labels()
        gen_mod = load(GEN, "custos_gen")
        self.assertEqual([x["scenario"] for x in labs],
                         list(gen_mod.SCENARIOS))
        for x in labs:
            self.assertEqual(x["scenario"], x["pattern"])
            self.assertLessEqual(x["first_ts"], x["last_ts"])
            self.assertIn(x["agent"], x["agents"])
            ts = {e["ts"] for e in self.by_agent(x["agent"])}
            if x["scenario"] != "many_agents_one_customer":
                self.assertIn(x["first_ts"], ts, x["scenario"])
        insiders = [x["agent"] for x in labs]
        self.assertEqual(len(insiders), len(set(insiders)))

    def lab(self, name):
        return next(x for x in self.labels() if x["scenario"] == name)

    def test_no_ticket_is_spread_and_hidden_in_normal_work(self):
        x = self.lab("no_ticket")
        day = [e for e in self.by_agent(x["agent"])
               if x["first_ts"] <= e["ts"] <= x["last_ts"]]
        bare = {e["customer"] for e in day
                if e["action"] == "view" and "ticket" not in e}
        self.assertGreaterEqual(len(bare), 60)
        self.assertLessEqual(len(bare), 150)
        self.assertTrue(any(e["action"] == "ticket_assign" for e in day))
        hour = collections.Counter(e["ts"][:13] for e in day
                                   if e["action"] == "view" and
                                   "ticket" not in e)
        self.assertLess(max(hour.values()), 40 * 3)

    def test_bulk_and_sum_exports(self):
        x = self.lab("bulk_export")
        ev = [e for e in self.by_agent(x["agent"]) if e["ts"] ==
              x["first_ts"] and e["action"] == "export"]
        self.assertGreater(ev[0]["rows"], 2000)
        x = self.lab("export_sum")
        rows = [e["rows"] for e in self.by_agent(x["agent"])
                if e["action"] == "export" and
                x["first_ts"] <= e["ts"] <= x["last_ts"]]
        self.assertTrue(all(r <= 2000 for r in rows))
        self.assertGreater(sum(rows), 5000)

    def test_decoy_and_vip_from_the_lists(self):
        body = text(Corpus.get().all["lists"])
        decoys = body.split("decoy_customers:")[1]
        vips = body.split("decoy_customers:")[0]
        for c in self.lab("decoy")["customers"]:
            self.assertIn("- %s\n" % c, decoys)
        for c in self.lab("vip_no_ticket")["customers"]:
            self.assertIn("- %s\n" % c, vips)
        # decoys are never touched by normal work
        touched = {e.get("customer") for e in Corpus.get().normal_events}
        self.assertFalse(any("- %s\n" % c in decoys for c in touched
                             if c))

    def test_off_shift_is_off_shift(self):
        c = Corpus.get()
        try:
            import zoneinfo
            zoneinfo.ZoneInfo("Europe/Lisbon")
        except Exception:
            self.skipTest("no tz database")
        x = self.lab("off_shift")
        self.assertFalse(local_shift_ok(c.dir[x["agent"]],
                                        dq.parse_ts(x["first_ts"])))

    def test_sequential_run(self):
        x = self.lab("sequential_ids")
        ids = sorted({int(e["customer"][1:])
                      for e in self.by_agent(x["agent"])
                      if x["first_ts"] <= e["ts"] <= x["last_ts"] and
                      e["action"] == "view"})
        run = best = 1
        for a, b in zip(ids, ids[1:]):
            run = run + 1 if b == a + 1 else 1
            best = max(best, run)
        self.assertGreaterEqual(best, 10)

    def test_first_id_doc_has_a_history(self):
        """The first ID document comes after 10 worked days without one."""
        x = self.lab("first_id_doc")
        evs = self.by_agent(x["agent"])
        before = [e for e in evs if e["ts"] < x["first_ts"]]
        days = {e["ts"][:10] for e in before if e["action"] == "login"}
        self.assertGreaterEqual(len(days), 10)
        self.assertFalse([e for e in before
                          if e.get("object") == "id_document"])
        self.assertTrue([e for e in evs if e["ts"] == x["first_ts"] and
                         e.get("object") == "id_document"])

    def test_self_baseline_doubles_own_median(self):
        x = self.lab("self_baseline")
        per_day = collections.defaultdict(set)
        for e in self.by_agent(x["agent"]):
            if e["action"] == "view" and "customer" in e:
                per_day[e["session"]].add(e["customer"])
        sess = next(e["session"] for e in self.by_agent(x["agent"])
                    if e["ts"] == x["first_ts"])
        normal = sorted(len(v) for k, v in per_day.items() if k != sess)
        self.assertGreaterEqual(len(normal), 10)
        self.assertGreaterEqual(len(per_day[sess]),
                                2 * normal[len(normal) // 2])

    def test_explicit_agent_and_day(self):
        c = Corpus.get()
        lead = next(a for a, r in sorted(c.dir.items())
                    if r["role"] == "lead" and r["status"] == "active" and
                    "Thu" not in r["days_off"])
        with tempfile.TemporaryDirectory() as tmp:
            out = gen(tmp, *SMALL, "--scenario",
                      "never_exporter:%s:2025-03-20" % lead,
                      "--scenario", "denied_burst")
            labs = jsonl(out["labels"])
        self.assertEqual(labs[0]["agent"], lead)
        self.assertTrue(labs[0]["first_ts"][:10] in ("2025-03-19",
                                                     "2025-03-20",
                                                     "2025-03-21"))
        self.assertEqual(labs[1]["scenario"], "denied_burst")

    def test_bad_scenario_is_an_error(self):
        p = subprocess.run([sys.executable, GEN, "--agents", "30", "--days",
                            "2", "--scenario", "nosuch", "-o", os.devnull],
                           capture_output=True, text=True)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("unknown scenario", p.stderr)


def label(agent, first, last, agents=None, customers=None, pat="p"):
    return {"scenario": pat, "pattern": pat, "agent": agent,
            "agents": agents or [agent], "customers": customers or [],
            "first_ts": first, "last_ts": last}


def alert(ts, rule="r", group=None, agent=None, level="high"):
    return {"ts": ts, "rule_title": rule, "level": level,
            "group": group or {}, "event": {"agent": agent, "ts": ts}}


class Attribution(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def labels(self, *labs, grace="24h"):
        path = os.path.join(self.tmp.name, "labels")
        with open(path, "w") as f:
            for x in labs:
                f.write(json.dumps(x) + "\n")
        return dq.load_labels(path, dq.parse_duration(grace))

    def test_window_and_agent(self):
        labs = self.labels(label("a1", "2025-03-03T10:00:00.000Z",
                                 "2025-03-03T12:00:00.000Z"))
        inside = alert("2025-03-03T11:00:00.000Z", group={"agent": "a1"})
        grace = alert("2025-03-04T11:59:59.000Z", group={"agent": "a1"})
        before = alert("2025-03-03T09:59:59.999Z", group={"agent": "a1"})
        late = alert("2025-03-04T12:00:00.001Z", group={"agent": "a1"})
        other = alert("2025-03-03T11:00:00.000Z", group={"agent": "a2"})
        m, fp = dq.attribute(labs, [inside, grace, before, late, other])
        self.assertEqual(m[0], [inside, grace])
        self.assertEqual(fp, [before, late, other])

    def test_group_agent_beats_event_agent(self):
        labs = self.labels(label("a1", "2025-03-03T10:00:00Z",
                                 "2025-03-03T12:00:00Z"))
        a = alert("2025-03-03T11:00:00Z", group={"agent": "a2"}, agent="a1")
        b = alert("2025-03-03T11:00:00Z", agent="a1")   # detection rule
        m, fp = dq.attribute(labs, [a, b])
        self.assertEqual((m[0], fp), ([b], [a]))

    def test_customer_grouped_alert(self):
        labs = self.labels(label("a1", "2025-03-03T10:00:00Z",
                                 "2025-03-03T12:00:00Z", agents=["a1", "a2"],
                                 customers=["C1"]))
        by_c = alert("2025-03-03T11:00:00Z", group={"customer": "C1"},
                     agent="a9")
        other_c = alert("2025-03-03T11:00:00Z", group={"customer": "C2"},
                        agent="a9")
        ring = alert("2025-03-03T11:00:00Z", group={"agent": "a2"})
        m, fp = dq.attribute(labs, [by_c, other_c, ring])
        self.assertEqual((m[0], fp), ([by_c, ring], [other_c]))

    def test_alert_for_two_labels_is_no_fp(self):
        labs = self.labels(
            label("a1", "2025-03-03T10:00:00+01:00", "2025-03-03T12:00:00Z",
                  pat="x"),
            label("a1", "2025-03-03T09:30:00Z", "2025-03-03T09:40:00Z",
                  pat="y"), grace="2h")
        a = alert("2025-03-03T09:45:00Z", group={"agent": "a1"})
        m, fp = dq.attribute(labs, [a])
        self.assertEqual((m, fp), ([[a], [a]], []))

    def test_parse_ts_offsets(self):
        self.assertEqual(dq.parse_ts("1970-01-01T00:00:01.500Z"), 1500)
        self.assertEqual(dq.parse_ts("1970-01-01T08:00:00+08:00"), 0)
        self.assertEqual(dq.parse_ts("1969-12-31T19:00:00.25-05:00"), 250)

    def test_agent_days(self):
        h = 3600000
        ev = [("n", 22 * h), ("n", 26 * h), ("n", 29 * h),      # 1 night
              ("n", 46 * h), ("n", 50 * h),                     # next night
              ("d", 8 * h), ("d", 13 * h + 59 * 60000),         # 1 day
              ("d", 19 * h + 59 * 60000)]                       # gap 6h
        self.assertEqual(dq.count_agent_days(ev), 2 + 2)

    def summary(self, labs, alerts, days=1000):
        m, fp = dq.attribute(labs, alerts)
        return dq.summarise(labs, m, fp, alerts, days, {}, 3)

    def test_summary_and_thresholds(self):
        labs = self.labels(
            label("a1", "2025-03-03T10:00:00Z", "2025-03-03T12:00:00Z",
                  pat="bulk_export"),
            label("a2", "2025-03-03T10:00:00Z", "2025-03-03T12:00:00Z",
                  pat="decoy"))
        alerts = [alert("2025-03-03T10:30:00Z", "R1", {"agent": "a1"}),
                  alert("2025-03-03T10:10:00Z", "R2", {"agent": "a1"}),
                  alert("2025-03-03T10:10:00Z", "R1", {"agent": "b"}),
                  alert("2025-03-03T10:10:00Z", "R1", {"agent": "c"})]
        s = self.summary(labs, alerts)
        sc = s["scenarios"][0]
        self.assertEqual((sc["detected"], sc["rules"], sc["alerts"],
                          sc["time_to_detect_s"]), (True, ["R1", "R2"], 2,
                                                    600.0))
        self.assertEqual(sc["time_to_detect_by_rule_s"],
                         {"R1": 1800.0, "R2": 600.0})
        self.assertFalse(s["scenarios"][1]["detected"])
        self.assertEqual(s["recall"], 0.5)
        self.assertEqual(s["fp_per_1000"], 2.0)
        self.assertEqual(s["fp_by_rule"]["R1"]["agents"], 2)
        args = dq.parse_args(["log", "--alerts", "x", "--labels", "y",
                              "--min-recall", "0.5", "--max-fp-per-1000",
                              "2", "--max-fp-rule", "R1=1.5",
                              "--require", "bulk_export,decoy"])
        bad = dq.check(s, args)
        self.assertEqual(len(bad), 2, bad)
        self.assertIn("R1", bad[0])
        self.assertIn("'decoy'", bad[1])
        args = dq.parse_args(["log", "--alerts", "x", "--labels", "y",
                              "--min-recall", "0.6", "--require",
                              "bulk_export"])
        self.assertEqual(len(dq.check(s, args)), 1)
        args = dq.parse_args(["log", "--alerts", "x", "--labels", "y",
                              "--require-rule", "bulk_export=R2",
                              "--require-rule", "bulk_export=R3"])
        bad = dq.check(s, args)
        self.assertEqual(len(bad), 1, bad)
        self.assertIn("'R3'", bad[0])

    def test_cli_exit_codes(self):
        t = self.tmp.name
        log, labs, alerts = (os.path.join(t, n) for n in ("log", "lab",
                                                          "al"))
        with open(log, "w") as f:
            f.write('{"ts":"2025-03-03T10:00:00Z","agent":"a1"}\n'
                    '{"ts":"2025-03-03T10:05:00Z","agent":"b"}\n')
        with open(labs, "w") as f:
            f.write(json.dumps(label("a1", "2025-03-03T10:00:00Z",
                                     "2025-03-03T10:00:00Z")) + "\n")
        with open(alerts, "w") as f:
            f.write(json.dumps(alert("2025-03-03T10:00:00Z",
                                     group={"agent": "a1"})) + "\n")
            f.write(json.dumps(alert("2025-03-03T10:05:00Z",
                                     group={"agent": "b"})) + "\n")

        def run(*extra):
            return subprocess.run([sys.executable, DQ, log, "--labels", labs,
                                   "--alerts", alerts] + list(extra),
                                  capture_output=True, text=True)
        p = run("--min-recall", "1", "--json", os.path.join(t, "s.json"))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        s = json.loads(text(os.path.join(t, "s.json")))
        self.assertEqual((s["agent_days"], s["fp_alerts"]), (2, 1))
        self.assertEqual(s["fp_per_1000"], 500.0)
        self.assertEqual(run("--max-fp-per-1000", "499").returncode, 1)
        self.assertEqual(run("--min-level", "critical",
                             "--max-fp-per-1000", "0").returncode, 0)
        with open(labs, "w") as f:
            f.write('{"agent": "a1"}\n')
        p = run()
        self.assertEqual(p.returncode, 2)
        self.assertIn("first_ts", p.stderr)


if __name__ == "__main__":
    unittest.main()
