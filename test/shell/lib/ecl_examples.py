#!/usr/bin/env python3
"""Write every ECL example of the given Markdown files into OUTDIR as
NNN.ecl: the fenced blocks (untagged or ```ecl) and the $$ / $ecl$ / $src$
bodies and quoted sources inside ```sql blocks.  Blocks that are not ECL
(or show an error on purpose) are written too; the tests tell them apart
with `ecl check`.  Used by cli_tools.sh (fmt) and cli_run_equivalence.sh
(ecl run = ecl.simulate), so both look at the same examples.

usage: ecl_examples.py OUTDIR FILE.md...
"""
import re
import sys

out, files = sys.argv[1], sys.argv[2:]
n = 0
for path in files:
    text = open(path, encoding="utf-8").read()
    blocks = re.findall(r"^```([a-z]*)\n(.*?)^```", text, re.S | re.M)
    snippets = [b for tag, b in blocks if tag in ("", "ecl")]
    for tag, b in blocks:
        if tag == "sql":
            snippets += [m[1] for m in re.findall(r"\$(ecl|src|)\$(.*?)\$\1\$", b, re.S)]
            # 'quoted' sources: ecl.eval('return 1'), register_policy('p', 'policy p {...}')
            for lit in re.findall(r"'((?:[^']|'')*)'", b):
                lit = lit.replace("''", "'")
                if re.search(r"\b(policy|return|require|let|emit|if)\b", lit):
                    snippets.append(lit)
    for s in snippets:
        n += 1
        with open(f"{out}/{n:03d}.ecl", "w", encoding="utf-8") as f:
            f.write(s)
