#!/usr/bin/python3
"""Where does the Python driver's replica order differ from the Cassandra
server's?  Reads nodes.csv and replicas.csv (the driver's answers) and
replays, for every row, the server's rules transcribed from Cassandra's
Java sources:

  SimpleStrategy.calculateNaturalReplicas: walk the ring from the first
      token >= the key's token (wrapping), take each owner not yet taken,
      until RF owners.
  NetworkTopologyStrategy.calculateNaturalReplicas with
  DatacenterEndpoints.addEndpointAndCheckIfDone (single DC):
      rfLeft = min(RF, nodes in DC); acceptableRackRepeats = RF - racks in DC.
      Walking the ring as above, a node is taken if it is new and its rack
      is new, or if it is new and acceptableRackRepeats > 0 (which is then
      decremented); stop when rfLeft reaches 0.

This is a check of the fixtures and of the claims of doc/placement.md
('cassandra'), not a source of vectors.  It prints a summary and, with -v, the differing rows.

    /usr/bin/python3 test/vectors/cassandra/compare_server_nts.py [-v]
"""
import bisect
import csv
import os
import sys
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_array(lit):
    assert lit[0] == '{' and lit[-1] == '}'
    body = lit[1:-1]
    return body.split(',') if body else []


def load_rings():
    rings = defaultdict(lambda: {'tokens': {}, 'rack': {}, 'dc': {}})
    with open(os.path.join(HERE, 'nodes.csv'), newline='') as f:
        for r in csv.DictReader(f):
            ring = rings[r['ring']]
            ring['tokens'][int(r['token'])] = r['node']
            ring['rack'][r['node']] = r['rack']
            ring['dc'][r['node']] = r['dc']
    for ring in rings.values():
        ring['sorted'] = sorted(ring['tokens'])
    return rings


def walk(ring, token):
    toks = ring['sorted']
    i = bisect.bisect_left(toks, token)
    for j in range(len(toks)):
        yield ring['tokens'][toks[(i + j) % len(toks)]]


def server_simple(ring, token, rf):
    out = []
    for node in walk(ring, token):
        if len(out) == rf:
            break
        if node not in out:
            out.append(node)
    return out


def server_nts(ring, token, rf):
    nodes = set(ring['rack'])
    racks = set(ring['rack'].values())
    rf_left = min(rf, len(nodes))
    repeats = rf - len(racks)
    seen_racks, out = set(), []
    for node in walk(ring, token):
        if rf_left == 0:
            break
        if node in out:
            continue
        rack = ring['rack'][node]
        if rack not in seen_racks:
            seen_racks.add(rack)
            out.append(node)
            rf_left -= 1
        elif repeats > 0:
            out.append(node)
            repeats -= 1
            rf_left -= 1
    return out


def main():
    verbose = '-v' in sys.argv
    rings = load_rings()
    # rows, order differs, set differs
    stats = defaultdict(lambda: [0, 0, 0])
    with open(os.path.join(HERE, 'replicas.csv'), newline='') as f:
        for r in csv.DictReader(f):
            ring = rings[r['ring']]
            t = int(r['token'])
            for col, fn in [('simple1', lambda: server_simple(ring, t, 1)),
                            ('simple2', lambda: server_simple(ring, t, 2)),
                            ('simple3', lambda: server_simple(ring, t, 3)),
                            ('nts3', lambda: server_nts(ring, t, 3))]:
                drv = parse_array(r[col])
                srv = fn()
                s = stats[(col, r['ring'].rsplit('_', 1)[1])]
                s[0] += 1
                if drv != srv:
                    s[1] += 1
                    if set(drv) != set(srv):
                        s[2] += 1
                    if verbose:
                        print('%s %s %s driver=%s server=%s'
                              % (r['ring'], t, col, drv, srv))
    print('%-8s %-8s %7s %14s %12s' % ('column', 'racks', 'rows',
                                        'order differs', 'set differs'))
    for (col, racks), (n, o, d) in sorted(stats.items()):
        print('%-8s %-8s %7d %14d %12d' % (col, racks, n, o, d))


if __name__ == '__main__':
    main()
