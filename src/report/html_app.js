/* einflow's HTML report renderer (embedded by src/report/html.c).
 *
 * Reads the run's JSON from the script element #ef-data (exactly what -o
 * writes: a run, a network run or a comparison, docs/output.md) and the
 * PE array's activity frames from #ef-activity (html.c
 * writes them: derived from the nest, or a cycle trace), then builds
 * the page with DOM and SVG elements. Plain ES5-style code with no
 * library, so the page works offline in any browser. Any error is
 * written into the page (#ef-error), which is how the tests see it. */
(function () {
  'use strict';
  var SVGNS = 'http://www.w3.org/2000/svg';
  var PALETTE = ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#b279a2',
                 '#eeca3b', '#ff9da6', '#9d755d', '#bab0ac'];

  function fail(msg) {
    var box = document.getElementById('ef-error');
    if (!box) {
      box = document.createElement('div');
      box.id = 'ef-error';
      box.className = 'error';
      document.body.insertBefore(box, document.body.firstChild);
    }
    box.textContent += 'Report error: ' + msg + '\n';
  }
  window.addEventListener('error', function (ev) {
    fail((ev.message || 'error') + (ev.lineno ? ' (line ' + ev.lineno + ')' : ''));
  });

  /* ---------- DOM helpers ---------- */
  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    setAll(e, attrs);
    add(e, kids);
    return e;
  }
  function sv(tag, attrs, kids) {
    var e = document.createElementNS(SVGNS, tag);
    setAll(e, attrs);
    add(e, kids);
    return e;
  }
  function setAll(e, attrs) {
    for (var k in attrs || {}) if (attrs[k] !== undefined && attrs[k] !== null) {
      if (k === 'text') e.textContent = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
  }
  function add(e, kids) {
    if (kids === undefined || kids === null) return;
    if (!Array.isArray(kids)) kids = [kids];
    kids.forEach(function (k) {
      if (k === null || k === undefined) return;
      e.appendChild(typeof k === 'object' ? k : document.createTextNode(String(k)));
    });
  }
  /* one colour per name (component, level) across all the charts */
  var named = {};
  function colorOf(name) {
    if (!(name in named)) named[name] = PALETTE[Object.keys(named).length % PALETTE.length];
    return named[name];
  }
  function tip(node, text) { node.appendChild(sv('title', {text: text})); return node; }

  /* ---------- number formats (the tests read them back: keep in step
   * with tests/html/check_html.py) ---------- */
  function isNum(x) { return typeof x === 'number' && isFinite(x); }
  /* integers with thousands separators */
  function fInt(x) {
    if (!isNum(x)) return '\u2014';
    return String(Math.round(x)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  }
  /* four significant digits, trailing zeros dropped */
  function fSig(x) {
    if (!isNum(x)) return '\u2014';
    if (x === 0) return '0';
    return String(Number(x.toPrecision(4)));
  }
  function fPct(x) { return isNum(x) ? (x * 100).toFixed(2) + '%' : '\u2014'; }
  function fScaled(x, units, base) {
    if (!isNum(x)) return '\u2014';
    var u = 0;
    while (u + 1 < units.length && Math.abs(x) >= Math.pow(base, u + 1)) u++;
    return fSig(x / Math.pow(base, u)) + ' ' + units[u];
  }
  /* energy from pJ: pJ, nJ, µJ, mJ, J */
  function fEnergy(pj) { return fScaled(pj, ['pJ', 'nJ', '\u00b5J', 'mJ', 'J'], 1000); }
  function fBytes(b) { return fScaled(b, ['B', 'KiB', 'MiB', 'GiB', 'TiB'], 1024); }
  function fTime(s) { return fScaled(s * 1e9, ['ns', '\u00b5s', 'ms', 's'], 1000); }

  /* ---------- the run, whatever kind ---------- */
  var doc = JSON.parse(document.getElementById('ef-data').textContent);
  var acts = JSON.parse(document.getElementById('ef-activity').textContent);
  var app = document.getElementById('ef-app');

  var kind = doc.dataflows ? 'compare' : (doc.layers ? 'network' : 'run');
  /* a comparison's charts show its best dataflow */
  var best = null;
  if (kind === 'compare')
    doc.dataflows.forEach(function (d) { if (d.dataflow === doc.best) best = d; });
  if (kind === 'compare' && !best) best = doc.dataflows[0];
  var summary = kind === 'compare' ? best.summary : doc.summary;
  var layers = kind === 'compare' ? best.layers : (doc.layers || null);
  /* every Einsum with how many times it runs (a layer's count) */
  var einsums = [];
  if (layers) {
    layers.forEach(function (L) {
      (L.einsums || []).forEach(function (e) {
        einsums.push({label: (layers.length > 1 || kind !== 'compare' ? L.name + ' / ' : '') +
                             e.output, e: e, count: L.count || 1});
      });
    });
  } else {
    (doc.einsums || []).forEach(function (e) { einsums.push({label: e.output, e: e, count: 1}); });
  }
  var arch = doc.architecture || {};

  function section(id, title, kids) {
    var s = el('section', {id: id}, [el('h2', {text: title})]);
    add(s, kids);
    app.appendChild(s);
    return s;
  }
  function legend(items) {
    return el('div', {'class': 'legend'}, items.map(function (it) {
      return el('span', null, [el('span', {'class': 'sw', style: 'background:' + it[1]}), it[0]]);
    }));
  }

  /* ---------- header and summary ---------- */
  function header() {
    var m = doc.meta || {};
    var name = doc.network ? doc.network.name : (doc.workload ? doc.workload.name : '');
    app.appendChild(el('h1', {text: 'einflow report \u2014 ' + name}));
    var what = {run: 'run', network: 'network run', compare: 'comparison of dataflows'}[kind];
    app.appendChild(el('div', {'class': 'meta', text:
      what + ' \u00b7 architecture ' + (arch.name || m.arch) + ' (' + m.arch + ') \u00b7 workload ' +
      m.workload + ' \u00b7 mapping ' + m.mapping + ' \u00b7 engine ' + m.engine +
      ' \u00b7 einflow ' + m.einflow_version}));
    if (kind === 'compare')
      app.appendChild(el('div', {'class': 'note', text: 'Summary, roofline, energy and ' +
        'utilization below are the best dataflow\'s: ' + best.dataflow + '.'}));
  }

  function card(key, label, value, sub) {
    return el('div', {'class': 'card', 'data-key': key},
              [el('div', {'class': 'k', text: label}), el('div', {'class': 'v', text: value}),
               sub ? el('div', {'class': 's', text: sub}) : null]);
  }

  function summaryCards() {
    var s = summary, cards = [];
    cards.push(card('cycles', 'cycles', fInt(s.cycles), isNum(s.seconds) ? fTime(s.seconds) : null));
    cards.push(card('utilization', 'PE utilization', fPct(s.utilization),
                    isNum(s.active_pes) ? fInt(s.active_pes) + ' of ' + fInt(arch.pes) +
                    ' PEs active' : null));
    if (isNum(s.vector_utilization))
      cards.push(card('vector_utilization', 'vector utilization', fPct(s.vector_utilization)));
    cards.push(card('energy_pj', 'dynamic energy', fEnergy(s.energy_pj),
                    isNum(s.pj_per_mac) ? fSig(s.pj_per_mac) + ' pJ/MAC' : null));
    if (isNum(s.energy_total_pj))
      cards.push(card('energy_total_pj', 'energy with leakage', fEnergy(s.energy_total_pj),
                      'leakage ' + fEnergy(s.leakage_pj)));
    cards.push(card('macs', 'MACs', fInt(s.macs), isNum(s.ops) && s.ops !== s.macs ?
                    fInt(s.ops) + ' ops' : null));
    if (s.outer_traffic)
      cards.push(card('outer_traffic', (s.outer_traffic.level || 'outer') + ' traffic',
                      fBytes(s.outer_traffic.bytes), 'compulsory ' +
                      fBytes(s.outer_traffic.compulsory_bytes) + ', extra ' +
                      fBytes(s.outer_traffic.extra_bytes)));
    if (isNum(s.tops_per_watt)) cards.push(card('tops_per_watt', 'TOPS/W', fSig(s.tops_per_watt)));
    if (isNum(s.power_w)) cards.push(card('power_w', 'dynamic power', fSig(s.power_w) + ' W',
                                          isNum(s.power_total_mw) ? 'with leakage ' +
                                          fSig(s.power_total_mw) + ' mW' : null));
    if (isNum(s.area_mm2)) cards.push(card('area_mm2', 'area', fSig(s.area_mm2) + ' mm\u00b2'));
    section('summary', 'Summary', el('div', {'class': 'cards'}, cards));
  }

  /* ---------- log-log axes ---------- */
  function logAxes(g, x0, x1, y0, y1, box, xl, yl) {
    var lx0 = Math.log10(x0), lx1 = Math.log10(x1), ly0 = Math.log10(y0), ly1 = Math.log10(y1);
    function X(v) { return box.l + (Math.log10(v) - lx0) / (lx1 - lx0) * box.w; }
    function Y(v) { return box.t + box.h - (Math.log10(v) - ly0) / (ly1 - ly0) * box.h; }
    for (var e = Math.ceil(lx0); e <= Math.floor(lx1); e++) {
      var x = X(Math.pow(10, e));
      g.appendChild(sv('line', {'class': 'grid', x1: x, x2: x, y1: box.t, y2: box.t + box.h}));
      g.appendChild(sv('text', {x: x, y: box.t + box.h + 13, 'text-anchor': 'middle',
                                text: fSig(Math.pow(10, e))}));
    }
    for (e = Math.ceil(ly0); e <= Math.floor(ly1); e++) {
      var y = Y(Math.pow(10, e));
      g.appendChild(sv('line', {'class': 'grid', x1: box.l, x2: box.l + box.w, y1: y, y2: y}));
      g.appendChild(sv('text', {x: box.l - 4, y: y + 4, 'text-anchor': 'end',
                                text: fSig(Math.pow(10, e))}));
    }
    g.appendChild(sv('rect', {x: box.l, y: box.t, width: box.w, height: box.h, fill: 'none',
                              'class': 'axis'}));
    g.appendChild(sv('text', {x: box.l + box.w / 2, y: box.t + box.h + 28, 'text-anchor': 'middle',
                              text: xl}));
    g.appendChild(sv('text', {x: 12, y: box.t + box.h / 2, 'text-anchor': 'middle',
                              transform: 'rotate(-90 12 ' + (box.t + box.h / 2) + ')', text: yl}));
    return {X: X, Y: Y};
  }

  /* ---------- roofline: one chart per level and the NoC ---------- */
  function roofline() {
    var charts = {}, order = [];
    function chart(name) {
      if (!charts[name]) { charts[name] = {name: name, roofs: {}, points: []}; order.push(name); }
      return charts[name];
    }
    var peak = 0;
    einsums.forEach(function (it, idx) {
      var rl = it.e.roofline;
      if (!rl) return;
      peak = Math.max(peak, rl.peak_ops_per_cycle || 0);
      function line(c, port, ln) {
        if (!ln) return;
        if (isNum(ln.bandwidth_bytes_per_cycle) && !(port in c.roofs))
          c.roofs[port] = ln.bandwidth_bytes_per_cycle;
        if (ln.operational_intensity > 0 && rl.achieved_ops_per_cycle > 0)
          c.points.push({x: ln.operational_intensity, y: rl.achieved_ops_per_cycle, port: port,
                         idx: idx, label: it.label, bytes: ln.bytes});
      }
      (rl.levels || []).forEach(function (lv) {
        var c = chart(lv.name);
        line(c, 'read', lv.read);
        line(c, 'write', lv.write);
      });
      if (rl.noc) {
        var c = chart('NoC');
        line(c, 'in', rl.noc['in']);
        line(c, 'out', rl.noc.out);
      }
    });
    var rp = doc.roofline || (best && best.roofline) || {};
    var s = section('roofline', 'Roofline per level', [
      el('div', {'class': 'note', text: 'Each point is one Einsum: its operational intensity ' +
        'at that port (ops per byte crossing it) and the ops per cycle it achieved; lines are ' +
        'the ports\' attainable ops per cycle, min(peak, bandwidth \u00d7 intensity). Filled: ' +
        'read port / link into the array; hollow: write port / link out of it.' +
        (rp.bound ? ' The last Einsum is bound by ' + rp.bound + '.' : '')})]);
    var wrap = el('div', {'class': 'charts'});
    s.appendChild(wrap);
    if (!(peak > 0)) { s.appendChild(el('div', {'class': 'note', text: 'No roofline data.'})); return; }
    order.forEach(function (name) {
      var c = charts[name], xs = [], ys = [peak];
      c.points.forEach(function (p) { xs.push(p.x); ys.push(p.y); });
      for (var port in c.roofs) xs.push(peak / c.roofs[port]);
      if (!xs.length) xs.push(1);
      var x0 = Math.min.apply(null, xs) / 4, x1 = Math.max.apply(null, xs) * 4;
      var y0 = Math.min.apply(null, ys) / 4, y1 = peak * 2;
      var W = 360, H = 260, box = {l: 50, t: 22, w: W - 64, h: H - 62};
      var svg = sv('svg', {width: W, height: H, viewBox: '0 0 ' + W + ' ' + H,
                           'class': 'roofline', 'data-level': name});
      svg.appendChild(sv('text', {x: W / 2, y: 14, 'text-anchor': 'middle', 'font-weight': 600,
                                  text: name}));
      var ax = logAxes(svg, x0, x1, y0, y1, box, 'ops per byte', 'ops per cycle');
      var dash = {read: null, 'in': null, write: '5 3', out: '5 3'};
      Object.keys(c.roofs).forEach(function (port) {
        var bw = c.roofs[port], ridge = peak / bw, pts = [];
        var xa = Math.max(x0, y0 / bw);
        pts.push([ax.X(xa), ax.Y(bw * xa)]);
        if (ridge < x1) pts.push([ax.X(ridge), ax.Y(peak)], [ax.X(x1), ax.Y(peak)]);
        else pts.push([ax.X(x1), ax.Y(bw * x1)]);
        svg.appendChild(tip(sv('polyline', {points: pts.map(function (p) { return p.join(','); })
                                              .join(' '), fill: 'none', stroke: '#39404f',
                                            'stroke-width': 1.5, 'stroke-dasharray': dash[port]}),
                            name + ' ' + port + ': ' + fSig(bw) + ' B/cycle'));
      });
      svg.appendChild(sv('line', {x1: box.l, x2: box.l + box.w, y1: ax.Y(peak), y2: ax.Y(peak),
                                  stroke: '#999', 'stroke-dasharray': '2 2'}));
      svg.appendChild(sv('text', {x: box.l + 4, y: ax.Y(peak) - 4, text: 'peak ' + fSig(peak)}));
      c.points.forEach(function (p) {
        var col = PALETTE[p.idx % PALETTE.length], hollow = p.port === 'write' || p.port === 'out';
        svg.appendChild(tip(sv('circle', {cx: ax.X(p.x), cy: ax.Y(p.y), r: 4.5,
                                          fill: hollow ? '#fff' : col, stroke: col,
                                          'stroke-width': 2, 'class': 'point'}),
                            p.label + ' at ' + name + ' ' + p.port + ': ' + fSig(p.x) +
                            ' ops/B, ' + fSig(p.y) + ' ops/cycle, ' + fBytes(p.bytes)));
      });
      wrap.appendChild(el('div', {'class': 'chart'}, svg));
    });
    if (einsums.length <= 24)
      s.appendChild(legend(einsums.map(function (it, i) {
        return [it.label, PALETTE[i % PALETTE.length]];
      })));
    else
      s.appendChild(el('div', {'class': 'note', text: 'Colours repeat every ' + PALETTE.length +
        ' Einsums; hover a point for its name.'}));
  }

  /* ---------- horizontal bars ---------- */
  function hbars(rows, unitFmt, key) {
    /* rows: [{label, parts: [{name, value, color}]}] stacked per row */
    var max = 0;
    rows.forEach(function (r) {
      var t = 0;
      r.parts.forEach(function (p) { t += Math.max(0, p.value); });
      r.total = t;
      max = Math.max(max, t);
    });
    var W = 760, rowH = 22, lw = 180, H = rows.length * rowH + 10;
    var svg = sv('svg', {width: W, height: H, viewBox: '0 0 ' + W + ' ' + H, 'data-chart': key});
    rows.forEach(function (r, i) {
      var y = 4 + i * rowH, x = lw;
      svg.appendChild(sv('text', {x: lw - 6, y: y + 14, 'text-anchor': 'end', text: r.label}));
      r.parts.forEach(function (p) {
        var w = max > 0 ? Math.max(0, p.value) / max * (W - lw - 110) : 0;
        svg.appendChild(tip(sv('rect', {x: x, y: y + 2, width: w, height: rowH - 6,
                                        fill: p.color}),
                            r.label + ' \u00b7 ' + p.name + ': ' + unitFmt(p.value)));
        x += w;
      });
      svg.appendChild(sv('text', {x: x + 6, y: y + 14, text: unitFmt(r.total)}));
    });
    return svg;
  }

  /* ---------- energy ---------- */
  function energy() {
    var b = summary.energy_breakdown;
    if (!b) return;
    var parts = [];
    function part(name, v) {
      if (isNum(v) && v > 0) parts.push({name: name, value: v, color: colorOf(name)});
    }
    part('MACs', b.mac);
    part('vector unit', b.vector);
    Object.keys(b.levels || {}).forEach(function (l) { part(l, b.levels[l]); });
    part('NoC', b.noc);
    part('leakage', b.leakage);
    var total = 0;
    parts.forEach(function (p) { total += p.value; });
    var rows = parts.map(function (p) {
      return el('tr', null, [el('td', {'class': 'l'}, [el('span', {'class': 'bar', style:
        'background:' + p.color + ';width:10px'}), ' ' + p.name]),
        el('td', {text: fEnergy(p.value)}),
        el('td', {text: total > 0 ? fPct(p.value / total) : '\u2014'})]);
    });
    var s = section('energy', 'Energy', [
      el('div', {'class': 'note', text: 'Split of energy_total_pj (dynamic + leakage) by ' +
        'component; per tensor: reads, fills and updates at every level' +
        (layers ? ', each layer times its count' : '') + ' (MACs, NoC and leakage are not ' +
        'per tensor).'}),
      el('h3', {text: 'By component'}),
      hbars([{label: 'total', parts: parts}], fEnergy, 'energy-split'),
      legend(parts.map(function (p) { return [p.name, p.color]; })),
      el('table', {'class': 'energy-table'}, [el('tr', null, [el('th', {'class': 'l', text:
        'component'}), el('th', {text: 'energy'}), el('th', {text: 'share'})])].concat(rows))]);
    /* per tensor, stacked by level */
    var tensors = {}, tOrder = [], lvOrder = [], lvColor = {};
    einsums.forEach(function (it) {
      (it.e.levels || []).forEach(function (lv) {
        if (!(lv.name in lvColor)) {
          lvColor[lv.name] = colorOf(lv.name);
          lvOrder.push(lv.name);
        }
        Object.keys(lv.energy || {}).forEach(function (t) {
          var a = lv.energy[t], v = ((a.read || 0) + (a.fill || 0) + (a.update || 0)) * it.count;
          if (!(t in tensors)) { tensors[t] = {}; tOrder.push(t); }
          tensors[t][lv.name] = (tensors[t][lv.name] || 0) + v;
        });
      });
    });
    if (tOrder.length) {
      s.appendChild(el('h3', {text: 'By tensor (storage accesses)'}));
      s.appendChild(hbars(tOrder.map(function (t) {
        return {label: t, parts: lvOrder.map(function (l) {
          return {name: l, value: tensors[t][l] || 0, color: lvColor[l]};
        })};
      }), fEnergy, 'energy-tensors'));
      s.appendChild(legend(lvOrder.map(function (l) { return [l, lvColor[l]]; })));
    }
  }

  /* ---------- utilization waterfall ---------- */
  function waterfall() {
    var s = summary, steps = [], peak, achieved, note;
    var mpc = arch.macs_per_cycle || 1, pes = arch.pes || 0;
    if (s.utilization_loss && isNum(s.utilization_loss.peak_slots)) {
      var ul = s.utilization_loss;
      peak = ul.peak_slots;
      (ul.steps || []).forEach(function (st) { steps.push({cause: st.cause, slots: st.slots}); });
      achieved = isNum(ul.macs) ? ul.macs : peak - steps.reduce(function (a, st) {
        return a + st.slots; }, 0);
      note = 'From summary.utilization_loss: the peak MAC slots (PEs \u00d7 MACs per cycle ' +
             '\u00d7 cycles) and what each cause took from them.';
    } else {
      peak = pes * mpc * s.cycles;
      achieved = (s.utilization || 0) * peak;
      var stalls = s.stall_cycles || {};
      Object.keys(stalls).forEach(function (c) {
        if (stalls[c] > 0) steps.push({cause: 'stall: ' + c, slots: stalls[c] * pes * mpc});
      });
      var cc = s.compute_cycles || 0, act = isNum(s.active_pes) ? s.active_pes : pes;
      if (pes > act) steps.push({cause: 'PEs outside the spatial mapping',
                                 slots: cc * (pes - act) * mpc});
      var used = 0;
      steps.forEach(function (st) { used += st.slots; });
      var rest = peak - achieved - used;
      if (rest > 0.5) steps.push({cause: 'idle in compute cycles (edge tiles, uneven layers, ' +
                                          'vector-unit Einsums)', slots: rest});
      note = 'Derived, coarse: summary.utilization_loss is not in this JSON, so the loss is ' +
             'split from summary.stall_cycles (each stall cycle idles every PE), ' +
             'compute_cycles and active_pes (PEs the mapping never uses' +
             (layers ? '; for a network, the most any layer uses' : '') +
             '); the rest of the gap is idling within compute cycles.';
    }
    var sec = section('waterfall', 'Utilization waterfall', [el('div', {'class': 'note',
      'data-source': s.utilization_loss ? 'utilization_loss' : 'derived', text: note})]);
    if (!(peak > 0)) { sec.appendChild(el('div', {'class': 'note', text: 'No cycles.'})); return; }
    var bars = [{label: 'peak', from: 0, to: peak, color: '#4c78a8'}], level = peak;
    steps.forEach(function (st) {
      bars.push({label: st.cause, from: level - st.slots, to: level, color: '#e45756'});
      level -= st.slots;
    });
    bars.push({label: 'achieved', from: 0, to: achieved, color: '#54a24b'});
    var W = Math.max(520, 90 * bars.length + 80), H = 300, box = {l: 56, t: 14, w: W - 70, h: 190};
    var svg = sv('svg', {width: W, height: H, viewBox: '0 0 ' + W + ' ' + H, 'data-chart': 'waterfall'});
    function Y(v) { return box.t + box.h - v / peak * box.h; }
    for (var k = 0; k <= 4; k++) {
      var y = Y(peak * k / 4);
      svg.appendChild(sv('line', {'class': 'grid', x1: box.l, x2: box.l + box.w, y1: y, y2: y}));
      svg.appendChild(sv('text', {x: box.l - 4, y: y + 4, 'text-anchor': 'end', text: (25 * k) + '%'}));
    }
    var bw = box.w / bars.length;
    bars.forEach(function (b, i) {
      var x = box.l + i * bw + bw * 0.15, w = bw * 0.7, share = (b.to - b.from) / peak;
      var y0 = Y(Math.max(b.from, b.to)), h = Math.max(1, Math.abs(Y(b.from) - Y(b.to)));
      svg.appendChild(tip(sv('rect', {x: x, y: y0, width: w, height: h, fill: b.color}),
                          b.label + ': ' + fInt(b.to - b.from) + ' MAC slots (' + fPct(share) + ')'));
      svg.appendChild(sv('text', {x: x + w / 2, y: y0 - 3, 'text-anchor': 'middle',
                                  text: (i && i < bars.length - 1 ? '\u2212' : '') + fPct(share)}));
      var lab = b.label.length > 26 ? b.label.slice(0, 25) + '\u2026' : b.label;
      svg.appendChild(tip(sv('text', {x: x + w / 2, y: box.t + box.h + 12, 'text-anchor': 'end',
                                      transform: 'rotate(-30 ' + (x + w / 2) + ' ' +
                                                 (box.t + box.h + 12) + ')', text: lab}), b.label));
    });
    sec.appendChild(el('div', {'class': 'chart'}, svg));
  }

  /* ---------- tables: layers of a network, Einsums of a cascade ---------- */
  function table(id, head, rows) {
    return el('table', {id: id}, [el('tr', null, head.map(function (h, i) {
      return el('th', {'class': i ? null : 'l', text: h});
    }))].concat(rows.map(function (r) {
      return el('tr', {'class': r.cls || null}, r.cells.map(function (c, i) {
        return el('td', {'class': i ? null : 'l'}, c);
      }));
    })));
  }
  function cycleBar(v, max) {
    return el('span', null, [el('span', {'class': 'bar', style: 'width:' +
      (max > 0 ? Math.round(v / max * 80) : 0) + 'px'}), ' ' + fInt(v)]);
  }
  function layerTable() {
    if (!layers || (kind !== 'network' && layers.length < 2)) return;
    var max = 0;
    layers.forEach(function (L) { max = Math.max(max, L.summary.cycles * L.count); });
    var rows = layers.map(function (L) {
      var s = L.summary;
      return {cells: [L.name, fInt(L.count), fInt(s.cycles), cycleBar(s.cycles * L.count, max),
                      fInt(s.macs), fPct(s.utilization), fEnergy(s.energy_pj),
                      fSig(s.pj_per_mac), s.outer_traffic ? fBytes(s.outer_traffic.bytes) : '\u2014',
                      (L.einsums || []).map(function (e) { return e.roofline && e.roofline.bound; })
                        .join(', ')]};
    });
    section('layers', 'Layers', [el('div', {'class': 'note', text: 'One run of each layer; ' +
      'the bar is its share of the network\'s cycles (cycles \u00d7 count).'}),
      table('layer-table', ['layer', 'count', 'cycles', 'cycles \u00d7 count', 'MACs',
                            'utilization', 'energy', 'pJ/MAC', 'outer traffic', 'bound'], rows)]);
  }
  function einsumTable() {
    if (layers || einsums.length < 2) return;
    var max = 0;
    einsums.forEach(function (it) { max = Math.max(max, it.e.summary.cycles); });
    section('einsums', 'Einsums', table('einsum-table', ['output', 'Einsum', 'cycles',
      'utilization', 'energy', 'bound'], einsums.map(function (it) {
      var s = it.e.summary;
      return {cells: [it.e.output, it.e.einsum, cycleBar(s.cycles, max),
                      fPct(isNum(s.vector_utilization) && !s.utilization ? s.vector_utilization
                                                                          : s.utilization),
                      fEnergy(s.energy_pj), it.e.roofline ? it.e.roofline.bound : '']};
    })));
  }

  /* ---------- comparison ---------- */
  function compare() {
    if (kind !== 'compare') return;
    var rows = doc.dataflows.map(function (d) {
      var s = d.summary;
      return {cls: d.dataflow === doc.best ? 'best' : null,
              cells: [d.dataflow + (d.dataflow === doc.best ? ' (best)' : ''), fInt(s.cycles),
                      fPct(s.utilization), fEnergy(s.energy_pj), fSig(s.pj_per_mac),
                      s.outer_traffic ? fBytes(s.outer_traffic.bytes) : '\u2014']};
    });
    var bars = function (key, f) {
      return hbars(doc.dataflows.map(function (d, i) {
        return {label: d.dataflow, parts: [{name: key, value: d.summary[key],
                                            color: PALETTE[i % PALETTE.length]}]};
      }), f, 'compare-' + key);
    };
    var n = doc.noise || {};
    section('compare', 'Dataflows compared', [
      el('div', {'class': 'note', text: 'Objective ' + (doc.meta.objective || '') + '; best ' +
        doc.best + (n.runner_up ? ', runner-up ' + n.runner_up + ' (margin ' + fPct(n.margin) +
        (isNum(n.noise) ? ', noise ' + fPct(n.noise) : '') + ')' : '') + '.'}),
      table('compare-table', ['dataflow', 'cycles', 'utilization', 'energy', 'pJ/MAC',
                              'outer traffic'], rows),
      el('h3', {text: 'cycles'}), bars('cycles', fInt),
      el('h3', {text: 'dynamic energy'}), bars('energy_pj', fEnergy)]);
  }

  /* ---------- the PE array's activity ---------- */
  function activity() {
    if (!acts.length) return;
    var s = section('activity', 'PE array activity', [el('div', {'class': 'note', id:
      'activity-source'})]);
    var select = el('select', {id: 'activity-select'}, acts.map(function (a, i) {
      return el('option', {value: i, text: a.label});
    }));
    var play = el('button', {type: 'button', id: 'activity-play', text: 'pause'});
    var slider = el('input', {type: 'range', min: 0, max: 0, value: 0, id: 'activity-slider'});
    var caption = el('span', {id: 'activity-caption'});
    s.appendChild(el('div', {'class': 'controls'}, [acts.length > 1 ? select : null, play,
                                                     slider, caption]));
    var holder = el('div', {'class': 'chart'});
    s.appendChild(holder);
    var cur = null, rects = [], frame = 0, timer = null;
    function build(i) {
      cur = acts[i];
      holder.textContent = '';
      var cell = Math.max(4, Math.min(28, Math.floor(720 / Math.max(cur.grid_cols, 1)),
                                      Math.floor(420 / Math.max(cur.grid_rows, 1))));
      var W = cur.grid_cols * cell + 2, H = cur.grid_rows * cell + 2;
      var svg = sv('svg', {width: W, height: H, viewBox: '0 0 ' + W + ' ' + H,
                           'data-chart': 'activity'});
      rects = [];
      for (var r = 0; r < cur.grid_rows; r++)
        for (var c = 0; c < cur.grid_cols; c++) {
          var rc = sv('rect', {x: 1 + c * cell, y: 1 + r * cell, width: cell - 1,
                               height: cell - 1, fill: '#e3e6eb'});
          svg.appendChild(rc);
          rects.push(rc);
        }
      holder.appendChild(svg);
      var block = cur.grid_rows < cur.rows || cur.grid_cols < cur.cols;
      document.getElementById('activity-source').textContent =
        cur.rows + ' \u00d7 ' + cur.cols + ' PEs' + (block ? ' (each cell a block of PEs, ' +
        'shaded by its busy share)' : '') + '; ' + cur.frames.length + ' frames of ' +
        fInt(cur.total_time) + ' ' + cur.time_unit + 's, ' + cur.source + '.';
      slider.max = Math.max(0, cur.frames.length - 1);
      show(0);
    }
    function show(f) {
      if (!cur || !cur.frames.length) { caption.textContent = 'no frames'; return; }
      frame = f;
      var fr = cur.frames[f], busy = 0, all = 0;
      for (var k = 0; k < rects.length; k++) {
        var d = parseInt(fr.cells.charAt(k), 16) || 0;
        busy += d;
        all += 15;
        rects[k].setAttribute('fill', d ? '#4c78a8' : '#e3e6eb');
        rects[k].setAttribute('fill-opacity', d ? (0.3 + 0.7 * d / 15).toFixed(2) : '1');
      }
      slider.value = f;
      caption.textContent = cur.time_unit + ' ' + fInt(fr.t) + ' of ' + fInt(cur.total_time) +
        ': ' + fPct(all ? busy / all : 0) + ' of the array busy' +
        (fr.stall ? ' \u00b7 stall: ' + fr.stall : '');
    }
    function tick() { if (cur && cur.frames.length) show((frame + 1) % cur.frames.length); }
    function run(on) {
      if (timer) { clearInterval(timer); timer = null; }
      if (on) timer = setInterval(tick, 180);
      play.textContent = on ? 'pause' : 'play';
    }
    play.addEventListener('click', function () { run(!timer); });
    slider.addEventListener('input', function () { run(false); show(+slider.value); });
    select.addEventListener('change', function () { build(+select.value); });
    build(0);
    run(true);
  }

  try {
    header();
    summaryCards();
    compare();
    layerTable();
    einsumTable();
    roofline();
    energy();
    waterfall();
    activity();
    document.body.setAttribute('data-rendered', 'ok');
  } catch (e) {
    fail((e && e.stack) || String(e));
  }
})();
