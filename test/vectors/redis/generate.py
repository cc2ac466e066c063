#!/usr/bin/python3
"""Reference vectors for the 'redis' placement mode, taken from a real Redis.

Runs the Debian redis-server / redis-cli (7.0.x) on 127.0.0.1 in a temporary
directory and records:

  keyslots.csv        CLUSTER KEYSLOT for ~36k keys (binary-exact, hex)
  create_layouts.csv  slot ranges that `redis-cli --cluster create` gives
                      N masters (--cluster-replicas 0)
  rebalance.csv       slot layouts before/after `--cluster add-node` and
                      `--cluster rebalance` (equal weights, then weighted)

Everything is deterministic (fixed seeds, fixed port order); every server
started here is stopped before the script exits.  See README.md.

    /usr/bin/python3 test/vectors/redis/generate.py [keyslots|layouts|rebalance]
"""
import binascii
import math
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

import redis

HERE = os.path.dirname(os.path.abspath(__file__))
HOST = '127.0.0.1'
# Client ports and cluster bus ports (port + 10000) both stay below the
# kernel's ephemeral range (32768-60999 on Debian) so that no outgoing
# connection can take a port before a server binds it.
BASE_PORT = 21100
SLOTS = 16384

# Master counts for `redis-cli --cluster create`.  78, 87, 102, 107, 109, ...
# are the first counts where redis-cli's single-precision cursor gives a
# different layout than exact arithmetic would (see README.md).
CREATE_SIZES = [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16, 17, 20, 24, 31,
                32, 33, 47, 50, 64, 78, 87, 100, 102, 107, 109, 128, 150,
                200]


# ------------------------------------------------------------------- csv --

class CsvOut:
    """CSV for PostgreSQL's COPY ... (FORMAT csv, HEADER): fields quoted
    only when needed, and '' always written as "" (an empty string, not
    NULL)."""

    def __init__(self, path, header):
        self.f = open(path, 'w', newline='', encoding='utf-8')
        self.row(header)

    @staticmethod
    def field(v):
        if isinstance(v, int):
            return str(v)
        if v == '' or any(c in v for c in ',"\n\r'):
            return '"' + v.replace('"', '""') + '"'
        return v

    def row(self, values):
        self.f.write(','.join(self.field(v) for v in values) + '\n')

    def close(self):
        self.f.close()


# --------------------------------------------------------------- servers --

class Servers:
    """A set of cluster-enabled redis-server processes started by us."""

    def __init__(self, workdir, ports):
        self.workdir = workdir
        self.ports = list(ports)
        self.procs = []

    def __enter__(self):
        for p in self.ports:
            for q in (p, p + 10000):
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    s.bind((HOST, q))
                except OSError:
                    raise SystemExit('port %d on %s is in use' % (q, HOST))
                finally:
                    s.close()
        try:
            self._start()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _start(self):
        for p in self.ports:
            d = os.path.join(self.workdir, str(p))
            os.makedirs(d, exist_ok=True)
            cmd = ['redis-server',
                   '--port', str(p), '--bind', HOST,
                   '--cluster-enabled', 'yes',
                   '--cluster-config-file', 'nodes.conf',
                   '--cluster-node-timeout', '15000',
                   '--dir', d, '--save', '', '--appendonly', 'no',
                   '--daemonize', 'no', '--logfile', os.path.join(d, 'log')]
            self.procs.append(subprocess.Popen(cmd, stdin=subprocess.DEVNULL))
        for p in self.ports:
            c = self.client(p)
            for _ in range(600):
                try:
                    c.ping()
                    break
                except redis.ConnectionError:
                    time.sleep(0.05)
            else:
                raise SystemExit('redis-server on port %d did not start' % p)

    def client(self, port):
        return redis.Redis(host=HOST, port=port, socket_timeout=60)

    def __exit__(self, *exc):
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return False


def redis_cli(*args):
    try:
        r = subprocess.run(['redis-cli'] + [str(a) for a in args],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=1800)
    except subprocess.TimeoutExpired:
        raise SystemExit('redis-cli %s timed out' % ' '.join(args[:2]))
    out = r.stdout.decode('utf-8', 'replace')
    out = re.sub(r'\x1b\[[0-9;]*m', '', out)        # strip colours
    if r.returncode != 0:
        sys.stderr.write(out + r.stderr.decode('utf-8', 'replace'))
        raise SystemExit('redis-cli %s failed' % ' '.join(map(str, args[:3])))
    return out


def version():
    return subprocess.run(['redis-server', '--version'], capture_output=True,
                          text=True).stdout.strip()


# -------------------------------------------------------------- keyslots --

def printable(rng, n, alphabet=None):
    alphabet = alphabet or [chr(c) for c in range(0x20, 0x7f)]
    return ''.join(rng.choice(alphabet) for _ in range(n)).encode()


def keyslot_keys():
    """(category, key bytes) in a fixed order, duplicates removed."""
    rng = random.Random(0x7E15_5107)
    keys = []

    def add(cat, k):
        keys.append((cat, k))

    # Hand-picked hash-tag edge cases (Redis Cluster spec and beyond).
    for k in [b'', b'{user1000}.following', b'{user1000}.followers',
              b'foo{}{bar}', b'foo{{bar}}zap', b'foo{bar}{zap}', b'{}', b'{',
              b'}', b'{a', b'a}', b'}{', b'}{a}', b'{}a', b'a{}', b'{}{a}',
              b'{{}}', b'{{', b'}}', b'{{a}}', b'{a}}', b'{{a}', b'{a}{b}',
              b'a{b}c{d}e', b'{ }', b'{\x00}', b'\x00{a}', b'{a\x00b}',
              b'{\xff}', b'{\xe2\x82\xac}', b'\xe2\x82\xac', b'{}{}', b'{{}',
              b'{}}', b'}{}', b'}}{a}', b'a{b', b'a{b}', b'a{b}}', b'a{{b}',
              b'{a}b', b'{ab}', b'ab', b'a', b'b', b'{b}', b'{123456789}',
              b'123456789', b'foo', b'bar', b'zap', b'{bar}', b'{zap}',
              b'{foo}', b'user1000', b'{user1000}', b'key', b'{key}',
              b'hello', b'{hello}', b'{hello}world', b'world{hello}',
              b'{{hello}}', b'\x00', b'\x00\x00', b'\xff', b'\xff\xff',
              b'\r\n', b'{\r\n}', b' ', b'{ }x', b'}{}{', b'{}{}{}', b'{{{',
              b'}}}', b'{a}{a}', b'{a{b}c}', b'{a}b}', b'{{a}}b}']:
        add('edge', k)

    # Every string of length 0..6 over the alphabet { } a b.
    alpha = [b'{', b'}', b'a', b'b']
    layer = [b'']
    for _ in range(7):
        for k in layer:
            add('braces', k)
        layer = [k + c for k in layer for c in alpha]

    # Every single byte, and a sample of two-byte keys.
    for b in range(256):
        add('byte', bytes([b]))
    for _ in range(1500):
        add('byte2', bytes([rng.randrange(256), rng.randrange(256)]))

    # Plain keys as applications write them.
    for i in range(4000):
        add('plain', b'key:%d' % i)
    for i in range(1500):
        add('plain', b'%d' % i)
    for _ in range(1500):
        add('plain', b'user:%d:profile' % rng.randrange(10 ** 9))
    for _ in range(4000):
        add('plain', printable(rng, rng.randint(1, 48)))

    # Hash tags: prefix{tag}suffix with braces also allowed around it.
    noclose = [chr(c) for c in range(0x20, 0x7f) if c != 0x7d]
    anything = [chr(c) for c in range(0x20, 0x7f)]
    tags = [printable(rng, rng.randint(0, 8), noclose) for _ in range(600)]
    for _ in range(9000):
        pre = printable(rng, rng.randint(0, 6),
                        [c for c in anything if c != '{'])
        tag = rng.choice(tags)
        suf = printable(rng, rng.randint(0, 8), anything)
        add('tag', pre + b'{' + tag + b'}' + suf)
    for tag in tags[:300]:          # each tag alone (same slot as {tag}...)
        add('tag', tag)

    # Arbitrary binary keys, 0..64 bytes (braces, NUL and high bytes).
    for _ in range(5000):
        add('binary', bytes(rng.randrange(256)
                            for _ in range(rng.randint(0, 64))))
    for _ in range(1500):       # biased to bytes { } NUL 0xff
        add('binary', bytes(rng.choice(b'{}\x00\xff\x7f\x80a')
                            for _ in range(rng.randint(1, 12))))

    # UTF-8 text, with and without tags.
    ranges = [(0x20, 0x7e), (0xa0, 0x24f), (0x370, 0x3ff), (0x400, 0x4ff),
              (0x590, 0x6ff), (0x900, 0x97f), (0x3040, 0x30ff),
              (0x4e00, 0x9fff), (0xac00, 0xd7a3), (0x1f300, 0x1f6ff),
              (0x300, 0x36f), (0x10000, 0x1007f)]

    def utext(n):
        s = []
        for _ in range(n):
            lo, hi = rng.choice(ranges)
            s.append(chr(rng.randint(lo, hi)))
        return ''.join(s)
    for _ in range(3000):
        s = utext(rng.randint(1, 16))
        if rng.random() < 0.3:
            s = utext(rng.randint(0, 3)) + '{' + utext(rng.randint(0, 4)) \
                + '}' + utext(rng.randint(0, 4))
        add('utf8', s.encode('utf-8'))

    # Long keys, plain and with a tag far from the start.
    for n in [64, 100, 127, 128, 255, 256, 257, 1000, 1024, 4096, 10000,
              65536]:
        body = printable(rng, n, [c for c in anything if c not in '{}'])
        add('long', body[:n - 5] + b'{ab}' + body[-1:])
        if n < 65536:
            add('long', body)
            add('long', b'{' + body[1:])
            add('long', b'{' + body[1:n // 2] + b'}' + body[n // 2 + 1:])

    seen, out = set(), []
    for cat, k in keys:
        if k not in seen:
            seen.add(k)
            out.append((cat, k))
    return out


def rule_slot(key):
    """The documented rule, only to check the server's answers."""
    s = key.find(b'{')
    if s >= 0:
        e = key.find(b'}', s + 1)
        if e > s + 1:
            key = key[s + 1:e]
    return binascii.crc_hqx(key, 0) & 0x3FFF


def gen_keyslots(workdir):
    keys = keyslot_keys()
    port = BASE_PORT
    with Servers(workdir, [port]) as srv:
        c = srv.client(port)
        slots = []
        for i in range(0, len(keys), 1000):
            pipe = c.pipeline(transaction=False)
            for _, k in keys[i:i + 1000]:
                pipe.execute_command('CLUSTER', 'KEYSLOT', k)
            slots.extend(int(x) for x in pipe.execute())
    bad = sum(1 for (_, k), s in zip(keys, slots) if rule_slot(k) != s)
    out = CsvOut(os.path.join(HERE, 'keyslots.csv'),
                 ['category', 'key_hex', 'slot'])
    for (cat, k), s in zip(keys, slots):
        out.row([cat, k.hex(), s])
    out.close()
    print('keyslots.csv: %d keys; %d differ from the documented rule'
          % (len(keys), bad))
    if bad:
        raise SystemExit('CLUSTER KEYSLOT disagrees with the documented rule')


# --------------------------------------------------------------- layouts --

def node_table(client):
    """{node id: (port, flags, [(start, end), ...])} from CLUSTER NODES."""
    raw = client.execute_command('CLUSTER', 'NODES')
    if isinstance(raw, bytes):
        raw = raw.decode()
    table = {}
    for line in raw.splitlines():
        f = line.split()
        if not f:
            continue
        port = int(f[1].split('@')[0].rsplit(':', 1)[1])
        ranges = []
        for r in f[8:]:
            if r.startswith('['):       # migrating/importing marker
                continue
            a, _, b = r.partition('-')
            ranges.append((int(a), int(b or a)))
        table[f[0]] = (port, f[2], sorted(ranges))
    return table


def wait_converged(srv, ports, timeout=600):
    """Until every node reports the same slot map covering all slots and
    `redis-cli --cluster check` passes."""
    deadline = time.time() + timeout
    while True:
        views = []
        for p in ports:
            t = node_table(srv.client(p))
            views.append(sorted((port, tuple(rs)) for port, _, rs in
                                t.values()))
        ok = all(v == views[0] for v in views) and len(views[0]) == len(ports)
        covered = sum(b - a + 1 for _, rs in views[0] for a, b in rs)
        if ok and covered == SLOTS:
            r = subprocess.run(['redis-cli', '--cluster', 'check',
                                '%s:%d' % (HOST, ports[0])],
                               stdin=subprocess.DEVNULL, capture_output=True)
            if r.returncode == 0:
                return {port: list(rs) for port, rs in views[0]}
        if time.time() > deadline:
            raise SystemExit('cluster did not converge')
        time.sleep(0.5)


def layout_rows(layout, ports):
    """Rows (node index, start, end, count) ordered by node, then slot."""
    rows = []
    for i, p in enumerate(ports):
        for a, b in layout.get(p, []):
            rows.append((i, a, b, b - a + 1))
    return rows


def gen_layouts(workdir):
    out = CsvOut(os.path.join(HERE, 'create_layouts.csv'),
                 ['masters', 'node', 'slot_start', 'slot_end', 'slot_count'])
    for n in CREATE_SIZES:
        ports = [BASE_PORT + i for i in range(n)]
        d = os.path.join(workdir, 'create-%d' % n)
        t0 = time.time()
        with Servers(d, ports) as srv:
            log = redis_cli('--cluster', 'create',
                            *['%s:%d' % (HOST, p) for p in ports],
                            '--cluster-replicas', '0', '--cluster-yes')
            layout = wait_converged(srv, ports)
        shutil.rmtree(d, ignore_errors=True)
        rows = layout_rows(layout, ports)
        # redis-cli prints its plan as "Master[i] -> Slots a - b"; with one
        # IP the master order is the command-line order.
        printed = [tuple(int(x) for x in m.groups()) for m in re.finditer(
            r'Master\[(\d+)\] -> Slots (\d+) - (\d+)', log)]
        if [(i, a, b) for i, a, b, _ in rows] != printed:
            raise SystemExit('create %d: CLUSTER NODES differs from the plan '
                             'redis-cli printed' % n)
        model = 'matches' if [(a, b) for _, a, b, _ in rows] == \
            model_create(n) else 'DIFFERS FROM'
        for r in rows:
            out.row([n] + list(r))
        print('create %3d masters: %5.1fs, layout %s the float32 model'
              % (n, time.time() - t0, model))
    out.close()


def f32(x):
    return struct.unpack('f', struct.pack('f', x))[0]


def model_create(n):
    """redis-cli's arithmetic in IEEE single precision (check only)."""
    spn = f32(SLOTS / f32(n))
    first, cursor, out = 0, 0.0, []
    for i in range(n):
        x = f32(f32(cursor + spn) - 1.0)
        last = math.floor(x + 0.5)              # lround, x >= 0 here
        if last > SLOTS or i == n - 1:
            last = SLOTS - 1
        if last < first:
            last = first
        out.append((first, last))
        first = last + 1
        cursor = f32(cursor + spn)
    return out


# ------------------------------------------------------------- rebalance --

def gen_rebalance(workdir):
    ports = [BASE_PORT + i for i in range(4)]
    d = os.path.join(workdir, 'rebalance')
    path = os.path.join(HERE, 'rebalance.csv')
    steps = []
    with Servers(d, ports) as srv:
        addr = ['%s:%d' % (HOST, p) for p in ports]
        ids = {p: srv.client(p).execute_command('CLUSTER', 'MYID')
               for p in ports}
        ids = {p: (v.decode() if isinstance(v, bytes) else v)
               for p, v in ids.items()}

        redis_cli('--cluster', 'create', *addr[:3], '--cluster-replicas',
                  '0', '--cluster-yes')
        steps.append(('create_3', wait_converged(srv, ports[:3])))

        redis_cli('--cluster', 'add-node', addr[3], addr[0])
        # the new node owns nothing; wait until all four agree on that
        deadline = time.time() + 120
        while True:
            views = [node_table(srv.client(p)) for p in ports]
            if all(len(v) == 4 for v in views):
                r = subprocess.run(['redis-cli', '--cluster', 'check',
                                    addr[0]], stdin=subprocess.DEVNULL,
                                   capture_output=True)
                if r.returncode == 0:
                    break
            if time.time() > deadline:
                raise SystemExit('add-node did not converge')
            time.sleep(0.5)
        steps.append(('add_node_4', {v[0]: v[2] for v in views[0].values()}))

        def moves(log):
            for m in re.finditer(r'Moving (\d+) slots from [\d.]+:(\d+) '
                                 r'to [\d.]+:(\d+)', log):
                print('  moving %s slots from node %d to node %d'
                      % (m.group(1), ports.index(int(m.group(2))),
                         ports.index(int(m.group(3)))))

        log = redis_cli('--cluster', 'rebalance', addr[0],
                        '--cluster-use-empty-masters')
        steps.append(('rebalance_equal', wait_converged(srv, ports)))
        print('rebalance, equal weights:')
        moves(log)

        # weights by node id: node0=1 node1=2 node2=4 node3=1 (total 8)
        weights = [1, 2, 4, 1]
        log = redis_cli('--cluster', 'rebalance', addr[0], '--cluster-weight',
                        *['%s=%d' % (ids[p], wt)
                          for p, wt in zip(ports, weights)])
        steps.append(('rebalance_weight_1_2_4_1', wait_converged(srv, ports)))
        print('rebalance, weights 1,2,4,1:')
        moves(log)

    out = CsvOut(path, ['step', 'node', 'slot_start', 'slot_end',
                        'slot_count'])
    for name, layout in steps:
        for r in layout_rows(layout, ports):
            out.row([name] + list(r))
    out.close()
    print('rebalance.csv: %s' % ', '.join(s for s, _ in steps))
    shutil.rmtree(d, ignore_errors=True)


# ------------------------------------------------------------------ main --

def main():
    # SIGTERM/SIGINT unwind through the context managers, which stop the
    # servers started so far.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit('terminated'))
    what = sys.argv[1:] or ['keyslots', 'layouts', 'rebalance']
    print(version())
    workdir = tempfile.mkdtemp(prefix='redis-vectors-')
    try:
        for w in what:
            {'keyslots': gen_keyslots, 'layouts': gen_layouts,
             'rebalance': gen_rebalance}[w](workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == '__main__':
    main()
