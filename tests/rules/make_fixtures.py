#!/usr/bin/env python3
"""Writes the rule fixtures tests/rules/<rule>/{fire,quiet}.jsonl (and
config.yaml where a rule needs lists).  Each pair differs only in what the
rule is about; run_rule_fixtures.sh checks the rule fires on fire.jsonl and
not on quiet.jsonl.  Re-run after changing a fixture: python3 make_fixtures.py
"""
import json, os

T0 = 1742198400  # 2025-03-17T08:00:00Z
here = os.path.dirname(os.path.abspath(__file__))


def ev(t, agent, action, **kw):
    import datetime
    ts = datetime.datetime.fromtimestamp(T0 + t, datetime.timezone.utc)
    e = {"ts": ts.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "agent": agent,
         "team": kw.pop("team", "mnl-general-1"), "action": action}
    e.update(kw)
    return e


def background():
    # another agent's ticket work: the stream carries assignments
    return [ev(0, "z", "ticket_assign", customer="C900", ticket="T900")]


def write(rule, title, fire, quiet, config=None, files=None):
    d = os.path.join(here, rule)
    os.makedirs(d, exist_ok=True)
    for name, evs in (("fire", fire), ("quiet", quiet)):
        evs = sorted(background() + evs, key=lambda e: e["ts"])
        with open(os.path.join(d, name + ".jsonl"), "w") as f:
            for e in evs:
                f.write(json.dumps(e) + "\n")
    with open(os.path.join(d, "title"), "w") as f:
        f.write(title + "\n")
    if config:
        with open(os.path.join(d, "config.yaml"), "w") as f:
            f.write(config)
    for name, text in (files or {}).items():  # list files, directories
        with open(os.path.join(d, name), "w") as f:
            f.write(text)


def views(agent, customers, t=60, step=60, **kw):
    return [ev(t + i * step, agent, "view", object="profile", customer=c,
               **kw) for i, c in enumerate(customers)]


def assigns(agent, customers, t=10):
    return [ev(t, agent, "ticket_assign", customer=c, ticket="T" + c)
            for c in customers]


cs = ["C%03d" % i for i in range(200)]

write("no_ticket_day",
      "Agent opened five or more customers without a ticket in a day",
      views("a", cs[:5], ticket="T900"),  # a colleague's ticket id
      assigns("a", cs[:5]) + views("a", cs[:5]))
write("breadth_burst", "Agent opened many distinct customers within an hour",
      assigns("a", cs[:40]) + views("a", cs[:40], step=30),
      assigns("a", cs[:39]) + views("a", cs[:39], step=30))
write("breadth_day", "Agent opened more than 150 distinct customers in a day",
      assigns("a", cs[:151]) + views("a", cs[:151], step=300),
      assigns("a", cs[:150]) + views("a", cs[:150], step=300))
write("bulk_export", "Bulk export of customer data",
      [ev(60, "a", "export", object="report", rows=2001)],
      [ev(60, "a", "export", object="report", rows=2000)])
write("export_sum", "Agent exported more than 3,000 rows in a day",
      [ev(60 + i * 3600, "a", "export", object="report", rows=800)
       for i in range(4)],
      [ev(60 + i * 3600, "a", "export", object="report", rows=750)
       for i in range(4)])
write("sensitive_no_ticket", "Sensitive records opened without a ticket",
      [ev(60 + i, "a", "view", object="id_document", customer=c)
       for i, c in enumerate(cs[:2])],
      assigns("a", cs[:2]) +
      [ev(60 + i, "a", "view", object="id_document", customer=c)
       for i, c in enumerate(cs[:2])])
write("many_agents_one_customer",
      "One customer opened without a ticket by many agents in a day",
      [ev(60 + i * 600, "a%d" % i, "view", object="profile", customer="C7")
       for i in range(4)],
      [ev(60 + i * 600, "a%d" % i, "view", object="profile", customer="C7")
       for i in range(3)])
write("denied_burst", "Repeated denied accesses by one agent",
      [ev(60 + i * 60, "a", "view", object="bank_account", customer=c,
          outcome="denied") for i, c in enumerate(cs[:5])],
      [ev(60 + i * 60, "a", "view", object="bank_account", customer=c,
          outcome="denied") for i, c in enumerate(cs[:4])])
lists = "lists:\n  vip_customers: [C001]\n  decoy_customers: [C666]\n"
# the decoy list from a list file (config lists.NAME: {file: PATH})
write("decoy_access", "Decoy customer record opened",
      views("a", ["C666"], ticket="T900"), views("a", ["C665"]),
      "lists:\n  vip_customers: [C001]\n"
      "  decoy_customers: { file: decoys.txt }\n",
      {"decoys.txt": "# decoy customer records (honeytokens)\nC666\n"})
write("vip_no_ticket", "VIP customer opened without a ticket",
      views("a", ["C001"]), assigns("a", ["C001"]) + views("a", ["C001"]),
      lists)
# ids C100..C109 (steps of 1) vs C100, C105, ... (steps of 5), all on own
# tickets: only the id sequence differs
seq = ["C%d" % (100 + i) for i in range(10)]
spaced = ["C%d" % (100 + 5 * i) for i in range(10)]
write("sequential_ids", "Agent opened customers with consecutive ids",
      assigns("a", seq) + views("a", seq),
      assigns("a", spaced) + views("a", spaced))
# a name search, then three customers without the agent's ticket; quiet:
# the same search and views on own tickets, and three ticketless views two
# hours later with no search before them
hits = ["C7%02d" % (i * 13) for i in range(3)]
search = [ev(60, "a", "search", query="name:garcia", rows=20)]
write("search_then_view",
      "Agent searched and then opened customers it had no ticket for",
      search + views("a", hits, t=90, step=30),
      search + assigns("a", hits) + views("a", hits, t=90, step=30) +
      views("a", ["C8%02d" % (i * 17) for i in range(3)], t=7200, step=30))

# agent.role from the agent directory (config lookups.agents)
directory = ("agent,team,site,role,tz,shift_start,shift_end,status,days_off\n"
             + "".join("%s,mnl-general-1,manila,%s,Asia/Manila,08:00,16:00,"
                       "active,Sat;Sun\n" % p for p in
                       (("v", "verifier"), ("g", "agent"), ("l", "lead"),
                        ("q", "qa"))))


def export(t, agent, rows, action="export"):
    return ev(t, agent, action, object="report", rows=rows)


write("never_exporter", "Export by a role that never exports",
      views("v", ["C100"]) + [export(300, "v", 40)],
      [export(60, "l", 40), export(120, "q", 12, "download"),
       export(180, "u", 40)] + views("g", ["C100"], t=240) +
      [export(300, "g", 0)],
      "lookups:\n  agents: agents.csv\n", {"agents.csv": directory})
# Agent a is rostered 08:00-16:00 in Lisbon; 2025-03-31 is the Monday
# after the change to summer time (UTC+1).  fire: 16:35-16:55 local
# (15:35Z: inside the shift if the zone were ignored); quiet: 07:30-07:50
# local (06:30Z: off shift if it were ignored).  No history: only the
# roster can decide.
mon = 14 * 86400 - 8 * 3600  # 2025-03-31T00:00:00Z
write("off_shift_roster", "Agent opened customers outside its usual hours",
      views("a", cs[:3], t=mon + 15 * 3600 + 35 * 60, step=600),
      views("a", cs[:3], t=mon + 6 * 3600 + 30 * 60, step=600),
      "lookups:\n  agents: agents.csv\n",
      {"agents.csv": "agent,team,site,role,tz,shift_start,shift_end,status,"
       "days_off\na,mnl-general-1,LIS,agent,Europe/Lisbon,08:00,16:00,"
       "active,Sat;Sun\n"})
