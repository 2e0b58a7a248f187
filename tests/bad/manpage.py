#!/usr/bin/env python3
"""manpage.py DUMPFS MANPAGE SAMPLE - docs/dumpfs.1 documents what the
command does: every option `dumpfs --help` prints has an entry in the page
and every option entry of the page is in --help; every key of
/header.json (nested ones too) is described under JSON KEYS; and groff
renders the page without a warning."""
import json
import re
import subprocess
import sys

dumpfs, page, sample = sys.argv[1:4]
OPTION = re.compile(r"(?<![\w-])(-o [A-Za-z_]+|--[a-z][a-z-]*|-[a-zA-Z])(?![\w-])")
failures, passed = [], 0


def check(cond, what):
    global passed
    if cond:
        passed += 1
        print("ok:", what)
    else:
        failures.append(what)
        print("FAIL:", what)


def unroff(line):
    line = re.sub(r"\\f[BIRP]|\\&", "", line).replace("\\-", "-").replace('"', "")
    return re.sub(r"\s+", " ", line)


help_text = subprocess.run([dumpfs, "--help"], capture_output=True, text=True, check=True).stdout
help_opts = set()
for line in help_text.splitlines():
    if re.match(r"^  -", line):          # an option's own line, not its description
        help_opts.update(OPTION.findall(line.split("  ", 2)[1]))

roff = open(page).read().splitlines()
sections, current = {}, None
for line in roff:
    if line.startswith(".SH "):
        current = line[4:].strip().strip('"')
    elif current:
        sections.setdefault(current, []).append(line)

# an entry of OPTIONS: the line after .TP
page_opts = set()
opts = sections.get("OPTIONS", [])
for i, line in enumerate(opts[:-1]):
    if line == ".TP":
        tag = unroff(re.sub(r"^\.(B|BI|BR|I|IR|RB)\s+", "", opts[i + 1]))
        page_opts.update(OPTION.findall(tag))
check(len(help_opts) >= 15, "--help lists %d options" % len(help_opts))
check(help_opts - page_opts == set(), "every --help option is in the page (missing: %s)"
      % sorted(help_opts - page_opts))
check(page_opts - help_opts == set(), "every option of the page is in --help (extra: %s)"
      % sorted(page_opts - help_opts))

# JSON KEYS: the bold words of the section
keys_text = "\n".join(unroff(l) for l in sections.get("JSON KEYS", []))
documented = set(re.findall(r"[a-z_]+", keys_text))
facts = json.loads(subprocess.run([dumpfs, "info", "--json", sample], capture_output=True,
                                  text=True, check=True).stdout)
needed = set()
for k, v in facts.items():
    if k == "format_details":
        needed.add(k)   # its keys are the format's own /header fields
        continue
    needed.add(k)
    for item in v if isinstance(v, list) else [v]:
        if isinstance(item, dict):
            needed.update(item)
check(needed - documented == set(), "every /header.json key is documented (missing: %s)"
      % sorted(needed - documented))

r = subprocess.run(["groff", "-man", "-ww", "-z", page], capture_output=True, text=True)
check(r.returncode == 0 and not r.stderr.strip(), "groff renders it without warnings: %r"
      % r.stderr.strip()[:300])
print("%d passed, %d failed" % (passed, len(failures)))
sys.exit(1 if failures else 0)
