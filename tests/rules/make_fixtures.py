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

# --- building blocks.  They raise no alerts of their own in the pack (a
# correlation uses them without `generate: true`): run_rule_fixtures.sh
# replays each alone with the rules it uses (rule_pack.py isolate).


def view(t, agent, obj="profile", **kw):
    return ev(t, agent, "view", object=obj, **kw)


# quiet pins the outcome: the same view, allowed
write("access_denied", "Access denied",
      [view(60, "a", "admin_panel", outcome="denied")],
      [view(60, "a", "admin_panel", outcome="allowed")])
# quiet pins the action (a download of the same customer) and the customer
# (a view of no customer)
write("customer_record_view", "Customer record opened",
      views("a", ["C100"]),
      [ev(60, "a", "download", object="profile", customer="C100"),
       view(120, "a", "dashboard")])
# quiet pins the action: a view of the hit instead of a search
write("customer_search", "Customer search",
      [ev(60, "a", "search", query="name:garcia", rows=20)],
      views("a", ["C100"]))
# quiet pins rows|gte 1: the same export, empty
write("data_export", "Export of customer data",
      [export(60, "a", 1)], [export(60, "a", 0)])
# quiet pins the exempt bulk queues: the same view by QA and verification
write("record_view_regular", "Customer record opened outside the bulk queues",
      views("a", ["C100"]),
      views("q", ["C100"], team="mnl-general-qa") +
      views("v", ["C101"], team="mnl-verification"))
# fire: a view under a colleague's ticket id; quiet pins the ticket check
# (the agent's own ticket_assign) and the QA exemption (no ticket)
write("view_unjustified",
      "Customer record opened without a ticket of the agent for that customer",
      views("a", ["C100"], ticket="T900"),
      assigns("a", ["C100"]) + views("a", ["C100"], ticket="TC100") +
      views("q", ["C101"], team="mnl-general-qa"))
# fire: an ID document without a ticket; quiet pins the object list (a
# profile without a ticket), the ticket check and the QA exemption
write("sensitive_unjustified", "Sensitive record opened without a ticket",
      [view(60, "a", "id_document", customer="C100")],
      [view(60, "a", "profile", customer="C101"),
       view(120, "q", "id_document", customer="C102", team="mnl-general-qa")] +
      assigns("b", ["C103"]) +
      [view(180, "b", "bank_account", customer="C103")])
# quiet pins the verification exemption and the object
write("id_document_view", "ID document opened",
      [view(60, "a", "id_document", customer="C100")],
      [view(60, "v", "id_document", customer="C100",
            team="mnl-verification"),
       view(120, "a", "bank_account", customer="C101")])
# three ticketless customers within 10 min (08:01:00..08:10:58); quiet
# pins the 10-minute span (the third exactly 10 min after the first: the
# window is half-open) and the distinct count (two customers, one twice)
write("unjustified_views_10m",
      "Three or more customers opened without a ticket within ten minutes",
      views("a", cs[:3], step=299),
      views("a", cs[:3], step=300) + views("b", ["C010", "C011", "C010"],
                                            step=60))

# --- correlations and extensions

# fire: eleven ID documents in a day (on the agents' tickets: only the
# count matters); quiet pins gt 10 (ten) and the verification exemption
# (fifteen by the verification queue)
idc = cs[100:115]
write("id_document_harvest", "Agent opened more than ten ID documents in a day",
      assigns("a", idc[:11]) +
      [view(60 + i * 600, "a", "id_document", customer=c)
       for i, c in enumerate(idc[:11])],
      assigns("a", idc[:10]) +
      [view(60 + i * 600, "a", "id_document", customer=c)
       for i, c in enumerate(idc[:10])] + assigns("v", idc) +
      [view(60 + i * 300, "v", "id_document", customer=c,
            team="mnl-verification") for i, c in enumerate(idc)])
# three agents, one customer, no tickets, over three days (no day has
# four: many_agents_one_customer stays quiet); quiet pins gte 3: the third
# agent holds a ticket for the customer
D = 86400
write("coordinated_no_ticket",
      "Several agents opened the same customer without a ticket within a week",
      [view(60 + i * D, "a%d" % i, customer="C7") for i in range(3)],
      [view(60 + i * D, "a%d" % i, customer="C7") for i in range(2)] +
      [ev(2 * D, "a2", "ticket_assign", customer="C7", ticket="T7"),
       view(60 + 2 * D, "a2", customer="C7")])


def history(agent, days, first=0, **kw):
    # one search a day at 09:00: activity, no customer, no export
    return [ev(first * D + 3600 + d * D, agent, "search", query="id:1",
               rows=1, **kw) for d in range(days)]


# first_seen (30 d horizon, 10 d of history).  fire: an agent active since
# day 0 exports on day 12.  quiet pins the horizon (the same agent also
# exported on day 2: not a first) and min_history (an agent whose first
# event is on day 3 exports on day 12: 9 days of history)
write("first_export", "First export by an agent",
      history("a", 12) + [export(12 * D + 7200, "a", 10)],
      history("a", 12) + [export(2 * D + 7200, "a", 10),
                          export(12 * D + 7200, "a", 10)] +
      history("b", 9, first=3) + [export(12 * D + 7200, "b", 10)])
# an uncommon action (a merge of two customer records) first seen on day
# 12 of an agent's history.  quiet pins the horizon (the agent merged on
# day 2 too), min_history (b: 9 days) and the everyday exclusion (a's
# first `update`, on day 12, is ordinary work)
write("first_new_action", "First use of an uncommon action by an agent",
      history("a", 12) + [ev(12 * D + 7200, "a", "merge", customer="C100")],
      history("a", 12) + [ev(2 * D + 7200, "a", "merge", customer="C101"),
                          ev(12 * D + 7200, "a", "merge", customer="C100"),
                          ev(12 * D + 7300, "a", "update", customer="C100",
                             object="profile")] +
      history("b", 9, first=3) + [ev(12 * D + 7200, "b", "merge",
                                     customer="C102")])
# the same for ID documents (on the agents' tickets); quiet also pins the
# verification exemption
write("first_id_document", "First ID document opened by an agent",
      history("a", 12) + assigns("a", ["C100"], t=12 * D) +
      [view(12 * D + 7200, "a", "id_document", customer="C100")],
      history("a", 12) + assigns("a", ["C100", "C101"], t=2 * D) +
      [view(2 * D + 7200, "a", "id_document", customer="C101")] +
      assigns("a", ["C100"], t=12 * D) +
      [view(12 * D + 7200, "a", "id_document", customer="C100")] +
      history("b", 9, first=3) + assigns("b", ["C102"], t=12 * D) +
      [view(12 * D + 7200, "b", "id_document", customer="C102")] +
      history("v", 12, team="mnl-verification") +
      assigns("v", ["C103"], t=12 * D) +
      [view(12 * D + 7200, "v", "id_document", customer="C103",
            team="mnl-verification")])


def daily(agent, day, n, base, team="mnl-general-1", t=60):
    # n distinct customers on day `day`, one a minute from 08:01
    return [view(day * D + t + i * 60, agent, customer="C%d" % (base + i),
                 team=team) for i in range(n)]


# Own baseline: ten days of 4 customers (median 4, MAD 0: the threshold is
# 2 x median = 8).  fire: 9 on day 10.  self_baseline quiet pins the ratio
# (8); above_self_baseline quiet pins min_days (9 on day 9, after nine days)
self_hist = [e for d in range(10) for e in daily("a", d, 4, 1000 + 10 * d)]
write("self_baseline", "Agent far above its own daily baseline of customers",
      self_hist + daily("a", 10, 9, 5000),
      self_hist + daily("a", 10, 8, 5000))
write("above_self_baseline", "Agent opened more customers than its own history",
      self_hist + daily("a", 10, 9, 5000),
      self_hist[:-4] + daily("a", 9, 9, 5000))
# Peer baseline: agent a and eight team-mates, 4 customers a day for
# twelve days (> 100 agent-days: the p99 is the nearest rank, so with
# 100 or fewer it is the team's maximum, which is the agent's own first
# day above it; see above_peer_baseline in rules/README.md), team-mates
# also on the surge days, after a (team not busy so far that day).  p99 and median 4:
# above p99 is > 4, 1.5 x median is 6.  fire: 8 on days 12 and 13.
# above_peer_baseline quiet pins `consecutive` (4, then 8); peer_outlier
# quiet pins the ratio (8, then 5: above p99, under 6).
peers = [e for a in range(9) for d in range(14)
         for e in daily("p%d" % a, d, 4, 100000 * a + 100 * d, t=7200)
         if a > 0 or d < 12]
peers = [dict(e, agent="a") if e["agent"] == "p0" else e for e in peers]
write("above_peer_baseline",
      "Agent opened more customers than its team's agents do",
      peers + daily("a", 12, 8, 9000) + daily("a", 13, 8, 9100),
      peers + daily("a", 12, 4, 9000) + daily("a", 13, 8, 9100))
write("peer_outlier", "Agent above its peers' daily customers",
      peers + daily("a", 12, 8, 9000) + daily("a", 13, 8, 9100),
      peers + daily("a", 12, 8, 9000) + daily("a", 13, 5, 9100))

# Learned hours (no roster): agent a works 09:00-09:50 UTC for five days
# (slots 09:00 and 09:30, +- 60 min: 08:00-11:00 are its hours).
learned = [view(d * D + 3600 + i * 600, "a", customer="C%d" % (100 * d + i))
           for d in range(5) for i in range(6)]
# view_off_shift fire: one view at 20:00 on day 5; quiet pins min_days:
# the same view on day 4, after four known days (and the views of day 5
# inside the margin, 10:40-10:50)
write("view_off_shift",
      "Customer record opened outside the agent's usual hours",
      learned + [view(5 * D + 12 * 3600, "a", customer="C900")],
      [e for e in learned if e["ts"] < ev(4 * D, "a", "x")["ts"]] +
      [view(4 * D + 12 * 3600, "a", customer="C900")] +
      [view(5 * D + 2 * 3600 + 40 * 60 + i * 300, "a", customer="C95%d" % i)
       for i in range(3)])
# off_shift from learned hours: fire: three views 20:00-20:20 on day 5;
# quiet pins the 60-minute margin: three views 10:40-10:50 (20 to 50 min
# past the last worked slot) and gte 3: two views at 20:00
write("off_shift_learned", "Agent opened customers outside its usual hours",
      learned + [view(5 * D + 12 * 3600 + i * 600, "a", customer="C90%d" % i)
                 for i in range(3)],
      learned + [view(5 * D + 2 * 3600 + 40 * 60 + i * 300, "a",
                      customer="C95%d" % i) for i in range(3)] +
      [view(5 * D + 12 * 3600 + i * 600, "a", customer="C90%d" % i)
       for i in range(2)])

# risk_accumulation (gte 100 in 24 h).  fire: one 2,001-row export by an
# agent with twelve days of history that never exported: bulk_export (60)
# + first_export (40) = 100.  quiet pins gte 100 at 90: the same export
# after an export on day 2 (no first_export) and five denied accesses
# without a customer (denied_burst, 30): 60 + 30
write("risk_accumulation", "Agent's accumulated risk crossed the threshold",
      history("a", 12) + [export(12 * D + 7200, "a", 2001)],
      history("a", 12) + [export(2 * D + 7200, "a", 10),
                          export(12 * D + 7200, "a", 2001)] +
      [view(12 * D + 7300 + i * 60, "a", "admin_panel", outcome="denied")
       for i in range(5)])
