#!/usr/bin/env python3
"""End to end: scripts/plot.py on results the einflow binary writes now.

    check_plot.py EINFLOW SOURCE_DIR

Runs einflow (a cascade run, a network run, a compare and a small
sweep), plots each with plot.py into PNG and SVG, and checks that

* the numbers plot.py says it plotted (--dump-data) are the JSON's,
  read here by their paths in docs/output.md, not through plot.py's
  code: every roofline point is an Einsum's operational intensity at a
  port and its achieved ops/cycle, every bar an energy_breakdown whose
  parts add up to its energy_pj, every sweep point its cycles and
  energy, the Pareto front the one `einflow sweep --pareto` marked
  (and plot.py's own, for a file without marks);
* the figures are real: a PNG with its signature and an SVG that
  parses as XML with drawn paths, both of a size a blank figure does
  not reach;
* bad calls fail clearly (an -o that is neither .png nor .svg, a file
  that is no einflow output).

Exits 77 (CTest's SKIP_RETURN_CODE) when matplotlib is not importable.
"""

import json
import math
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

SKIP = 77
failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print(f"FAIL: {msg}", file=sys.stderr)


def run(args, expect=0):
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode != expect:
        print(f"{' '.join(args)}: exit {p.returncode}, expected {expect}\n{p.stderr}",
              file=sys.stderr)
        sys.exit(1)
    return p


def plot(kind, src, out, dump=None, expect=0):
    args = [sys.executable, PLOT, kind, src, "-o", out]
    if dump:
        args += ["--dump-data", dump]
    return run(args, expect)


def check_figures(stem, kind, src, tmp):
    """Plots src as PNG (with the data dumped) and as SVG; returns the dump."""
    png, svg, dump = (os.path.join(tmp, f"{stem}.{e}") for e in ("png", "svg", "json"))
    plot(kind, src, png, dump)
    plot(kind, src, svg)
    with open(png, "rb") as f:
        head = f.read(8)
    check(head == b"\x89PNG\r\n\x1a\n", f"{png}: not a PNG")
    check(os.path.getsize(png) > 10000, f"{png}: {os.path.getsize(png)} bytes, a blank figure?")
    root = ET.parse(svg).getroot()
    check(root.tag.endswith("svg"), f"{svg}: root is {root.tag}")
    paths = sum(1 for el in root.iter() if el.tag.endswith("path"))
    check(paths > 20, f"{svg}: only {paths} paths drawn")
    check(os.path.getsize(svg) > 10000, f"{svg}: {os.path.getsize(svg)} bytes")
    with open(dump) as f:
        return json.load(f)


# ---------- roofline ----------

def expected_roofline(result):
    """(panel, label, port, x, y) of every Einsum and port with traffic:
    the port's operational_intensity, the Einsum's achieved ops/cycle."""
    entries = []
    if "einsums" in result:
        entries = [(e["output"], e) for e in result["einsums"]]
    else:
        for L in result["layers"]:
            for e in L["einsums"]:
                label = L["name"] if len(L["einsums"]) == 1 else f"{L['name']}/{e['output']}"
                entries.append((label, e))
    out = []
    for label, e in entries:
        r = e["roofline"]
        lines = [(lv["name"], p, lv[p]) for lv in r["levels"] for p in ("read", "write")]
        lines += [("noc", p, r["noc"][p]) for p in ("in", "out")]
        for panel, port, line in lines:
            if line["operational_intensity"] > 0:
                out.append((panel, label, port, line["operational_intensity"],
                            r["achieved_ops_per_cycle"]))
    return entries, out


def check_roofline(name, result, dump):
    entries, want = expected_roofline(result)
    got = [(pn["name"], p["einsum"], p["port"], p["x"], p["y"])
           for pn in dump["panels"] for p in pn["points"]]
    check(sorted(got) == sorted(want), f"{name}: roofline points differ from the JSON:\n"
          f"  plotted {sorted(got)[:4]}...\n  JSON    {sorted(want)[:4]}...")
    levels = [lv["name"] for lv in entries[0][1]["roofline"]["levels"]]
    check([pn["name"] for pn in dump["panels"]][:len(levels)] == levels,
          f"{name}: panels {[pn['name'] for pn in dump['panels']]}, levels {levels}")
    # every Einsum moves bytes somewhere: each is a point
    check({g[1] for g in got} == {label for label, _ in entries},
          f"{name}: Einsums without a point")
    check(len(got) <= len(entries) * (2 * len(levels) + 2), f"{name}: too many points")
    # a ceiling per port: the peak, and bandwidth x intensity below it
    for pn in dump["panels"]:
        for p in pn["points"]:
            check(p["y"] <= p["attainable"] * (1 + 1e-12),
                  f"{name}: {pn['name']} {p['einsum']} above its roof")


# ---------- energy ----------

def check_energy(name, bars_json, dump):
    check(len(dump["bars"]) == len(bars_json), f"{name}: {len(dump['bars'])} bars, "
          f"{len(bars_json)} in the JSON")
    for bar, (label, summary) in zip(dump["bars"], bars_json):
        check(bar["label"] == label, f"{name}: bar {bar['label']!r}, expected {label!r}")
        eb = summary["energy_breakdown"]
        want = {"mac": eb["mac"], "vector": eb["vector"], "noc": eb["noc"],
                "leakage": eb["leakage"], **eb["levels"]}
        check(bar["parts"] == want, f"{name}: {label}: parts {bar['parts']} != {want}")
        check(bar["energy_pj"] == summary["energy_pj"], f"{name}: {label}: energy_pj")
        # the parts include leakage: they add up to dynamic + leakage
        total = math.fsum(bar["parts"].values())
        whole = summary.get("energy_total_pj", summary["energy_pj"])
        check(abs(total - whole) <= 1e-9 * whole,
              f"{name}: {label}: parts add to {total}, energy_total_pj {whole}")


# ---------- pareto ----------

def check_pareto(name, lines, dump, front_from):
    ok = [p for p in lines if "error" not in p]
    want = [(p["index"], p["dataflow"], p["cycles"], p.get("energy_total_pj", p["energy_pj"]),
             p.get("pareto")) for p in ok]
    got = [(p["index"], p["dataflow"], p["x"], p["y"], p["pareto"]) for p in dump["points"]]
    if front_from == "file":
        check(got == want, f"{name}: points {got} != {want}")
    else:
        check([g[:4] for g in got] == [w[:4] for w in want], f"{name}: points differ")
    check(dump["front_from"] == front_from, f"{name}: front from {dump['front_from']}")
    check(any(g[4] for g in got), f"{name}: no point on the front")


def main():
    global PLOT
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print(f"SKIP: {sys.executable} cannot import matplotlib (apt-get install "
              "python3-matplotlib, or configure with -DEF_PYTHON3=/usr/bin/python3)")
        return SKIP
    einflow, src = sys.argv[1], sys.argv[2]
    os.chdir(src)
    PLOT = os.path.join(src, "scripts", "plot.py")
    with tempfile.TemporaryDirectory(prefix="einflow-plot-") as tmp:
        t = lambda n: os.path.join(tmp, n)  # noqa: E731
        q = ["-q", "--threads", "2"]
        run([einflow, "run", "configs/edge_8x8.yaml", "workloads/attention.yaml",
             "mappings/edge_8x8__attention_fused.yaml", "-o", t("run.json")] + q)
        run([einflow, "run", "configs/edge_8x8.yaml", "tests/data/tiny_net.yaml", "ws",
             "--evaluations", "300", "-o", t("net.json")] + q)
        run([einflow, "compare", "configs/edge_8x8.yaml", "tests/data/tiny_net.yaml",
             "--dataflows", "ws,os,rs", "--evaluations", "300", "-o", t("cmp.json"),
             "--threads", "2"])
        run([einflow, "sweep", "tests/data/sweep_tiny.yaml", "-o", t("pts.jsonl"), "--pareto",
             "--evaluations", "200"] + q)
        load = lambda n: json.load(open(t(n)))  # noqa: E731
        res, net, cmp = load("run.json"), load("net.json"), load("cmp.json")
        lines = [json.loads(x) for x in open(t("pts.jsonl")) if x.strip()]

        check_roofline("run", res, check_figures("roof_run", "roofline", t("run.json"), tmp))
        check_roofline("network", net, check_figures("roof_net", "roofline", t("net.json"), tmp))

        check_energy("compare", [(d["dataflow"], d["summary"]) for d in cmp["dataflows"]],
                     check_figures("energy_cmp", "energy", t("cmp.json"), tmp))
        check(len(cmp["dataflows"]) == 3, "compare: 3 dataflows asked")
        check_energy("network", [(L["name"] if L["count"] == 1 else f"{L['name']} (x{L['count']})",
                                  L["summary"]) for L in net["layers"]],
                     check_figures("energy_net", "energy", t("net.json"), tmp))
        check_energy("run", [(e["output"], e["summary"]) for e in res["einsums"]],
                     check_figures("energy_run", "energy", t("run.json"), tmp))

        check(len(lines) == 8, f"sweep_tiny has 2 x 2 x 2 = 8 points, the file {len(lines)}")
        check_pareto("sweep", lines, check_figures("pareto", "pareto", t("pts.jsonl"), tmp),
                     "file")
        # without the marks plot.py finds the same front itself
        with open(t("bare.jsonl"), "w") as f:
            for p in lines:
                f.write(json.dumps({k: v for k, v in p.items() if k != "pareto"}) + "\n")
        bare = check_figures("pareto_bare", "pareto", t("bare.jsonl"), tmp)
        check_pareto("sweep (unmarked)", lines, bare, "computed")
        check([p["pareto"] for p in bare["points"]] == [p["pareto"] for p in lines],
              "plot.py's own front differs from einflow's")

        p = plot("energy", t("cmp.json"), t("x.jpg"), expect=2)
        check(".png or .svg" in p.stderr, f"bad -o: {p.stderr}")
        p = plot("roofline", t("pts.jsonl"), t("x.png"), expect=1)
        check("not JSON" in p.stderr, f"a JSON Lines file to roofline: {p.stderr}")
        p = plot("roofline", t("cmp.json"), t("x.png"), expect=1)
        check("compare JSON" in p.stderr, f"a compare JSON to roofline: {p.stderr}")
    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        return 1
    print("plot.py: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
