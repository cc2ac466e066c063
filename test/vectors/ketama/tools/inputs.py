#!/usr/bin/python3
"""Server lists and keys for the ketama fixtures.

    /usr/bin/python3 tools/inputs.py OUTDIR WORKDIR

writes OUTDIR/lists.csv and OUTDIR/keys.csv (committed fixtures) and
WORKDIR/plan.csv (list,key_id: which keys each client is asked about).
Everything is deterministic: pseudo-random strings come from SHA-256 of a
counter, not from a seeded library generator.
"""
import csv
import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model  # noqa: E402


class Stream:
    """Deterministic byte stream: SHA-256(tag || counter)."""

    def __init__(self, tag):
        self.tag = tag.encode()
        self.n = 0
        self.buf = b''

    def u32(self):
        while len(self.buf) < 4:
            self.buf += hashlib.sha256(self.tag + b'/%d' % self.n).digest()
            self.n += 1
        v, self.buf = int.from_bytes(self.buf[:4], 'little'), self.buf[4:]
        return v

    def below(self, n):
        return self.u32() % n


# ---------------------------------------------------------------------------
# tie pairs: two hosts (port 11211) whose continua share a point value

def find_tie(prefix, points_of):
    seen = {}
    n = 0
    while True:
        host = '%s%d.example.net' % (prefix, n)
        for v in set(points_of(host)):
            if v in seen and seen[v] != host:
                return seen[v], host, v
            seen[v] = host
        n += 1


def pts_weighted(host):          # libmemcached weighted / twemproxy, N=2, equal
    return [v for i in range(40) for v in model.md5_words(('%s-%d' % (host, i)).encode())]


def pts_ketama100(host):         # libmemcached ketama, unweighted
    return [model.md5_words(('%s-%d' % (host, i)).encode())[0] for i in range(100)]


def pts_colon(host):             # libketama / uhashring, N=2, equal
    return [v for k in range(40) for v in model.md5_words(('%s:11211-%d' % (host, k)).encode())]


# ---------------------------------------------------------------------------
# server lists: id -> [(host, port, weight)]

def build_lists():
    L = {}
    L['L01'] = [('10.0.0.1', 11211, 1)]
    L['L02'] = [('10.0.0.1', 11211, 1), ('10.0.0.2', 11211, 1)]
    L['L03'] = [('mc1.example.com', 11211, 1), ('mc2.example.com', 11211, 1),
                ('mc3.example.com', 11211, 1)]
    L['L04'] = [('localhost', 11211, 1), ('localhost', 11212, 1), ('localhost', 11213, 1)]
    L['L05'] = [('10.1.0.1', 11211, 1), ('10.1.0.2', 11212, 2),
                ('cache-a.example.org', 11211, 3), ('cache-b.example.org', 22122, 7),
                ('192.168.10.5', 11211, 10)]
    L['L06'] = [('172.16.0.%d' % (i + 1), 21211 + i, 1) for i in range(5)]
    L['L07'] = [('memcached-%02d.prod.example.net' % (i + 1), 11211, 1) for i in range(10)]
    L['L08'] = [('10.4.0.%d' % (i + 1), (11211, 11311, 20000)[i % 3], w)
                for i, w in enumerate([1, 2, 3, 7, 10, 100, 1, 1, 5, 50])]
    L['L09'] = [('10.5.0.%d' % (i + 1), 11211, 1) for i in range(25)]
    L['L10'] = [('cache%02d.example.com' % i, 11211, 1) for i in range(31)]
    s = Stream('L11')
    L['L11'] = [('10.6.0.%d' % (i + 1), 11211 + (i % 2), 1 + s.below(10)) for i in range(31)]
    L['L12'] = [('10.7.0.%d' % (i + 1), 11211, 1) for i in range(61)]
    L['L13'] = [('10.8.%d.%d' % (i // 200, i % 200 + 1), 11211, 1) for i in range(100)]
    s = Stream('L14')
    fixed = [1, 2, 3, 7, 10, 100]
    L['L14'] = [('mc-%03d.cluster.example.com' % i, 11211 if i % 4 else 11400 + i,
                 fixed[i] if i < len(fixed) else 1 + s.below(100)) for i in range(100)]
    L['L15'] = [('cache-%03d.dc1.example.com' % i, 11211, 1) for i in range(200)]
    L['L16'] = [('10.30.%d.%d' % (i // 100, i % 100 + 1), 11211 + (i % 3), 1) for i in range(500)]
    L['L17'] = [('10.3.0.1', 11211, 0), ('10.3.0.2', 11211, 1), ('10.3.0.3', 11211, 2)]
    L['L18'] = [('10.3.1.1', 11211, 1), ('10.3.1.2', 11211, 100), ('10.3.1.3', 11211, 100)]
    long_host = 'a-rather-long-host-name-for-testing.memcached-pool.eu-west.example.com'
    L['L19'] = [(long_host, 11211, 1), (long_host, 11299, 2),
                ('x' * 60 + '.example.com', 11211, 1)]
    L['L20'] = [('127.0.0.1', 11211, 1), ('127.0.0.2', 11211, 1), ('127.0.0.3', 11211, 2)]
    L['L21'] = [('127.0.0.1', 22201 + i, 1 + i % 3) for i in range(5)]
    L['L22'] = [('localhost', 22211, 1), ('localhost', 22212, 1), ('127.0.0.1', 22213, 1)]
    a, b, _ = find_tie('tw', pts_weighted)
    L['L23'] = [(a, 11211, 1), (b, 11211, 1)]
    L['L24'] = [(b, 11211, 1), (a, 11211, 1)]
    a, b, _ = find_tie('tk', pts_ketama100)
    L['L25'] = [(a, 11211, 1), (b, 11211, 1)]
    L['L26'] = [(b, 11211, 1), (a, 11211, 1)]
    a, b, _ = find_tie('tu', pts_colon)
    L['L27'] = [(a, 11211, 1), (b, 11211, 1)]
    L['L28'] = [(b, 11211, 1), (a, 11211, 1)]
    # same point strings in every client (no port 11211): only the number of
    # points per server differs (float vs integer arithmetic)
    L['L29'] = [('10.9.0.%d' % (i + 1), 11300 + i, w) for i, w in enumerate([1, 1, 3, 10, 10])]
    L['L30'] = [('10.10.0.%d' % (i + 1), 11311, 1) for i in range(61)]
    return L


# lists whose servers twemproxy reaches at their own address, without a name
TWEMPROXY_UNNAMED = {'L20', 'L21', 'L22'}
# lists (all small) whose whole continuum goes into continuum.csv
CONTINUUM_LISTS = ['L01', 'L02', 'L03', 'L04', 'L05', 'L17', 'L23', 'L25', 'L27', 'L29']


# ---------------------------------------------------------------------------
# keys

PRINTABLE = ''.join(chr(c) for c in range(0x21, 0x7f))
NON_ASCII = ('é', 'ü', 'ß', 'ñ', 'ø', 'Ж', 'λ', 'ع', 'ש', '€', '☃', '中', '日本', '語',
             'キー', '한', '🙂', '🔑', '𝄞', '\u00a0')


def key_pools():
    pools = {}
    pools['seq'] = ['key-%d' % i for i in range(2000)]
    s = Stream('rand')
    pools['rand'] = [''.join(PRINTABLE[s.below(len(PRINTABLE))] for _ in range(1 + s.below(40)))
                     for _ in range(1000)]
    s = Stream('utf8')
    utf8 = []
    for i in range(300):
        target = 250 if i % 50 == 0 else 1 + s.below(60)
        k = ''
        while True:
            part = NON_ASCII[s.below(len(NON_ASCII))] if s.below(2) else PRINTABLE[s.below(len(PRINTABLE))]
            if len((k + part).encode()) > target:
                break
            k += part
        if not k:
            k = NON_ASCII[i % len(NON_ASCII)]
        utf8.append(k)
    pools['utf8'] = utf8
    s = Stream('long')
    pools['long'] = [''.join(PRINTABLE[s.below(len(PRINTABLE))]
                             for _ in range(250 if i % 10 == 0 else 200 + s.below(51)))
                     for i in range(100)]
    pools['single'] = list(PRINTABLE)
    return pools


def allotment(n, lid):
    if lid in ('L23', 'L24', 'L25', 'L26', 'L27', 'L28'):
        return dict(seq=300, rand=100, utf8=20, long=10, single=0)
    if n <= 10:
        return dict(seq=1500, rand=500, utf8=150, long=50, single=94)
    if n <= 100:
        return dict(seq=800, rand=300, utf8=80, long=30, single=0)
    return dict(seq=500, rand=200, utf8=50, long=20, single=0)


def continua(servers):
    return {
        'lmc_weighted': model.continuum_lmc_weighted(servers),
        'lmc_ketama': model.continuum_lmc_ketama(servers),
        'uhashring': model.continuum_uhashring(servers),
    }


def edge_keys(lid, servers):
    """Keys whose hash is exactly a point, above the last point, at or below
    the first point, or just below a point shared by two servers."""
    want_hits = 4 if len(servers) >= 61 else 0
    want_ends = 3
    cont = continua(servers)
    if len(servers) > 100:          # more than libmemcached accepts
        del cont['lmc_weighted'], cont['lmc_ketama']
    sets = {m: set(p[0] for p in pts) for m, pts in cont.items()}
    lo = {m: pts[0][0] for m, pts in cont.items()}
    hi = {m: pts[-1][0] for m, pts in cont.items()}
    ties = {}
    for m, pts in cont.items():
        vals = [p[0] for p in pts]
        for i in range(1, len(vals)):
            if vals[i] == vals[i - 1] and pts[i][1] != pts[i - 1][1]:
                j = i - 1
                while j > 0 and vals[j - 1] == vals[i]:
                    j -= 1
                prev = vals[j - 1] if j > 0 else vals[-1]
                ties[m] = (prev, vals[i])
    quota = {}
    for m in cont:
        quota[('hit', m)] = want_hits
        quota[('above', m)] = want_ends
        quota[('below', m)] = want_ends
        if m in ties:
            quota[('tie', m)] = 20
    found = []
    n = 0
    cap = 3_000_000
    while any(quota.values()) and n < cap:
        k = 'edge-%s-%d' % (lid, n)
        n += 1
        h = model.key_hash(k.encode())
        for m in cont:
            tags = []
            if h in sets[m]:
                tags.append(('hit', m))
            if h > hi[m]:
                tags.append(('above', m))
            if h <= lo[m]:
                tags.append(('below', m))
            if m in ties:
                prev, v = ties[m]
                if (prev < h <= v) if prev < v else (h > prev or h <= v):
                    tags.append(('tie', m))
            for t in tags:
                if quota.get(t, 0) > 0:
                    quota[t] -= 1
                    found.append(k)
    if any(quota.values()):
        print('inputs: %s: edge search stopped after %d candidates, missing %s'
              % (lid, n, {k: v for k, v in quota.items() if v}), file=sys.stderr)
    seen = set()
    return [k for k in found if not (k in seen or seen.add(k))]


def main():
    outdir, workdir = sys.argv[1], sys.argv[2]
    lists = build_lists()
    with open(os.path.join(outdir, 'lists.csv'), 'w', newline='') as f:
        w = csv.writer(f, lineterminator='\n')
        w.writerow(['list', 'pos', 'host', 'port', 'weight'])
        for lid, servers in lists.items():
            for pos, (h, p, wt) in enumerate(servers):
                w.writerow([lid, pos, h, p, wt])

    pools = key_pools()
    key_ids = {}
    keys = []

    def kid(k):
        if k not in key_ids:
            key_ids[k] = len(keys)
            keys.append(k)
        return key_ids[k]

    for name in ('seq', 'rand', 'utf8', 'long', 'single'):
        for k in pools[name]:
            kid(k)
    plan = []
    for lid, servers in lists.items():
        a = allotment(len(servers), lid)
        chosen = []
        for name in ('seq', 'rand', 'utf8', 'long', 'single'):
            chosen += pools[name][:a[name]]
        chosen += edge_keys(lid, servers)
        seen = set()
        for k in chosen:
            if k not in seen:
                seen.add(k)
                plan.append((lid, kid(k)))
        print('inputs: %s: %d servers, %d keys' % (lid, len(servers),
              sum(1 for p in plan if p[0] == lid)), file=sys.stderr)

    for k in keys:
        b = k.encode()
        assert 0 < len(b) <= 250 and not any(c <= 0x20 or c == 0x7f for c in b), k
    with open(os.path.join(outdir, 'keys.csv'), 'w', newline='', encoding='utf-8') as f:
        w = csv.writer(f, lineterminator='\n')
        w.writerow(['key_id', 'key'])
        for i, k in enumerate(keys):
            w.writerow([i, k])
    with open(os.path.join(workdir, 'plan.csv'), 'w', newline='') as f:
        w = csv.writer(f, lineterminator='\n')
        w.writerow(['list', 'key_id'])
        w.writerows(plan)


if __name__ == '__main__':
    main()
