#!/usr/bin/env python3
"""Plots of einflow's results (docs/output.md), as PNG or SVG.

    plot.py roofline RUN.json      -o roofline.png   one panel per level (and the
                                                     network): each Einsum a point
    plot.py energy   RESULT.json   -o energy.svg     energy split, one stacked bar per
                                                     dataflow (a compare JSON), per layer
                                                     (a network run) or per Einsum (a run)
    plot.py pareto   POINTS.jsonl  -o pareto.png     a sweep's points, cycles against
                                                     energy, the Pareto front marked

The format follows -o's extension (.png or .svg). --dump-data FILE.json
also writes the numbers plotted, exactly as read from the input, so a
test (tests/plot/check_plot.py) can hold them against the JSON.

Needs only Python 3 and matplotlib (Debian: apt-get install
python3-matplotlib, which /usr/bin/python3 imports).
"""

import argparse
import json
import math
import os
import sys

EXIT_USAGE = 2
EXIT_INPUT = 1


def fail(msg, code=EXIT_INPUT):
    print(f"plot.py: {msg}", file=sys.stderr)
    sys.exit(code)


def load_matplotlib():
    """pyplot on the Agg backend (no display needed), or a clear exit."""
    try:
        import matplotlib
    except ImportError:
        fail(f"needs matplotlib, which {sys.executable} cannot import: install "
             "python3-matplotlib (Debian) and run it with /usr/bin/python3")
    matplotlib.use("Agg")
    # an SVG that does not change between identical runs
    matplotlib.rcParams["svg.hashsalt"] = "einflow"
    import matplotlib.pyplot as plt
    return plt


def load_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        fail(f"cannot read {path}: {e.strerror}")
    except json.JSONDecodeError as e:
        fail(f"{path}:{e.lineno}:{e.colno}: not JSON ({e.msg}); is this einflow's -o output?")


# ---------- what each plot shows: plain data, dumped as is ----------

def einsums_of(result, path):
    """(label, entry) for every Einsum of a run: einsums[] of a workload
    run, layers[].einsums[] of a network run (labelled layer/output)."""
    if "einsums" in result:
        return [(e["output"], e) for e in result["einsums"]]
    if "layers" in result:
        out = []
        for layer in result["layers"]:
            many = len(layer["einsums"]) > 1
            for e in layer["einsums"]:
                out.append((f"{layer['name']}/{e['output']}" if many else layer["name"], e))
        return out
    fail(f"{path}: no einsums[] or layers[]: expected the JSON of `einflow run` "
         "(a compare JSON has no roofline per Einsum; run one dataflow)")


def roofline_data(result, path):
    """Per level (and `noc`): the ceilings and one point per Einsum and
    port. A point is (operational_intensity, achieved_ops_per_cycle) of
    the Einsum's roofline: intensity is the port's, ops/cycle the
    Einsum's. A port without traffic (intensity 0) has no point on a log
    axis and is left out."""
    panels = {}
    order = []

    def panel(name):
        if name not in panels:
            panels[name] = {"name": name, "ceilings": [], "points": []}
            order.append(name)
        return panels[name]

    for label, e in einsums_of(result, path):
        roof = e["roofline"]
        peak = roof["peak_ops_per_cycle"]
        ports = [(lv["name"], p, lv[p]) for lv in roof["levels"] for p in ("read", "write")]
        ports += [("noc", p, roof["noc"][p]) for p in ("in", "out")]
        for level, port, line in ports:
            pn = panel(level)
            ceiling = {"port": port, "peak_ops_per_cycle": peak,
                       "bandwidth_bytes_per_cycle": line["bandwidth_bytes_per_cycle"]}
            if ceiling not in pn["ceilings"]:
                pn["ceilings"].append(ceiling)
            if line["operational_intensity"] > 0:
                pn["points"].append({"einsum": label, "port": port,
                                     "x": line["operational_intensity"],
                                     "y": roof["achieved_ops_per_cycle"],
                                     "attainable": line["attainable_ops_per_cycle"]})
    return {"plot": "roofline", "panels": [panels[n] for n in order]}


def breakdown(eb):
    """The stacked parts of summary.energy_breakdown, in a fixed order."""
    parts = [("mac", eb["mac"]), ("vector", eb["vector"])]
    parts += list(eb["levels"].items())
    parts += [("noc", eb["noc"]), ("leakage", eb["leakage"])]
    return parts


def energy_data(result, path):
    """One bar per dataflow (compare), per layer (network run: one run
    of the layer, as layers[].summary) or per Einsum (a run)."""
    if "dataflows" in result:
        bars = [(d["dataflow"], d["summary"]) for d in result["dataflows"]]
        by = "dataflow"
    elif "layers" in result:
        bars = [(f"{L['name']} (x{L['count']})" if L["count"] != 1 else L["name"], L["summary"])
                for L in result["layers"]]
        by = "layer"
    elif "einsums" in result:
        bars = [(e["output"], e["summary"]) for e in result["einsums"]]
        by = "einsum"
    else:
        fail(f"{path}: expected the JSON of `einflow run` or `einflow compare`")
    parts = [name for name, _ in breakdown(bars[0][1]["energy_breakdown"])]
    return {"plot": "energy", "by": by, "parts": parts,
            "bars": [{"label": label, "energy_pj": s["energy_pj"],
                      "parts": dict(breakdown(s["energy_breakdown"]))} for label, s in bars]}


def load_points(path):
    points = []
    try:
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    points.append(json.loads(line))
                except json.JSONDecodeError as e:
                    fail(f"{path}:{number}:{e.colno}: not a JSON line ({e.msg}); "
                         "expected the -o file of `einflow sweep`")
    except OSError as e:
        fail(f"cannot read {path}: {e.strerror}")
    return points


def objectives(p):
    """What the front weighs: cycles, total energy (dynamic + leakage)
    and area, as `einflow sweep --pareto` does; a file from before area
    and leakage were modelled has cycles and energy_pj only."""
    return (p["cycles"], p.get("energy_total_pj", p["energy_pj"]), p.get("area_mm2", 0))


def front(points):
    """Indices of the points no other beats (no worse on every objective,
    better on one); equal points are on it together — the rule of
    `einflow sweep --pareto` (docs/output.md)."""
    on = []
    for i, p in enumerate(points):
        a = objectives(p)
        beaten = any(all(y <= x for x, y in zip(a, objectives(q))) and objectives(q) != a
                     for q in points)
        if not beaten:
            on.append(i)
    return on


def pareto_data(points, path):
    """x = cycles, y = total energy (energy_total_pj, else energy_pj) of
    every point that ran; the front as
    the file marks it (--pareto), else computed here by the same rule."""
    ok = [p for p in points if "error" not in p]
    if not ok:
        fail(f"{path}: no point with results (is this the -o file of `einflow sweep`?)")
    for p in ok:
        if "cycles" not in p or "energy_pj" not in p:
            fail(f"{path}: point {p.get('index')} has no cycles or energy_pj")
    marked = all("pareto" in p for p in ok)
    on = {i for i, p in enumerate(ok) if p["pareto"]} if marked else set(front(ok))
    return {"plot": "pareto", "front_from": "file" if marked else "computed",
            "failed": len(points) - len(ok),
            "points": [{"index": p["index"], "dataflow": p["dataflow"], "x": p["cycles"],
                        "y": objectives(p)[1], "pareto": i in on} for i, p in enumerate(ok)]}


# ---------- drawing ----------

def draw_roofline(plt, data, title):
    panels = data["panels"]
    cols = min(3, len(panels))
    rows = math.ceil(len(panels) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 4 * rows), squeeze=False,
                             constrained_layout=True)
    for ax, pn in zip(axes.flat, panels):
        xs = [p["x"] for p in pn["points"]] or [1.0]
        lo, hi = min(xs) / 4, max(xs) * 4
        for c in pn["ceilings"]:
            peak, bw = c["peak_ops_per_cycle"], c["bandwidth_bytes_per_cycle"]
            grid = [lo * (hi / lo) ** (k / 64) for k in range(65)]
            ys = [peak if bw is None else min(peak, bw * x) for x in grid]
            unit = "unlimited" if bw is None else f"{bw:g} B/cycle"
            ax.plot(grid, ys, "--" if c["port"] in ("write", "out") else "-", linewidth=1,
                    color="gray", label=f"{c['port']} ({unit}), peak {peak:g}")
        for port, marker in (("read", "o"), ("write", "s"), ("in", "o"), ("out", "s")):
            pts = [p for p in pn["points"] if p["port"] == port]
            if not pts:
                continue
            ax.scatter([p["x"] for p in pts], [p["y"] for p in pts], marker=marker, zorder=3,
                       label=f"Einsums at the {port} port")
            for p in pts:
                ax.annotate(p["einsum"], (p["x"], p["y"]), fontsize=7,
                            textcoords="offset points", xytext=(3, 3))
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(pn["name"])
        ax.set_xlabel("operational intensity (ops/byte)")
        ax.set_ylabel("ops/cycle")
        ax.legend(fontsize=6)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    fig.suptitle(title)
    return fig


def draw_energy(plt, data, title):
    bars = data["bars"]
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(bars) + 3), 4.5))
    x = range(len(bars))
    bottom = [0.0] * len(bars)
    for part in data["parts"]:
        vals = [b["parts"].get(part, 0) for b in bars]
        if not any(vals):
            continue
        ax.bar(x, vals, bottom=bottom, label=part)
        bottom = [b + v for b, v in zip(bottom, vals)]
    ax.set_xticks(list(x))
    ax.set_xticklabels([b["label"] for b in bars], rotation=30 if len(bars) > 4 else 0,
                       ha="right" if len(bars) > 4 else "center")
    ax.set_ylabel("energy (pJ)")
    ax.set_title(f"{title}\nenergy by {data['by']}", fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def draw_pareto(plt, data, title):
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    dataflows = sorted({p["dataflow"] for p in data["points"]})
    for df in dataflows:
        pts = [p for p in data["points"] if p["dataflow"] == df]
        ax.scatter([p["x"] for p in pts], [p["y"] for p in pts], label=df, alpha=0.7)
    on = sorted((p for p in data["points"] if p["pareto"]), key=lambda p: (p["x"], p["y"]))
    ax.scatter([p["x"] for p in on], [p["y"] for p in on], s=120, facecolors="none",
               edgecolors="black", linewidths=1.5, label="Pareto front", zorder=3)
    ax.step([p["x"] for p in on], [p["y"] for p in on], where="post", color="black",
            linewidth=0.8)
    ax.set_xlabel("latency (cycles)")
    ax.set_ylabel("energy, dynamic + leakage (pJ)")
    ax.set_title(title)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def main(argv):
    ap = argparse.ArgumentParser(prog="plot.py", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("plot", choices=["roofline", "energy", "pareto"])
    ap.add_argument("input", help="einflow's JSON (run, compare) or JSON Lines (sweep)")
    ap.add_argument("-o", "--output", required=True, help="the figure: FILE.png or FILE.svg")
    ap.add_argument("--dump-data", metavar="FILE.json",
                    help="also write the plotted numbers as JSON")
    ap.add_argument("--title", help="the figure's title (default: from the input)")
    args = ap.parse_args(argv)
    ext = args.output.rsplit(".", 1)[-1].lower() if "." in args.output else ""
    if ext not in ("png", "svg"):
        fail(f"-o {args.output}: the name must end in .png or .svg", EXIT_USAGE)

    try:
        if args.plot == "pareto":
            data = pareto_data(load_points(args.input), args.input)
            title = args.title or f"{os.path.basename(args.input)}: cycles vs energy"
        else:
            result = load_json(args.input)
            if not isinstance(result, dict):
                fail(f"{args.input}: expected a JSON object from `einflow run` or `compare`")
            data = (roofline_data if args.plot == "roofline" else energy_data)(result, args.input)
            meta = result.get("meta", {})
            title = args.title or (f"{os.path.basename(meta.get('workload', ''))} on "
                                   f"{os.path.basename(meta.get('arch', ''))}")
    except (KeyError, TypeError, IndexError) as e:
        fail(f"{args.input}: not the shape `plot.py {args.plot}` reads (missing {e}); "
             "see docs/output.md")

    plt = load_matplotlib()
    draw = {"roofline": draw_roofline, "energy": draw_energy, "pareto": draw_pareto}
    fig = draw[args.plot](plt, data, title)
    try:
        fig.savefig(args.output, format=ext, dpi=120, metadata={"Date": None} if ext == "svg" else None)
        if args.dump_data:
            with open(args.dump_data, "w", encoding="utf-8") as f:
                json.dump(data, f, indent=1)
                f.write("\n")
    except OSError as e:
        fail(f"cannot write {e.filename}: {e.strerror}", 4)
    plt.close(fig)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
