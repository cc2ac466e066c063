#!/usr/bin/python3
"""Placements from python3-uhashring (Debian), its "ketama compatible" ring.

    /usr/bin/python3 tools/run_uhashring.py OUTDIR WORKDIR

For every list: HashRing(nodes, hash_fn='ketama') with one node per list
entry, node name "host:port" (the form libketama's server file uses), the
list's weight, default vnodes (40) and replicas (4); nodes are given in list
order.  Records get_node(key) for every planned key, the points per node
(runtime._distribution) and, for the small lists of inputs.CONTINUUM_LISTS,
the ring itself (get_points()).  Writes WORKDIR/uhashring.csv,
WORKDIR/continuum_uhashring.csv and WORKDIR/points_uhashring.csv.
"""
import csv
import os
import sys

from uhashring import HashRing

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import inputs  # noqa: E402
import model  # noqa: E402
from run_libmemcached import read_keys, read_lists, read_plan  # noqa: E402


def main():
    outdir, workdir = sys.argv[1], sys.argv[2]
    lists, keys, plan = read_lists(outdir), read_keys(outdir), read_plan(workdir)
    rows, cont_rows, points = [], [], []
    for lid, servers in lists.items():
        names = ['%s:%d' % (h, p) for h, p, _ in servers]
        nodes = {}
        for name, (h, p, w) in zip(names, servers):
            nodes[name] = {'hostname': h, 'port': p, 'weight': w}
        ring = HashRing(nodes=nodes, hash_fn='ketama')
        pos_of = {name: i for i, name in enumerate(names)}
        for kid in plan[lid]:
            rows.append((lid, kid, pos_of[ring.get_node(keys[kid])]))
        dist = ring.runtime._distribution
        for i, name in enumerate(names):
            points.append((lid, i, dist.get(name, 0)))
        if lid in inputs.CONTINUUM_LISTS:
            # point strings and words come from the model; the values and
            # owners from uhashring, and they must agree
            pts = model.continuum_uhashring(servers)
            ring_pts = ring.get_points()
            if [v for v, _ in ring_pts] != [p[0] for p in pts]:
                sys.exit('uhashring %s: ring points differ from the README rules' % lid)
            for i, ((v, name), p) in enumerate(zip(ring_pts, pts)):
                if i and ring_pts[i - 1][0] == v:
                    continue
                cont_rows.append(('uhashring', lid, v, pos_of[name], p[2], p[3]))
        print('uhashring %s: %d servers, %d points, %d keys'
              % (lid, len(servers), sum(dist.values()), len(plan[lid])), file=sys.stderr)
    for name, data, header in (('uhashring.csv', rows, ['list', 'key_id', 'pos']),
                               ('continuum_uhashring.csv', cont_rows,
                                ['mode', 'list', 'point', 'pos', 'point_string', 'word']),
                               ('points_uhashring.csv', points, ['list', 'pos', 'uhashring'])):
        with open(os.path.join(workdir, name), 'w', newline='', encoding='utf-8') as f:
            w = csv.writer(f, lineterminator='\n')
            w.writerow(header)
            w.writerows(data)


if __name__ == '__main__':
    main()
