#!/usr/bin/env python3
"""End-to-end test of `einflow run --html` and `einflow compare --html`.

Writes the JSON (-o) and the HTML report of a few bundled runs in one
command each, opens each page in headless Chromium and checks that

  * the page ran without a JavaScript error: no console message (the
    page logs nothing, so any CONSOLE line is an error or an uncaught
    exception) and no #ef-error element, and it finished rendering
    (body data-rendered="ok");
  * the rendered DOM shows the JSON's numbers as the page formats them
    (cycles, utilization, energy; the layers of a network) and has its
    charts (one roofline per level, the waterfall, the PE activity);
  * the screenshot is not blank (its PNG decoded here with zlib: several
    colours, and a minimum share of pixels off the background).

Before trusting those checks it shows they can fail: a page with an
injected error must be caught, and a blank page's screenshot rejected.

usage: check_html.py EINFLOW SOURCE_DIR WORK_DIR
Exit 0 on success, 1 on a failure, 77 (CTest's SKIP_RETURN_CODE) when
Chromium is not installed.
"""
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib
from decimal import Decimal, ROUND_HALF_UP

SKIP = 77
failures = []


def fail(msg):
    failures.append(msg)
    print('FAIL: ' + msg, flush=True)


# ---------- the page's number formats (src/report/html_app.js) ----------
# JavaScript's toFixed and toPrecision round exact ties up, on the
# double's exact value; Decimal(float) is that exact value.

def f_int(x):
    return '{:,}'.format(int(Decimal(x).quantize(Decimal(1), ROUND_HALF_UP)))


def f_pct(x):
    return str(Decimal(x * 100).quantize(Decimal('0.01'), ROUND_HALF_UP)) + '%'


def f_sig(x):
    if x == 0:
        return '0'
    d = Decimal(x)
    exp = d.adjusted()                     # position of the first digit
    q = d.quantize(Decimal(1).scaleb(exp - 3), ROUND_HALF_UP)
    if q.adjusted() != exp:                # 9.9995 -> 10.00: one digit less
        q = d.quantize(Decimal(1).scaleb(exp - 2), ROUND_HALF_UP)
    v = float(q)                           # JS: String(Number(...))
    return repr(int(v)) if v == int(v) and abs(v) < 1e21 else repr(v)


def f_scaled(x, units, base):
    u = 0
    while u + 1 < len(units) and abs(x) >= base ** (u + 1):
        u += 1
    return f_sig(x / base ** u) + ' ' + units[u]


def f_energy(pj):
    return f_scaled(pj, ['pJ', 'nJ', '\u00b5J', 'mJ', 'J'], 1000)


# ---------- Chromium ----------

def chromium():
    for name in ('chromium', 'chromium-browser', 'google-chrome'):
        path = shutil.which(name)
        if path:
            return path
    return None


def browse(browser, work, page, *args):
    """Runs headless Chromium on page; returns (stdout, stderr)."""
    profile = os.path.join(work, 'profile')
    cmd = [browser, '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars',
           '--no-first-run', '--user-data-dir=' + profile, '--enable-logging=stderr', '--v=0',
           '--virtual-time-budget=3000'] + list(args) + ['file://' + os.path.abspath(page)]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=180)
    return p.stdout.decode('utf-8', 'replace'), p.stderr.decode('utf-8', 'replace')


def page_errors(dom, log):
    """The page's JavaScript errors: console lines and #ef-error."""
    errs = [l for l in log.splitlines() if ':CONSOLE' in l or 'Uncaught' in l]
    m = re.search(r'id="ef-error"[^>]*>(.*?)</div>', dom, re.S)
    if m:
        errs.append('page: ' + m.group(1).strip())
    if 'data-rendered="ok"' not in dom:
        errs.append('the page did not finish rendering (no data-rendered="ok")')
    return errs


# ---------- PNG (8-bit RGB or RGBA, non-interlaced: what Chromium writes) ----------

def png_pixels(path):
    data = open(path, 'rb').read()
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        raise ValueError('not a PNG')
    pos, idat, hdr = 8, [], None
    while pos < len(data):
        n, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b'IHDR':
            hdr = struct.unpack('>IIBBBBB', body)
        elif kind == b'IDAT':
            idat.append(body)
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = hdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError('unsupported PNG: depth %d colour type %d' % (depth, ctype))
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(b''.join(idat))
    stride = w * bpp
    prev = bytearray(stride)
    rows = []
    for y in range(h):
        f = raw[y * (stride + 1)]
        cur = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for i in range(bpp, stride):
                cur[i] = (cur[i] + cur[i - bpp]) & 255
        elif f == 2:
            for i in range(stride):
                cur[i] = (cur[i] + prev[i]) & 255
        elif f == 3:
            for i in range(stride):
                left = cur[i - bpp] if i >= bpp else 0
                cur[i] = (cur[i] + ((left + prev[i]) >> 1)) & 255
        elif f == 4:
            for i in range(stride):
                a = cur[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                cur[i] = (cur[i] + pred) & 255
        rows.append(bytes(cur))
        prev = cur
    return w, h, bpp, rows


def blank_reason(path, min_share=0.02):
    """None when the screenshot shows something, else why not."""
    w, h, bpp, rows = png_pixels(path)
    counts = {}
    for row in rows[::2]:                       # every other row is plenty
        for x in range(0, w * bpp, bpp * 2):
            px = row[x:x + 3]
            counts[px] = counts.get(px, 0) + 1
    total = sum(counts.values())
    background, most = max(counts.items(), key=lambda kv: kv[1])
    if len(counts) < 2:
        return 'every pixel has the same colour'
    share = 1 - most / total
    if share < min_share:
        return 'only %.2f%% of the pixels differ from the background' % (share * 100)
    return None


# ---------- the checks of one page ----------

def card_text(dom, key):
    m = re.search(r'data-key="%s"><div class="k">[^<]*</div><div class="v">([^<]*)</div>' % key,
                  dom)
    return m.group(1) if m else None


def check_page(browser, work, name, html, result):
    dom, log = browse(browser, work, html, '--dump-dom')
    for e in page_errors(dom, log):
        fail('%s: %s' % (name, e))
    s = result.get('summary')
    if 'dataflows' in result:
        best = [d for d in result['dataflows'] if d['dataflow'] == result['best']][0]
        s = best['summary']
        for d in result['dataflows']:
            if not re.search(r'<td class="l">%s( \(best\))?</td><td>%s</td>'
                             % (re.escape(d['dataflow']), re.escape(f_int(d['summary']['cycles']))),
                             dom):
                fail('%s: no row of dataflow %s with %s cycles'
                     % (name, d['dataflow'], f_int(d['summary']['cycles'])))
    want = {'cycles': f_int(s['cycles']), 'utilization': f_pct(s['utilization']),
            'energy_pj': f_energy(s['energy_pj']), 'macs': f_int(s['macs'])}
    for key, text in want.items():
        got = card_text(dom, key)
        if got != text:
            fail('%s: summary %s shows %r, the JSON says %r' % (name, key, got, text))
    for L in result.get('layers', []):
        row = r'<td class="l">%s</td><td>%s</td><td>%s</td>' % (
            re.escape(L['name']), re.escape(f_int(L['count'])),
            re.escape(f_int(L['summary']['cycles'])))
        if not re.search(row, dom):
            fail('%s: no layer row %s with %s cycles' % (name, L['name'],
                                                          f_int(L['summary']['cycles'])))
    levels = {lv['name'] for e in (result.get('einsums') or []) for lv in e['roofline']['levels']}
    for L in result.get('layers', []):
        levels |= {lv['name'] for e in L['einsums'] for lv in e['roofline']['levels']}
    for lv in sorted(levels):
        if 'data-level="%s"' % lv not in dom:
            fail('%s: no roofline chart of level %s' % (name, lv))
    if 'data-chart="waterfall"' not in dom:
        fail('%s: no utilization waterfall' % name)
    if 'dataflows' not in result:
        if 'data-chart="activity"' not in dom or not re.search(r'<rect[^>]*fill="#4c78a8"', dom):
            fail('%s: no PE activity with a busy PE' % name)
    png = os.path.join(work, name + '.png')
    if os.path.exists(png):
        os.remove(png)
    browse(browser, work, html, '--screenshot=' + png, '--window-size=1280,2000')
    if not os.path.exists(png):
        fail('%s: Chromium wrote no screenshot' % name)
        return
    why = blank_reason(png)
    if why:
        fail('%s: the screenshot looks blank: %s' % (name, why))


def self_test(browser, work, html):
    """The checks above must be able to fail: an error in the page is
    found, and an empty page's screenshot is called blank."""
    text = open(html, encoding='utf-8').read()
    broken = os.path.join(work, 'broken.html')
    # a summary that is not an object makes the renderer throw
    with open(broken, 'w', encoding='utf-8') as f:
        f.write(text.replace('"summary":', '"summary":null,"was":', 1))
    dom, log = browse(browser, work, broken, '--dump-dom')
    if not page_errors(dom, log):
        fail('self-test: an error in the page went unnoticed')
    empty = os.path.join(work, 'empty.html')
    with open(empty, 'w') as f:
        f.write('<!DOCTYPE html><html><body></body></html>\n')
    png = os.path.join(work, 'empty.png')
    browse(browser, work, empty, '--screenshot=' + png, '--window-size=1280,2000')
    if not os.path.exists(png) or not blank_reason(png):
        fail('self-test: a blank page was not called blank')


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    einflow, src, work = sys.argv[1:]
    browser = chromium()
    if not browser:
        print('SKIP: Chromium is not installed (apt-get install chromium); '
              'the HTML report was not checked')
        return SKIP
    os.makedirs(work, exist_ok=True)
    S = lambda p: os.path.join(src, p)
    runs = [
        ('attention', ['run', S('configs/edge_8x8.yaml'), S('workloads/attention.yaml'),
                       S('mappings/edge_8x8__attention.yaml')]),
        ('network', ['run', S('configs/eyeriss_like.yaml'), S('tests/data/tiny_net.yaml'), 'ws',
                     '--evaluations', '2000', '--threads', '2']),
        ('compare', ['compare', S('configs/edge_8x8.yaml'), S('tests/data/tiny_net.yaml'),
                     '--dataflows', 'ws,os', '--seeds', '1', '--evaluations', '1000',
                     '--threads', '2']),
    ]
    for name, args in runs:
        out_json = os.path.join(work, name + '.json')
        out_html = os.path.join(work, name + '.html')
        for p in (out_json, out_html):
            if os.path.exists(p):
                os.remove(p)
        p = subprocess.run([einflow] + args + ['-q', '-o', out_json, '--html', out_html],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if p.returncode != 0:
            fail('%s: einflow exited %d: %s' % (name, p.returncode, p.stderr.decode()))
            continue
        html = open(out_html, encoding='utf-8').read()
        if re.search(r'(src|href)\s*=\s*["\']?(https?:)?//', html):
            fail('%s: the page fetches something' % name)
        if html.count('</script>') != html.count('<script'):
            fail('%s: the embedded JSON ends a <script> early' % name)
        check_page(browser, work, name, out_html, json.load(open(out_json)))
        print('checked %s' % name, flush=True)
    self_test(browser, work, os.path.join(work, 'attention.html'))
    if failures:
        print('%d failure(s)' % len(failures))
        return 1
    print('all HTML reports render and show the JSON\'s numbers')
    return 0


if __name__ == '__main__':
    sys.exit(main())
