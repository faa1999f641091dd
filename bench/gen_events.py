#!/usr/bin/env python3
"""gen_events: deterministic JSON-lines access log for benchmarks and examples.

Normal support work: agents open customers they hold tickets for, mostly
profile/contact/transactions views, occasional searches and small exports,
in event time that advances a few hundred milliseconds per event.  With
--insider, one agent (agent-insider) additionally harvests records: a burst
of views of distinct customers without tickets, ID-document views, and one
bulk export.  Same seed, same output.

usage: gen_events.py [--events N] [--agents N] [--customers N] [--seed S]
                     [--insider] [--start 2025-03-03T08:00:00Z]
"""
import argparse
import datetime as dt
import json
import random
import sys

ACTIONS = ["view"] * 80 + ["search"] * 10 + ["update"] * 6 + ["export"] * 1 + \
    ["download"] * 3
OBJECTS = ["profile"] * 40 + ["contact"] * 25 + ["transactions"] * 20 + \
    ["balance"] * 8 + ["notes"] * 6 + ["id_document"] * 1
TEAMS = ["kyc", "payments", "general", "vip"]


def iso(ms):
    t = dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)


def normal_event(rnd, ms, args):
    a = rnd.randrange(args.agents)
    action = rnd.choice(ACTIONS)
    ev = {"ts": iso(ms), "agent": "agent-%05d" % a,
          "team": TEAMS[a % len(TEAMS)], "action": action,
          "tool": "console", "src_ip": "10.1.%d.%d" % (a // 250, a % 250 + 1),
          "session": "s-%d-%d" % (a, ms // 3600000)}
    if action in ("view", "update", "download"):
        ev["object"] = rnd.choice(OBJECTS)
        ev["customer"] = "C%07d" % rnd.randrange(args.customers)
        ev["ticket"] = "T%08d" % rnd.randrange(10 ** 8)
        ev["rows"] = 1
    elif action == "search":
        ev["query"] = "name:%s" % rnd.choice(["smith", "lee", "garcia", "kim"])
        ev["rows"] = rnd.randrange(1, 30)
    else:
        ev["object"] = "report"
        ev["rows"] = rnd.randrange(10, 500)
    ev["outcome"] = "success" if rnd.random() > 0.01 else "denied"
    return ev


def insider_events(rnd, ms, n, args):
    """The harvesting burst: n views of distinct customers, no tickets."""
    out = []
    for i in range(n):
        ms += rnd.randrange(8000, 20000)
        obj = "id_document" if i % 10 == 0 else "profile"
        out.append({"ts": iso(ms), "agent": "agent-insider", "team": "general",
                    "action": "view", "object": obj,
                    "customer": "C%07d" % rnd.randrange(args.customers),
                    "rows": 1, "tool": "console", "src_ip": "10.9.9.9",
                    "session": "s-insider", "outcome": "success"})
    ms += 60000
    out.append({"ts": iso(ms), "agent": "agent-insider", "team": "general",
                "action": "export", "object": "report", "rows": 5000,
                "tool": "console", "src_ip": "10.9.9.9",
                "session": "s-insider", "outcome": "success"})
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--events", type=int, default=10000)
    p.add_argument("--agents", type=int, default=200)
    p.add_argument("--customers", type=int, default=100000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--insider", action="store_true")
    p.add_argument("--start", default="2025-03-03T08:00:00Z")
    args = p.parse_args()
    rnd = random.Random(args.seed)
    start = dt.datetime.fromisoformat(args.start.replace("Z", "+00:00"))
    ms = int(start.timestamp() * 1000)
    burst_at = args.events // 2 if args.insider else -1
    out = sys.stdout
    pending = []
    for i in range(args.events):
        ms += rnd.randrange(1, 400)
        if i == burst_at:
            pending = insider_events(rnd, ms, 120, args)
        while pending and pending[0]["ts"] <= iso(ms):
            out.write(json.dumps(pending.pop(0), separators=(",", ":")) + "\n")
        out.write(json.dumps(normal_event(rnd, ms, args),
                             separators=(",", ":")) + "\n")
    for ev in pending:
        out.write(json.dumps(ev, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
