#!/usr/bin/env python3
"""The rule pack as run_rule_fixtures.sh needs it, read from the YAML text
(no YAML library: the pack's documents are `---`-separated, with top-level
`title:`, `name:`, `generate:` and a correlation's `rules:` list indented
under `correlation:`; `custos lint` checks the real structure).

usage: rule_pack.py RULES_DIR names
         every rule name, one a line
       rule_pack.py RULES_DIR name-of TITLE
         the name of the rule titled TITLE (exit 1 if none)
       rule_pack.py RULES_DIR isolate NAME OUT_FILE
         if the rule NAME raises no alerts of its own in the whole pack (a
         building block used by a correlation without `generate: true`),
         write it and the rules it uses (transitively) to OUT_FILE, where
         it is the top rule and so raises its alerts, and print OUT_FILE;
         else print nothing
"""
import glob, os, re, sys


def documents(rules_dir):
    docs = []
    for path in sorted(glob.glob(os.path.join(rules_dir, "*.yml"))):
        with open(path) as f:
            text = f.read()
        for doc in re.split(r"(?m)^---\s*$", text):
            m = re.search(r"(?m)^name:\s*(\S+)\s*$", doc)
            if not m:
                continue
            t = re.search(r"(?m)^title:\s*(.+?)\s*$", doc)
            used = []
            c = re.search(r"(?ms)^correlation:\n((?:[ \t]+.*\n?)*)", doc)
            if c:
                r = re.search(r"(?m)^  rules:\n((?:    - .*\n?)*)", c.group(1))
                if r:
                    used = re.findall(r"(?m)^    - (\S+)", r.group(1))
            gen = re.search(r"(?m)^generate:\s*true\s*$", doc) is not None
            docs.append({"name": m.group(1), "title": t.group(1) if t else "",
                         "uses": used, "generate": gen, "text": doc.strip()})
    return docs


def hidden(docs, name):
    users = [d for d in docs if name in d["uses"]]
    return bool(users) and not any(d["generate"] for d in users)


def closure(docs, name):
    by = {d["name"]: d for d in docs}
    seen, worklist = [], [name]
    while worklist:
        n = worklist.pop()
        if n in seen or n not in by:
            continue
        seen.append(n)
        worklist.extend(by[n]["uses"])
    return [d for d in docs if d["name"] in seen]  # pack order


def main(argv):
    docs = documents(argv[1])
    cmd = argv[2]
    if cmd == "names":
        for d in docs:
            print(d["name"])
    elif cmd == "name-of":
        hits = [d["name"] for d in docs if d["title"] == argv[3]]
        if len(hits) != 1:
            return 1
        print(hits[0])
    elif cmd == "isolate":
        if hidden(docs, argv[3]):
            with open(argv[4], "w") as f:
                f.write("\n---\n".join(d["text"] for d in
                                       closure(docs, argv[3])) + "\n")
            print(argv[4])
    else:
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
