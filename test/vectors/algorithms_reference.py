#!/usr/bin/python3
"""Independent reference for the 'maglev' and 'rendezvous' placement rules.

Written from the rules in doc/placement.md ("Algorithms"), with python3-xxhash
(Debian), not from the C sources.  It prints a CSV of (ring, key, position,
owner, replicas3) that sql/algorithm_vectors.sql compares with the extension.

    apt-get install python3-xxhash
    /usr/bin/python3 test/vectors/algorithms_reference.py > test/vectors/algorithms.csv
"""
import csv
import math
import sys

import xxhash

# The rings of sql/algorithm_vectors.sql: name -> (algorithm, table size, nodes)
RINGS = {
    'mg_small': ('maglev', 1009, [('a', 1), ('b', 2), ('c', 3), ('d', 1), ('e', 0.5), ('nœud', 1)]),
    'mg_default': ('maglev', 65537, [('db%d' % i, 1) for i in range(1, 6)]),
    'mg_many': ('maglev', 65537, [('node%03d' % i, 1 + (i % 3)) for i in range(100)]),
    'hrw_small': ('rendezvous', None, [('a', 1), ('b', 2), ('c', 3), ('d', 1), ('e', 0.5),
                                 ('drained', 0), ('nœud', 1)]),
    'hrw_many': ('rendezvous', None, [('node%03d' % i, 1 + (i % 3)) for i in range(100)]),
}

SIGN = 1 << 63


def position(data: bytes) -> int:
    """XXH3-64 (seed 0) of the bytes, as a signed 64-bit integer."""
    h = xxhash.xxh3_64_intdigest(data)
    return h - (1 << 64) if h >= SIGN else h


def maglev_table(m, nodes):
    """Entry -> node name, filled in rounds as doc/placement.md describes."""
    live = sorted(((n.encode(), w) for n, w in nodes if w > 0))
    wmax = max(w for _, w in live)
    fill = []
    for name, w in live:
        fill.append({'name': name.decode(),
                     'next': xxhash.xxh3_64_intdigest(name, seed=0) % m,
                     'skip': xxhash.xxh3_64_intdigest(name, seed=1) % (m - 1) + 1,
                     'step': w / wmax, 'credit': 0.0})
    table = [None] * m
    taken = 0
    while taken < m:
        for f in fill:
            if taken == m:
                break
            f['credit'] += f['step']
            while f['credit'] >= 1.0 and taken < m:
                while table[f['next']] is not None:
                    f['next'] = (f['next'] + f['skip']) % m
                table[f['next']] = f['name']
                taken += 1
                f['credit'] -= 1.0
    return table


def maglev_ranges(table):
    """(last biased position, owner) of each run of equal owners."""
    m = len(table)
    ranges = []
    for e in range(m):
        if e + 1 == m or table[e + 1] != table[e]:
            last = -((-(e + 1) << 64) // m) - 1      # ceil((e+1) 2^64 / m) - 1
            ranges.append((last, table[e]))
    return ranges


def maglev_replicas(ranges, pos, n):
    u = pos ^ SIGN if pos >= 0 else (pos + (1 << 64)) ^ SIGN
    i = next(k for k, (last, _) in enumerate(ranges) if last >= u)
    out = []
    distinct = len(set(o for _, o in ranges))
    while len(out) < min(n, distinct):
        if ranges[i][1] not in out:
            out.append(ranges[i][1])
        i = (i + 1) % len(ranges)
    return out


def hrw_scores(nodes, pos):
    data = (pos % (1 << 64)).to_bytes(8, 'little')
    scored = []
    for name, w in nodes:
        if w <= 0:
            continue
        h = xxhash.xxh3_64_intdigest(data, seed=xxhash.xxh3_64_intdigest(name.encode()))
        u = ((h >> 11) + 0.5) * (1.0 / 9007199254740992.0)
        scored.append((-(w / -math.log(u)), name.encode(), name))
    return [name for _, _, name in sorted(scored)]


def keys():
    for i in range(400):
        yield f'key-{i}'
    for s in ['', 'é', '日本語', 'a' * 300, '42']:
        yield s


def main():
    out = csv.writer(sys.stdout, lineterminator='\n', quoting=csv.QUOTE_ALL)
    out.writerow(['ring', 'key', 'position', 'owner', 'replicas3'])
    for ring, (alg, m, nodes) in RINGS.items():
        ranges = maglev_ranges(maglev_table(m, nodes)) if alg == 'maglev' else None
        for key in keys():
            pos = position(key.encode())
            reps = maglev_replicas(ranges, pos, 3) if ranges else hrw_scores(nodes, pos)[:3]
            out.writerow([ring, key, pos, reps[0],
                          '{' + ','.join('"%s"' % r for r in reps) + '}'])


if __name__ == '__main__':
    main()
