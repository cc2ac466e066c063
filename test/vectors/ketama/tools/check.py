#!/usr/bin/python3
"""Check the fixtures in OUTDIR against the rules written in README.md.

    /usr/bin/python3 tools/check.py [OUTDIR]

Recomputes every placement of placements.csv, every key hash of keys.csv,
every row of continuum.csv and points.csv with tools/model.py and exits
non-zero on the first disagreement.  Also prints, per list, how often the
clients agree with each other and how libketama (model only: no packaged
libketama exists) would differ from uhashring.
"""
import bisect
import csv
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import model  # noqa: E402


def rows(path):
    with open(path, newline='', encoding='utf-8') as f:
        return list(csv.DictReader(f))


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(HERE)
    lists = {}
    for r in rows(os.path.join(outdir, 'lists.csv')):
        lists.setdefault(r['list'], []).append((r['host'], int(r['port']), int(r['weight'])))
    keys = {}
    for r in rows(os.path.join(outdir, 'keys.csv')):
        k = r['key'].encode()
        if model.key_hash(k) != int(r['hash']):
            sys.exit('key %s: hash %s is not the MD5 key hash' % (r['key_id'], r['hash']))
        keys[r['key_id']] = k

    rings, objs = {}, {}
    for lid, servers in lists.items():
        names = [(model.label(h, p), w) for h, p, w in servers]
        o = {
            'lmc_weighted': model.Ring(model.continuum_lmc_weighted(servers)),
            'lmc_ketama': model.Ring(model.continuum_lmc_ketama(servers)),
            'twemproxy': model.Ring(model.continuum_twemproxy(names)),
            'uhashring': model.Ring(model.continuum_uhashring(servers)),
            'libketama': model.Ring(model.continuum_libketama(servers)),
        }
        objs[lid] = o
        rings[lid] = {c: (r.gt_last if c == 'uhashring' else r.ge) for c, r in o.items()}
    exact = {}   # client -> [exact hits, exact hits where '>=' and '>' differ]
    clients = ['lmc_weighted', 'lmc_ketama', 'twemproxy', 'uhashring']
    stats = {}
    total = 0
    for r in rows(os.path.join(outdir, 'placements.csv')):
        lid = r['list']
        h = model.key_hash(keys[r['key_id']])
        st = stats.setdefault(lid, {'keys': 0, 'w=t': 0, 'w=k': 0, 'u=lk': 0, 'w=u': 0, 'w=lk': 0,
                                    'have': set()})
        st['keys'] += 1
        single = len(lists[lid]) == 1
        for c in clients:
            if r[c] == '':
                continue
            st['have'].add(c)
            want = 0 if single else rings[lid][c](h)
            if int(r[c]) != want:
                sys.exit('%s key %s %s: recorded %s, rules give %d' % (lid, r['key_id'], c, r[c], want))
            total += 1
            ring = objs[lid][c]
            i = bisect.bisect_left(ring.values, h)
            if not single and i < len(ring.values) and ring.values[i] == h:
                e = exact.setdefault(c, [0, 0])
                e[0] += 1
                j = bisect.bisect_right(ring.values, h)
                e[1] += ring.pts[i][1] != ring.pts[j % len(ring.pts)][1]
        lk = rings[lid]['libketama'](h)
        if r['lmc_weighted'] and r['twemproxy']:
            st['w=t'] += r['lmc_weighted'] == r['twemproxy']
        if r['lmc_weighted'] and r['lmc_ketama']:
            st['w=k'] += r['lmc_weighted'] == r['lmc_ketama']
        if r['lmc_weighted']:
            st['w=u'] += r['lmc_weighted'] == r['uhashring']
        if st['u=lk'] != '-':
            st['u=lk'] += int(r['uhashring']) == lk
            if r['lmc_weighted']:
                st['w=lk'] += int(r['lmc_weighted']) == lk
        if any(w == 0 for _, _, w in lists[lid]):
            st['u=lk'] = st['w=lk'] = '-'    # libketama refuses a server with memory 0

    builders = {'lmc_weighted': model.continuum_lmc_weighted,
                'lmc_ketama': model.continuum_lmc_ketama,
                'uhashring': model.continuum_uhashring}
    seen = {}
    for r in rows(os.path.join(outdir, 'continuum.csv')):
        key = (r['mode'], r['list'])
        if key not in seen:
            pts = builders[r['mode']](lists[r['list']])
            first = {}
            for v, pos, s, word in pts:
                first.setdefault(v, (pos, s, word))
            seen[key] = first
        v = int(r['point'])
        pos, s, word = seen[key][v]
        if r['mode'] == 'uhashring':
            pos = max(p[1] for p in builders['uhashring'](lists[r['list']]) if p[0] == v)
        if (int(r['pos']), r['point_string'], int(r['word'])) != (pos, s, word):
            sys.exit('continuum %s %s point %d differs from the rules' % (r['mode'], r['list'], v))
    for key, first in seen.items():
        n = sum(1 for r in rows(os.path.join(outdir, 'continuum.csv')) if (r['mode'], r['list']) == key)
        if n != len(first):
            sys.exit('continuum %s: %d rows for %d distinct points' % (key, n, len(first)))

    for r in rows(os.path.join(outdir, 'points.csv')):
        servers = lists[r['list']]
        n = len(servers)
        w = servers[int(r['pos'])][2]
        if r['lmc_weighted'] != '':
            ws = [x[2] or 1 for x in servers]
            if int(r['lmc_weighted']) != 4 * model.segments_lmc(w or 1, sum(ws), n):
                sys.exit('points %s/%s lmc_weighted differs' % (r['list'], r['pos']))
        if int(r['uhashring']) != 4 * model.segments_uhashring(w, sum(x[2] for x in servers), n):
            sys.exit('points %s/%s uhashring differs' % (r['list'], r['pos']))

    # libketama's own search loop agrees with "first point >= h, else the
    # first point", ties and a point at 0 included
    for t in range(100000):
        r = (t * 2654435761) & 0xffffffff
        n = 1 + r % 12
        values = sorted(((r >> (5 + 3 * i)) ^ (t >> i)) % 21 for i in range(n))
        h = (r >> 7) % 22
        i = bisect.bisect_left(values, h)
        if model.libketama_search(values, h) != (0 if i == n else i):
            sys.exit('libketama search differs from lower bound on %r, %d' % (values, h))

    print('check: %d recorded placements reproduced by the README rules' % total)
    for c, (n, d) in exact.items():
        print('check: %s: %d placements of keys hashing exactly onto a point; for %d of them ">=" and ">" pick'
              ' different servers' % (c, n, d))
    print('agreement per list (keys placed alike); libketama = the README rules, no packaged libketama exists')
    print('list  servers  keys  clients  weighted=twemproxy  weighted=ketama  weighted=uhashring'
          '  weighted=libketama  uhashring=libketama')
    for lid, st in stats.items():
        w = 'lmc_weighted' in st['have']
        print('%-5s %7d %5d  %-7s %18s %15s %19s %19s %20s' % (
            lid, len(lists[lid]), st['keys'],
            ''.join(c[0] if c != 'lmc_ketama' else 'k' for c in clients if c in st['have']),
            st['w=t'] if 'twemproxy' in st['have'] and w else '-',
            st['w=k'] if 'lmc_ketama' in st['have'] else '-',
            st['w=u'] if w else '-', st['w=lk'] if w else '-', st['u=lk']))


if __name__ == '__main__':
    main()
