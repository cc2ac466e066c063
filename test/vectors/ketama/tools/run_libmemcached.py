#!/usr/bin/python3
"""Placements from the real libmemcached (Debian libmemcached-dev).

    /usr/bin/python3 tools/run_libmemcached.py OUTDIR WORKDIR

Compiles tools/lmc_ketama.c with gcc against libmemcached and, for every
list of OUTDIR/lists.csv, asks it where each planned key goes, in two
configurations:

  lmc_weighted  MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED = 1
  lmc_ketama    MEMCACHED_DISTRIBUTION_CONSISTENT_KETAMA + MEMCACHED_HASH_MD5,
                weighting off (set after the servers are added)

Writes WORKDIR/lmc_weighted.csv, WORKDIR/lmc_ketama.csv (list,key_id,pos),
WORKDIR/keyhash.csv (key_id,hash: libmemcached's MD5 key hash) and the
libmemcached rows of the continuum and points files.

The continuum itself is not reachable through libmemcached's API.  It is
checked instead: the point values written in the README are computed by
tools/model.py, and libmemcached is probed (custom key hash = identity) at
every point value v and at the value just after the previous point; both
probes must return the server the model says owns v.  Any difference stops
the script.  The continuum rows written are those probes.
"""
import csv
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import inputs  # noqa: E402
import model  # noqa: E402


LMC_MAX_SERVERS = 100


def read_lists(outdir):
    lists = {}
    with open(os.path.join(outdir, 'lists.csv'), newline='') as f:
        for r in csv.DictReader(f):
            lists.setdefault(r['list'], []).append((r['host'], int(r['port']), int(r['weight'])))
    return lists


def read_keys(outdir):
    with open(os.path.join(outdir, 'keys.csv'), newline='', encoding='utf-8') as f:
        return [r['key'] for r in csv.DictReader(f)]


def read_plan(workdir):
    plan = {}
    with open(os.path.join(workdir, 'plan.csv'), newline='') as f:
        for r in csv.DictReader(f):
            plan.setdefault(r['list'], []).append(int(r['key_id']))
    return plan


def run(binary, mode, servers, keys, probes):
    cmd = ''.join('S %s %d %d\n' % s for s in servers)
    cmd += ''.join('K %s\n' % k.encode().hex() for k in keys)
    cmd += ''.join('P %d\n' % p for p in probes)
    res = subprocess.run([binary, mode], input=cmd.encode(), capture_output=True)
    if res.returncode != 0:
        sys.exit('lmc_ketama %s failed: %s' % (mode, res.stderr.decode()))
    lines = res.stdout.decode().splitlines()
    assert len(lines) == len(keys) + len(probes)
    return lines[:len(keys)], [int(x) for x in lines[len(keys):]]


def main():
    outdir, workdir = sys.argv[1], sys.argv[2]
    binary = os.path.join(workdir, 'lmc_ketama')
    subprocess.run(['gcc', '-O2', '-Wall', '-Wextra', '-Werror', '-o', binary,
                    os.path.join(HERE, 'lmc_ketama.c'), '-lmemcached', '-lhashkit'], check=True)
    lists, keys, plan = read_lists(outdir), read_keys(outdir), read_plan(workdir)
    keyhash = {}
    cont_rows = []
    points = {}
    for mode, builder in (('lmc_weighted', model.continuum_lmc_weighted),
                          ('lmc_ketama', model.continuum_lmc_ketama)):
        rows = []
        for lid, servers in lists.items():
            if len(servers) > LMC_MAX_SERVERS:
                # update_continuum() asserts count * MEMCACHED_POINTS_PER_SERVER
                # <= MEMCACHED_CONTINUUM_SIZE (100 * 100): the 101st server aborts.
                res = subprocess.run([binary, mode.split('_')[1]], capture_output=True,
                                     input=(''.join('S %s %d %d\n' % s for s in servers) + 'K 61\n').encode())
                if res.returncode == 0 or b'MEMCACHED_CONTINUUM_SIZE' not in res.stderr:
                    sys.exit('%s %s: expected libmemcached to abort on more than %d servers'
                             % (mode, lid, LMC_MAX_SERVERS))
                print('libmemcached %s %s: %d servers: aborts (continuum size assertion), no placements'
                      % (mode, lid, len(servers)), file=sys.stderr)
                continue
            pts = builder(servers)
            probes = []
            for i, p in enumerate(pts):
                probes.append(p[0])
                probes.append(pts[i - 1][0] + 1 if i else 0)
            if pts[-1][0] < 0xFFFFFFFF:
                probes += [pts[-1][0] + 1, 0xFFFFFFFF]
            ids = plan[lid]
            out, got = run(binary, mode.split('_')[1], servers, [keys[i] for i in ids], probes)
            for kid, line in zip(ids, out):
                pos, host, port, kh = line.split('\t')
                pos = int(pos)
                if (host, int(port)) != servers[pos][:2]:
                    sys.exit('%s %s: libmemcached named %s:%s for position %d' % (mode, lid, host, port, pos))
                if keyhash.setdefault(kid, int(kh)) != int(kh):
                    sys.exit('key hash changed for key %d' % kid)
                rows.append((lid, kid, pos))
            # continuum check (see docstring)
            bad = 0
            for i, p in enumerate(pts):
                # libmemcached breaks ties on the server index, as the model does
                first = pts[i] if i == 0 or pts[i - 1][0] != p[0] else None
                owner = p[1] if first else None
                if owner is None:
                    continue
                if got[2 * i] != owner or got[2 * i + 1] != owner:
                    bad += 1
            if len(probes) > 2 * len(pts) and (got[-1] != pts[0][1] or got[-2] != pts[0][1]):
                bad += 1
            if bad:
                sys.exit('%s %s: %d continuum points disagree with the README rules' % (mode, lid, bad))
            if lid in inputs.CONTINUUM_LISTS:
                for i, (v, pos, s, word) in enumerate(pts):
                    if i and pts[i - 1][0] == v:
                        continue        # a shared value: only its first owner is reachable
                    cont_rows.append((mode, lid, v, got[2 * i], s, word))
            if mode == 'lmc_weighted':
                for pos in range(len(servers)):
                    points[(lid, pos)] = sum(1 for p in pts if p[1] == pos)
            print('libmemcached %s %s: %d servers, %d points, %d keys, continuum verified'
                  % (mode, lid, len(servers), len(pts), len(ids)), file=sys.stderr)
        with open(os.path.join(workdir, mode + '.csv'), 'w', newline='') as f:
            w = csv.writer(f, lineterminator='\n')
            w.writerow(['list', 'key_id', 'pos'])
            w.writerows(rows)
    # MD5 key hash of every key, including keys only used by lists that
    # libmemcached cannot hold
    out, _ = run(binary, 'weighted', [('h', 11211, 1)], keys, [])
    for kid, line in enumerate(out):
        kh = int(line.split('\t')[3])
        if keyhash.setdefault(kid, kh) != kh:
            sys.exit('key hash changed for key %d' % kid)
    with open(os.path.join(workdir, 'keyhash.csv'), 'w', newline='') as f:
        w = csv.writer(f, lineterminator='\n')
        w.writerow(['key_id', 'hash'])
        w.writerows(sorted(keyhash.items()))
    with open(os.path.join(workdir, 'continuum_lmc.csv'), 'w', newline='', encoding='utf-8') as f:
        w = csv.writer(f, lineterminator='\n')
        w.writerow(['mode', 'list', 'point', 'pos', 'point_string', 'word'])
        w.writerows(cont_rows)
    with open(os.path.join(workdir, 'points_lmc.csv'), 'w', newline='') as f:
        w = csv.writer(f, lineterminator='\n')
        w.writerow(['list', 'pos', 'lmc_weighted'])
        w.writerows((lid, pos, n) for (lid, pos), n in points.items())


if __name__ == '__main__':
    main()
