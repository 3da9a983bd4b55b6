#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Extracts the examples of echoeld's README and man pages, for test-doc-examples.sh.

usage: doc-examples.py OUTDIR FILE...

Writes one file per example into OUTDIR, numbered in document order, named
NNN-KIND-SOURCE where KIND is:
  ctl   an echoelctl command line (with the lines of a here-document that follows it),
        written as the reader types it: `echoelctl ...` (the README's ./build/ipc/echoelctl
        is shortened to echoelctl; the test puts the built one first on the PATH);
  conf  a configuration (a man page example block holding a [section] line);
  skip  a command that is not echoelctl (echoeld itself, systemctl): listed, not run.
What is found: in README.md, indented code lines starting with ./build/ipc/echoelctl or
./build/daemon/echoeld, with the lines of a here-document that follows (synopsis lines with
[OPTION] brackets are usage, not examples); in
a man page, the lines of .EX/.EE blocks that start with a prompt ("$ " or "# "), roff
escapes undone. Lines of program output in those blocks are ignored.
"""
import os
import re
import sys

ROFF = [(r"\-", "-"), (r"\(aq", "'"), (r"\(dq", '"'), (r"\&", ""), (r"\e", "\\")]
SECTION = re.compile(r"^\[[A-Za-z0-9._-]+\]$")


def unroff(line):
    for a, b in ROFF:
        line = line.replace(a, b)
    return line


def heredoc_end(cmd):
    m = re.search(r"<<\s*'?([A-Za-z_]+)'?", cmd)
    return m.group(1) if m else None


def commands(lines):
    """(kind, text) for each prompt line of lines, with its here-document."""
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        i += 1
        m = re.match(r"^\s*(?:\$|#) (.*)$", line)
        if not m:
            continue
        cmd = m.group(1)
        end = heredoc_end(cmd)
        if end:
            while i < len(lines) and lines[i].strip() != end:
                cmd += "\n" + lines[i]
                i += 1
            cmd += "\n" + end
            i += 1
        kind = "ctl" if re.match(r"^(\w+=\S+ )*echoelctl\b", cmd) else "skip"
        out.append((kind, cmd))
    return out


def man_examples(text):
    out, block, inside = [], [], False
    for raw in text.splitlines():
        if raw.startswith(".EX"):
            inside, block = True, []
        elif raw.startswith(".EE"):
            inside = False
            if any(SECTION.match(b) for b in block):
                out.append(("conf", "\n".join(block) + "\n"))
            else:
                out.extend(commands(block))
        elif inside:
            block.append(unroff(raw))
    return out


def readme_examples(text):
    out, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        m = re.match(r"^ {4,}(\./build/(ipc/echoelctl|daemon/echoeld)\b.*)$", lines[i])
        i += 1
        if not m or "[" in m.group(1):
            continue
        cmd = m.group(1).replace("./build/ipc/echoelctl", "echoelctl", 1)
        end = heredoc_end(cmd)
        while end and i < len(lines):
            cmd += "\n" + lines[i].strip()
            i += 1
            if lines[i - 1].strip() == end:
                break
        out.append(("ctl" if m.group(2) == "ipc/echoelctl" else "skip", cmd))
    return out


def main():
    outdir, files = sys.argv[1], sys.argv[2:]
    n = 0
    for path in files:
        text = open(path, encoding="utf-8").read()
        name = os.path.basename(path)
        found = readme_examples(text) if name.endswith(".md") else man_examples(text)
        for kind, body in found:
            n += 1
            with open(os.path.join(outdir, "%03d-%s-%s" % (n, kind, name)), "w") as f:
                f.write(body if body.endswith("\n") else body + "\n")
    print(n)


main()
