#!/usr/bin/env python3
"""Runs every command of docs/tutorial.md and checks the output it quotes.

A ```console block holds commands ("$ einflow ...") each followed by the
lines it prints; "..." stands for lines left out. Every quoted line must
appear in the command's real output, in the order quoted. Commands run
in a fresh directory holding the source tree's configs/, workloads/,
mappings/ and sweeps/, with `einflow` the binary under test.

usage: check_tutorial.py SOURCE_DIR EINFLOW_BINARY
"""
import os
import shlex
import subprocess
import sys
import tempfile


def blocks(text):
    """(command, [expected lines]) for every command in console blocks."""
    out, inside, cmd, want = [], False, None, []
    for line in text.splitlines():
        if line.startswith("```"):
            if inside and cmd:
                out.append((cmd, want))
            inside = line.strip() == "```console"
            cmd, want = None, []
            continue
        if not inside:
            continue
        if line.startswith("$ "):
            if cmd:
                out.append((cmd, want))
            cmd, want = line[2:], []
        elif cmd is not None:
            want.append(line.rstrip())
    return out


def check(cmd, want, got):
    """The first quoted line not found in order, or None."""
    lines = [l.rstrip() for l in got.splitlines()]
    at = 0
    for w in want:
        if w == "..." or not w:
            continue
        while at < len(lines) and lines[at] != w:
            at += 1
        if at == len(lines):
            return w
        at += 1
    return None


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    src, binary = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    with open(os.path.join(src, "docs", "tutorial.md"), encoding="utf-8") as f:
        steps = blocks(f.read())
    if len(steps) < 7:
        print(f"docs/tutorial.md: only {len(steps)} commands found", file=sys.stderr)
        return 1
    failed = 0
    with tempfile.TemporaryDirectory(prefix="einflow-tutorial-") as work:
        for d in ("configs", "workloads", "mappings", "sweeps", "dataflows"):
            if os.path.isdir(os.path.join(src, d)):
                os.symlink(os.path.join(src, d), os.path.join(work, d))
        for cmd, want in steps:
            argv = shlex.split(cmd)
            if argv[0] != "einflow":
                print(f"not an einflow command: {cmd}", file=sys.stderr)
                failed += 1
                continue
            r = subprocess.run([binary] + argv[1:], cwd=work, capture_output=True, text=True,
                               timeout=600)
            if r.returncode != 0:
                print(f"FAIL (exit {r.returncode}): {cmd}\n{r.stderr}", file=sys.stderr)
                failed += 1
                continue
            missing = check(cmd, want, r.stdout)
            if missing is not None:
                print(f"FAIL: {cmd}\n  quoted line not in the output (in order):\n  {missing}\n"
                      f"--- output ---\n{r.stdout}", file=sys.stderr)
                failed += 1
            else:
                print(f"ok: {cmd}")
    print(f"{len(steps) - failed} of {len(steps)} tutorial commands print what docs/tutorial.md quotes")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
