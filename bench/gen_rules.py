#!/usr/bin/env python3
"""gen_rules: N deterministic Sigma detection rules for the replay benchmark.

Realistic detection-engineering shapes over the access-event fields of
bench/gen_events.py: field equality (action, object, team, outcome, tool),
lists, contains/startswith/endswith, regex on agent ids, CIDR on src_ip,
numeric rows thresholds and a filter under `not`.  Most rules match rarely
or never on generated logs (as in a real pack); a few match about one event
in a thousand.  Same N and seed, same files.

usage: gen_rules.py [--rules N] [--seed S] OUTDIR
"""
import argparse
import os
import random
import uuid

ACTIONS = ["view", "search", "update", "export", "download", "print",
           "login", "logout", "ticket_assign", "ticket_close"]
OBJECTS = ["profile", "contact", "transactions", "balance", "id_document",
           "bank_account", "notes", "report"]
TEAMS = ["kyc", "payments", "general", "vip"]


def sel_action_object(r):
    acts = r.sample(ACTIONS, r.randrange(1, 3))
    return {"action": acts, "object": r.choice(OBJECTS),
            "team": r.choice(TEAMS), "outcome": "denied"}, None


def sel_export_rows(r):
    return {"action": r.sample(["export", "download", "print"], 2),
            "rows|gte": r.randrange(300, 2000)}, None


def sel_query(r):
    word = r.choice(["passport", "iban", "ssn", "salary", "vip list", "dump"])
    return {"action": "search", "query|contains": word}, None


def sel_agent_re(r):
    return {"action": r.choice(["export", "download", "update"]),
            "agent|re": "^agent-0%d[0-9]{2}7$" % r.randrange(10)}, None


def sel_ticket(r):
    return {"action": "view", "object": r.choice(OBJECTS),
            "ticket|startswith": "T%04d" % r.randrange(10000)}, None


def sel_customer(r):
    return {"action": ["view", "download"],
            "customer|endswith": "%04d" % r.randrange(10000)}, \
        {"team|endswith": ["-qa", "-verification"]}


def sel_cidr(r):
    return {"src_ip|cidr": "10.9.%d.0/24" % r.randrange(256),
            "action": ["login", "view"]}, None


def sel_tool(r):
    return {"tool": r.choice(["batch", "api", "sql-console", "export-tool"]),
            "object": r.sample(OBJECTS, 3)}, None


def sel_session(r):
    return {"session|contains": "-%d-" % r.randrange(100000, 999999),
            "action": "export"}, None


def sel_balance_denied(r):
    return {"action": "view", "object": "balance", "outcome": "denied",
            "team": r.choice(TEAMS)}, None


SHAPES = [sel_action_object, sel_export_rows, sel_query, sel_agent_re,
          sel_ticket, sel_customer, sel_cidr, sel_tool, sel_session,
          sel_balance_denied]


def yaml_value(v):
    if isinstance(v, list):
        return "".join("\n      - %s" % yaml_scalar(x) for x in v)
    return " " + yaml_scalar(v)


def yaml_scalar(v):
    if isinstance(v, int):
        return str(v)
    return "'%s'" % v.replace("'", "''")


def rule_text(i, r):
    sel, flt = SHAPES[i % len(SHAPES)](r)
    lines = ["title: Generated detection %03d (%s)" % (i, SHAPES[i % len(SHAPES)].__name__[4:]),
             "id: %s" % uuid.UUID(int=r.getrandbits(128), version=4),
             "name: gen_%03d" % i, "status: experimental",
             "logsource:", "  category: access", "detection:", "  selection:"]
    lines += ["    %s:%s" % (k, yaml_value(v)) for k, v in sel.items()]
    cond = "selection"
    if flt:
        lines.append("  filter:")
        lines += ["    %s:%s" % (k, yaml_value(v)) for k, v in flt.items()]
        cond = "selection and not filter"
    lines += ["  condition: %s" % cond, "level: %s" % r.choice(["low", "medium", "high"])]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rules", type=int, default=100)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("outdir")
    args = ap.parse_args()
    r = random.Random(args.seed)
    os.makedirs(args.outdir, exist_ok=True)
    docs = [rule_text(i, r) for i in range(args.rules)]
    with open(os.path.join(args.outdir, "generated.yml"), "w") as f:
        f.write("---\n".join(docs))


if __name__ == "__main__":
    main()
