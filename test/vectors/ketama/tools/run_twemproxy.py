#!/usr/bin/python3
"""Placements from the real twemproxy (Debian package nutcracker).

    /usr/bin/python3 tools/run_twemproxy.py OUTDIR WORKDIR

For every list of OUTDIR/lists.csv: starts one fake memcached server per
list entry (asyncio, text protocol: records the keys of every get/gets and
answers END), runs nutcracker on 127.0.0.1 with

    hash: md5
    distribution: ketama

and one server line per entry, sends `get KEY` for every planned key through
nutcracker, and records which fake server received it.

Server lines:
  * lists in inputs.TWEMPROXY_UNNAMED: "host:port:weight" with no name; the
    fake servers listen on those very addresses (127.0.0.x, localhost), so
    nutcracker derives each server's name itself.
  * all other lists (addresses that do not exist here): "127.0.0.1:P:weight
    NAME" with a fake server on port P and NAME = host when port is 11211,
    else host:port -- the name nutcracker derives for an unnamed
    "host:port:weight" line (nc_conf.c, conf_add_server), which the unnamed
    lists check.
A list that nutcracker refuses (`nutcracker -t` fails, e.g. weight 0) gets
no placements.  Writes WORKDIR/twemproxy.csv (list,key_id,pos).
Ports used: 22990 (proxy), 22991 (stats), 23001.. (fake servers), plus the
real ports of the unnamed lists; all on loopback.
"""
import asyncio
import csv
import os
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import inputs  # noqa: E402
import model  # noqa: E402
from run_libmemcached import read_keys, read_lists, read_plan  # noqa: E402

PROXY_PORT = 22990
STATS_PORT = 22991
FAKE_BASE = 23001


def have_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(('::1', 0))
        return True
    except OSError:
        return False


async def fake_servers(binds, seen):
    """binds: [(host, port, pos)]; seen: key bytes -> [pos, ...]"""

    async def handle(reader, writer, pos):
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                parts = line.rstrip(b'\r\n').split(b' ')
                if parts[0] in (b'get', b'gets'):
                    for k in parts[1:]:
                        if k:
                            seen.setdefault(k, []).append(pos)
                    writer.write(b'END\r\n')
                else:
                    writer.write(b'ERROR\r\n')
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    servers = []
    for host, port, pos in binds:
        servers.append(await asyncio.start_server(
            lambda r, w, pos=pos: handle(r, w, pos), host, port, reuse_address=True))
    return servers


async def query(keys):
    for _ in range(200):
        try:
            reader, writer = await asyncio.open_connection('127.0.0.1', PROXY_PORT)
            break
        except OSError:
            await asyncio.sleep(0.05)
    else:
        raise RuntimeError('nutcracker does not listen on %d' % PROXY_PORT)
    window = 256
    for i in range(0, len(keys), window):
        chunk = keys[i:i + window]
        writer.write(b''.join(b'get ' + k + b'\r\n' for k in chunk))
        await writer.drain()
        for _ in chunk:
            line = await asyncio.wait_for(reader.readline(), 30)
            if line != b'END\r\n':
                raise RuntimeError('unexpected reply %r' % line)
    writer.close()


def conf_text(lid, servers):
    lines = ['%s:' % lid.lower(),
             '  listen: 127.0.0.1:%d' % PROXY_PORT,
             '  hash: md5',
             '  distribution: ketama',
             '  auto_eject_hosts: false',
             '  servers:']
    binds = []
    ipv6 = have_ipv6_loopback()
    for pos, (host, port, weight) in enumerate(servers):
        if lid in inputs.TWEMPROXY_UNNAMED:
            lines.append('   - %s:%d:%d' % (host, port, weight))
            if host == 'localhost':
                binds.append(('127.0.0.1', port, pos))
                if ipv6:
                    binds.append(('::1', port, pos))
            else:
                binds.append((host, port, pos))
        else:
            lines.append('   - 127.0.0.1:%d:%d %s' % (FAKE_BASE + pos, weight, model.label(host, port)))
            binds.append(('127.0.0.1', FAKE_BASE + pos, pos))
    return '\n'.join(lines) + '\n', binds


async def run_list(workdir, lid, servers, keys):
    conf, binds = conf_text(lid, servers)
    path = os.path.join(workdir, 'nutcracker-%s.yml' % lid)
    with open(path, 'w') as f:
        f.write(conf)
    test = subprocess.run(['nutcracker', '-t', '-c', path], capture_output=True, text=True)
    if test.returncode != 0:
        # `-t` only says "syntax is invalid"; a real start logs the reason
        log = os.path.join(workdir, 'nutcracker-%s.log' % lid)
        subprocess.run(['nutcracker', '-c', path, '-o', log, '-s', str(STATS_PORT),
                        '-a', '127.0.0.1', '-p', os.path.join(workdir, 'nutcracker.pid')],
                       capture_output=True, timeout=30)
        with open(log) as f:
            why = [line.split(' ', 3)[-1].strip() for line in f if ' conf: ' in line]
        return None, why[-1] if why else test.stdout.strip()
    seen = {}
    servers_ = await fake_servers(binds, seen)
    proc = subprocess.Popen(['nutcracker', '-c', path, '-v', '5',
                             '-o', os.path.join(workdir, 'nutcracker-%s.log' % lid),
                             '-s', str(STATS_PORT), '-a', '127.0.0.1',
                             '-p', os.path.join(workdir, 'nutcracker.pid')])
    try:
        await query(keys)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for s in servers_:
            s.close()
            await s.wait_closed()
    out = []
    for k in keys:
        got = seen.get(k, [])
        if len(got) != 1:
            raise RuntimeError('%s: key %r reached %r' % (lid, k, got))
        out.append(got[0])
    if len(seen) != len(set(keys)):
        raise RuntimeError('%s: fake servers saw unexpected keys' % lid)
    return out, None


def main():
    outdir, workdir = sys.argv[1], sys.argv[2]
    lists, keys, plan = read_lists(outdir), read_keys(outdir), read_plan(workdir)
    rows = []
    for lid, servers in lists.items():
        ids = plan[lid]
        t0 = time.time()
        out, err = asyncio.run(run_list(workdir, lid, servers, [keys[i].encode() for i in ids]))
        if out is None:
            print('twemproxy %s: configuration refused (%s), no placements' % (lid, err), file=sys.stderr)
            continue
        rows += [(lid, kid, pos) for kid, pos in zip(ids, out)]
        print('twemproxy %s: %d servers, %d keys, %.1fs' % (lid, len(servers), len(ids), time.time() - t0),
              file=sys.stderr)
    with open(os.path.join(workdir, 'twemproxy.csv'), 'w', newline='') as f:
        w = csv.writer(f, lineterminator='\n')
        w.writerow(['list', 'key_id', 'pos'])
        w.writerows(rows)


if __name__ == '__main__':
    main()
