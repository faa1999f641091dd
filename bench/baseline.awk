# baseline.awk: what an analyst would otherwise run over a JSON-lines access
# log: per-agent view counts and distinct customers viewed, and the number of
# bulk exports (rows > 2000).  Fields are pulled out with match(), as
# one-liners on JSON logs do.  Prints one summary line.
function field(name,    re) {
	re = "\"" name "\":\"[^\"]*\""
	if (match($0, re))
		return substr($0, RSTART + length(name) + 4, RLENGTH - length(name) - 5)
	return ""
}
{
	action = field("action")
	if (action == "view") {
		agent = field("agent")
		views[agent]++
		key = agent SUBSEP field("customer")
		if (!(key in seen)) { seen[key] = 1; distinct[agent]++ }
	} else if (action == "export" && match($0, /"rows":[0-9]+/)) {
		if (substr($0, RSTART + 7, RLENGTH - 7) + 0 > 2000) bulk++
	}
}
END {
	n = 0; top = 0
	for (a in views) { n++; if (distinct[a] > top) top = distinct[a] }
	printf "agents %d, max distinct customers %d, bulk exports %d\n", n, top, bulk
}
