#!/usr/bin/python3
"""Merge the per-client results of WORKDIR into the committed fixtures.

    /usr/bin/python3 tools/assemble.py OUTDIR WORKDIR

OUTDIR/keys.csv        key_id,key,hash
OUTDIR/placements.csv  list,key_id,lmc_weighted,lmc_ketama,twemproxy,uhashring
OUTDIR/continuum.csv   mode,list,point,pos,point_string,word
OUTDIR/points.csv      list,pos,lmc_weighted,uhashring
"""
import csv
import os
import sys

CLIENTS = ['lmc_weighted', 'lmc_ketama', 'twemproxy', 'uhashring']


def rows(path):
    with open(path, newline='', encoding='utf-8') as f:
        return list(csv.DictReader(f))


def write(path, header, data):
    with open(path, 'w', newline='', encoding='utf-8') as f:
        w = csv.writer(f, lineterminator='\n')
        w.writerow(header)
        w.writerows(data)


def main():
    outdir, workdir = sys.argv[1], sys.argv[2]
    keys = rows(os.path.join(outdir, 'keys.csv'))
    hashes = {r['key_id']: r['hash'] for r in rows(os.path.join(workdir, 'keyhash.csv'))}
    write(os.path.join(outdir, 'keys.csv'), ['key_id', 'key', 'hash'],
          [(r['key_id'], r['key'], hashes[r['key_id']]) for r in keys])

    results = {c: {(r['list'], r['key_id']): r['pos'] for r in rows(os.path.join(workdir, c + '.csv'))}
               for c in CLIENTS}
    plan = [(r['list'], r['key_id']) for r in rows(os.path.join(workdir, 'plan.csv'))]
    write(os.path.join(outdir, 'placements.csv'), ['list', 'key_id'] + CLIENTS,
          [list(p) + [results[c].get(p, '') for c in CLIENTS] for p in plan])

    cont = rows(os.path.join(workdir, 'continuum_lmc.csv')) + \
        rows(os.path.join(workdir, 'continuum_uhashring.csv'))
    header = ['mode', 'list', 'point', 'pos', 'point_string', 'word']
    write(os.path.join(outdir, 'continuum.csv'), header, [[r[h] for h in header] for r in cont])

    lmc = {(r['list'], r['pos']): r['lmc_weighted'] for r in rows(os.path.join(workdir, 'points_lmc.csv'))}
    uh = rows(os.path.join(workdir, 'points_uhashring.csv'))
    write(os.path.join(outdir, 'points.csv'), ['list', 'pos', 'lmc_weighted', 'uhashring'],
          [(r['list'], r['pos'], lmc.get((r['list'], r['pos']), ''), r['uhashring']) for r in uh])


if __name__ == '__main__':
    main()
