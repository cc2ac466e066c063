#!/usr/bin/python3
"""Reference vectors for the 'cassandra' placement mode, computed with the
DataStax Python driver for Apache Cassandra (Debian python3-cassandra).

  tokens.csv    partition key -> routing key bytes -> Murmur3 token, for the
                CQL types text, int, bigint, smallint, uuid, blob and for
                composite partition keys.  The bytes come from the driver's
                own serializers through PreparedStatement.bind() /
                BoundStatement.routing_key, the token from
                cassandra.metadata.Murmur3Token.from_key().
  nodes.csv     the rings: node, datacenter, rack, token (one row a token)
  replicas.csv  ordered replica lists for tokens/keys on those rings, from
                cassandra.metadata.Metadata / TokenMap with SimpleStrategy
                (RF 1, 2, 3) and NetworkTopologyStrategy ({'dc1': 3}).

Deterministic (fixed seeds, no clock, no network).  See README.md.

    /usr/bin/python3 test/vectors/cassandra/generate.py
"""
import os
import random
import sys
import uuid

import cassandra
from cassandra import cqltypes
from cassandra.metadata import (KeyspaceMetadata, Metadata, Murmur3Token,
                                MIN_LONG, MAX_LONG)
from cassandra.murmur3 import _murmur3, murmur3
from cassandra.policies import SimpleConvictionPolicy
from cassandra.pool import Host
from cassandra.protocol import ColumnMetadata
from cassandra.query import PreparedStatement

HERE = os.path.dirname(os.path.abspath(__file__))
PROTOCOL_VERSION = 4
PARTITIONER = 'org.apache.cassandra.dht.Murmur3Partitioner'

CQL = {
    'text': cqltypes.UTF8Type,
    'int': cqltypes.Int32Type,
    'bigint': cqltypes.LongType,
    'smallint': cqltypes.ShortType,
    'uuid': cqltypes.UUIDType,
    'blob': cqltypes.BytesType,
}


# ------------------------------------------------------------ routing key --

def routing_key(types, values):
    """The driver's routing key for a partition key of these CQL types."""
    cols = [ColumnMetadata('ks', 't', 'pk%d' % i, CQL[t])
            for i, t in enumerate(types)]
    ps = PreparedStatement(cols, b'\x00', list(range(len(types))),
                           'SELECT * FROM ks.t WHERE ...', 'ks',
                           PROTOCOL_VERSION, None, None)
    return ps.bind(list(values)).routing_key


class CsvOut:
    """CSV for PostgreSQL's COPY ... (FORMAT csv, HEADER): None is written
    as an empty unquoted field (NULL), '' as "" (empty string)."""

    def __init__(self, path, header):
        self.f = open(path, 'w', newline='', encoding='utf-8')
        self.row(header)

    @staticmethod
    def field(v):
        if v is None:
            return ''
        if isinstance(v, int):
            return str(v)
        if v == '' or any(c in v for c in ',"\n\r'):
            return '"' + v.replace('"', '""') + '"'
        return v

    def row(self, values):
        self.f.write(','.join(self.field(v) for v in values) + '\n')

    def close(self):
        self.f.close()


def text_form(t, v):
    """The value as text PostgreSQL casts to the matching type."""
    if t == 'blob':
        return '\\x' + v.hex()
    return str(v)


def pg_array(items):
    """A PostgreSQL text[] literal; elements are double-quoted (with \\ and
    \" escaped) unless they are plain words."""
    out = []
    for s in items:
        if s and s.upper() != 'NULL' and \
                all(c.isalnum() or c in '_-.:' for c in s) and s.isascii():
            out.append(s)
        else:
            out.append('"' + s.replace('\\', '\\\\').replace('"', '\\"')
                       + '"')
    return '{' + ','.join(out) + '}'


# ----------------------------------------------------------------- values --

def inverse_murmur3_16(h1, h2=0):
    """A 16-byte key whose Murmur3 x64-128 (seed 0) is (h1, h2): the body
    round and finalisation run backwards (Cassandra's
    MurmurHash.inv_hash3_x64_128 does the same).  Only used to find keys
    hitting chosen tokens; the tokens written are the driver's."""
    M = (1 << 64) - 1
    c1, c2 = 0x87c37b91114253d5, 0x4cf5ad432745937f
    ic1, ic2 = pow(c1, -1, 1 << 64), pow(c2, -1, 1 << 64)
    i5 = pow(5, -1, 1 << 64)

    def unxorshift33(x):
        return x ^ (x >> 33)        # x ^= x >> 33 is its own inverse

    def inv_fmix(k):
        k = unxorshift33(k)
        k = (k * pow(0xc4ceb9fe1a85ec53, -1, 1 << 64)) & M
        k = unxorshift33(k)
        k = (k * pow(0xff51afd7ed558ccd, -1, 1 << 64)) & M
        return unxorshift33(k)

    def rotr(x, r):
        return ((x >> r) | (x << (64 - r))) & M

    h1 &= M
    h2 &= M
    h2 = (h2 - h1) & M
    h1 = (h1 - h2) & M
    h1, h2 = inv_fmix(h1), inv_fmix(h2)
    h2 = (h2 - h1) & M
    h1 = (h1 - h2) & M
    h1 ^= 16
    h2 ^= 16
    # body round, backwards (initial h1 = h2 = 0)
    h2 = ((h2 - 0x38495ab5) * i5) & M
    h2 = (h2 - h1) & M
    k2 = rotr(h2, 31)                       # h2 ^= k2 with h2 = 0
    k2 = (k2 * ic1) & M
    k2 = rotr(k2, 33)
    k2 = (k2 * ic2) & M
    h1 = ((h1 - 0x52dce729) * i5) & M       # h1 += h2 with h2 = 0
    k1 = rotr(h1, 27)
    k1 = (k1 * ic2) & M
    k1 = rotr(k1, 31)
    k1 = (k1 * ic1) & M
    return k1.to_bytes(8, 'little') + k2.to_bytes(8, 'little')


def token_keys():
    """(types, values) in a fixed order."""
    rng = random.Random(0xCA55_A11D)
    rows = []

    def add(types, values):
        rows.append((tuple(types), tuple(values)))

    # text: empty, ASCII, multi-byte UTF-8 (2, 3, 4 bytes), combining
    # marks, CSV-hostile characters, every length 0..48 (Murmur3 tails),
    # long strings.  No U+0000: PostgreSQL text cannot hold it (blob keys
    # cover NUL bytes).
    ranges = [(0x20, 0x7e), (0xa0, 0x24f), (0x370, 0x3ff), (0x400, 0x4ff),
              (0x590, 0x6ff), (0x3040, 0x30ff), (0x4e00, 0x9fff),
              (0xac00, 0xd7a3), (0x1f300, 0x1f6ff), (0x300, 0x36f),
              (0x10000, 0x1007f), (0xe000, 0xf8ff)]

    def utext(n):
        out = []
        for _ in range(n):
            lo, hi = rng.choice(ranges)
            out.append(chr(rng.randint(lo, hi)))
        return ''.join(out)
    fixed = ['', 'a', 'foo', 'bar', 'key', 'hello', 'Hello, World!',
             'user1000', 'Ünïcödé', '日本語', 'кириллица', '😀', '👍🏽',
             'e\u0301', 'é', '"quoted"', 'comma,separated', 'back\\slash',
             'tab\tand\nnewline', ' leading space', 'trailing space ',
             '{braces}', '\x7f', '\u00ff', '\uffff', '\U0010ffff']
    for s in fixed:
        add(['text'], [s])
    for n in range(0, 49):
        add(['text'], ['x' * n])
        add(['text'], [''.join(rng.choice('abcdefghijklmnopqrstuvwxyz0123'
                                          '456789') for _ in range(n))])
    for i in range(2500):
        add(['text'], ['key-%d' % i])
    for _ in range(1500):
        add(['text'], [''.join(chr(rng.randint(0x20, 0x7e))
                               for _ in range(rng.randint(1, 40)))])
    for _ in range(1500):
        add(['text'], [utext(rng.randint(1, 24))])
    for n in [64, 100, 255, 256, 1000, 4096]:
        add(['text'], [''.join(chr(rng.randint(0x21, 0x7e))
                               for _ in range(n))])

    # int, bigint, smallint: boundaries, small values, random values.
    def ints(bits, count):
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        vals = [0, 1, -1, 2, -2, 127, 128, -128, -129, 255, 256, lo, lo + 1,
                hi, hi - 1]
        if bits > 16:
            vals += [32767, 32768, -32768, -32769, 65535, 65536]
        if bits > 32:
            vals += [2 ** 31 - 1, 2 ** 31, -2 ** 31, -2 ** 31 - 1,
                     2 ** 32 - 1, 2 ** 32]
        vals += list(range(2, 300))
        vals += [rng.randint(lo, hi) for _ in range(count)]
        vals += [rng.randint(-1000, 1000) for _ in range(count // 10)]
        seen, out = set(), []
        for v in vals:
            if v not in seen:
                seen.add(v)
                out.append(v)
        return out
    for v in ints(32, 2500):
        add(['int'], [v])
    for v in ints(64, 2500):
        add(['bigint'], [v])
    for v in ints(16, 1500):
        add(['smallint'], [v])

    # uuid: nil, max, version 1 and 4 from fixed bits.
    add(['uuid'], [uuid.UUID(int=0)])
    add(['uuid'], [uuid.UUID(int=(1 << 128) - 1)])
    add(['uuid'], [uuid.UUID('00000000-0000-0000-0000-000000000001')])
    add(['uuid'], [uuid.UUID('123e4567-e89b-12d3-a456-426614174000')])
    for _ in range(1500):
        add(['uuid'], [uuid.UUID(int=rng.getrandbits(128), version=4)])
    for _ in range(500):
        add(['uuid'], [uuid.UUID(int=rng.getrandbits(128), version=1)])

    # blob: empty, every length 1..48 with high bytes in the Murmur3 tail,
    # random bytes, and keys that hash to chosen tokens.
    add(['blob'], [b''])
    for n in range(1, 49):
        add(['blob'], [b'\xff' * n])
        add(['blob'], [b'\x80' * n])
        add(['blob'], [b'\x7f' * n])
        add(['blob'], [b'\x00' * n])
        add(['blob'], [bytes(rng.randrange(128, 256) for _ in range(n))])
    for _ in range(3000):
        add(['blob'], [bytes(rng.randrange(256)
                             for _ in range(rng.randint(1, 64)))])
    for t in [MIN_LONG, MIN_LONG + 1, MAX_LONG, MAX_LONG - 1, 0, 1, -1]:
        for h2 in (0, 1):
            add(['blob'], [inverse_murmur3_16(t, h2)])

    # composite partition keys
    def value(t):
        if t == 'text':
            r = rng.random()
            if r < 0.1:
                return ''
            if r < 0.6:
                return 'k%d' % rng.randrange(100000)
            return utext(rng.randint(1, 12))
        if t == 'int':
            return rng.choice([0, -1, 1, rng.randint(-2 ** 31, 2 ** 31 - 1),
                               rng.randint(-100, 100)])
        if t == 'bigint':
            return rng.choice([0, -1, MAX_LONG, MIN_LONG,
                               rng.randint(MIN_LONG, MAX_LONG)])
        if t == 'smallint':
            return rng.randint(-32768, 32767)
        if t == 'uuid':
            return uuid.UUID(int=rng.getrandbits(128), version=4)
        if t == 'blob':
            return bytes(rng.randrange(256) for _ in range(rng.randint(0, 20)))
        raise ValueError(t)
    combos = [('text', 'int'), ('int', 'text'), ('text', 'text'),
              ('uuid', 'bigint'), ('bigint', 'smallint', 'text'),
              ('blob', 'int'), ('int', 'int', 'int', 'int'),
              ('text', 'uuid', 'smallint', 'blob')]
    for combo in combos:
        for _ in range(600):
            add(combo, [value(t) for t in combo])
        add(combo, [{'text': '', 'blob': b'', 'int': 0, 'bigint': 0,
                     'smallint': 0, 'uuid': uuid.UUID(int=0)}[t]
                    for t in combo])
    add(('text', 'text'), ['a' * 300, 'b' * 1000])
    return rows


def gen_tokens():
    rows = token_keys()
    out = CsvOut(os.path.join(HERE, 'tokens.csv'),
                 ['type', 'value', 'key_hex', 'token'])
    stats = {'min_hash': 0, 'empty': 0, 'rows': 0}
    seen = set()
    for types, values in rows:
        key = routing_key(types, values)
        if (types, key) in seen:
            continue
        seen.add((types, key))
        stats['rows'] += 1
        token = Murmur3Token.from_key(key).value
        raw = murmur3(key)
        # the driver's C extension and its pure-Python fallback agree
        assert _murmur3(key) == raw, key.hex()
        if raw == MIN_LONG:
            stats['min_hash'] += 1
            assert token == MAX_LONG
        else:
            assert token == raw
        if not key:
            stats['empty'] += 1
        if len(types) == 1:
            typ, val = types[0], text_form(types[0], values[0])
        else:
            typ = ','.join(types)
            val = pg_array([text_form(t, v) for t, v in
                            zip(types, values)])
        out.row([typ, val, key.hex(), token])
    out.close()
    print('tokens.csv: %d keys (%d hash to Long.MIN_VALUE, %d empty)'
          % (stats['rows'], stats['min_hash'], stats['empty']))


# ------------------------------------------------------------------ rings --

def rack_layout(kind, n):
    """Rack name of each of n nodes."""
    if kind.startswith('rr'):                   # round robin over k racks
        k = int(kind[2:])
        return ['r%d' % (i % k + 1) for i in range(n)]
    if kind == 'one':
        return ['r1'] * n
    if kind == 'each':                          # a rack per node
        return ['r%d' % (i + 1) for i in range(n)]
    if kind == 'uneven':                        # r1: 1 node, r2: 2, r3: rest
        return ['r1' if i == 0 else 'r2' if i in (1, 2) else 'r3'
                for i in range(n)]
    if kind == 'uneven2':                       # r1: 1 node, r2: the rest
        return ['r1' if i == 0 else 'r2' for i in range(n)]
    if kind == 'block4':                        # 4 racks in blocks
        return ['r%d' % (i * 4 // n + 1) for i in range(n)]
    raise ValueError(kind)


def node_tokens(scheme, n, rng):
    """Token lists per node."""
    if scheme == 'even':
        # Cassandra's classic initial_token spacing: i * 2^64 / n - 2^63
        return [[(i * (1 << 64)) // n - (1 << 63)] for i in range(n)]
    k = int(scheme[4:])                         # rand1, rand4, rand16
    seen = set()
    out = []
    for _ in range(n):
        toks = []
        while len(toks) < k:
            t = rng.randint(MIN_LONG, MAX_LONG)
            if t not in seen:
                seen.add(t)
                toks.append(t)
        out.append(sorted(toks))
    return out


def rings():
    """(name, [(node, dc, rack, [tokens])])"""
    rng = random.Random(0x5EED_2B17)
    out = []
    for n in [1, 2, 3, 5, 10, 31, 100]:
        for scheme in ['even', 'rand1', 'rand4', 'rand16']:
            racks = rack_layout('rr3', n)
            toks = node_tokens(scheme, n, rng)
            out.append(('n%d_%s_rr3' % (n, scheme), n, racks, toks))
    for n in [2, 3, 5, 10, 31, 100]:
        scheme = 'rand1' if n <= 5 else 'rand4'
        for kind in ['rr2', 'rr4', 'one', 'each', 'uneven', 'uneven2',
                     'block4']:
            racks = rack_layout(kind, n)
            toks = node_tokens(scheme, n, rng)
            out.append(('n%d_%s_%s' % (n, scheme, kind), n, racks, toks))
    result = []
    for name, n, racks, toks in out:
        width = max(2, len(str(n - 1)))
        nodes = [('n%0*d' % (width, i), 'dc1', racks[i], toks[i])
                 for i in range(n)]
        result.append((name, nodes))
    return result


STRATEGIES = [
    ('simple1', 'SimpleStrategy', {'replication_factor': '1'}),
    ('simple2', 'SimpleStrategy', {'replication_factor': '2'}),
    ('simple3', 'SimpleStrategy', {'replication_factor': '3'}),
    ('nts3', 'NetworkTopologyStrategy', {'dc1': '3'}),
]


def build_metadata(nodes):
    md = Metadata()
    hosts = {}
    token_map = {}
    for name, dc, rack, toks in nodes:
        h = Host(name, SimpleConvictionPolicy)   # endpoint = the node name
        h.set_location_info(dc, rack)
        hosts[name] = h
        token_map[h] = [str(t) for t in toks]
    for ks, cls, opts in STRATEGIES:
        md.keyspaces[ks] = KeyspaceMetadata(
            ks, True, 'org.apache.cassandra.locator.' + cls, opts)
    md.rebuild_token_map(PARTITIONER, token_map)
    return md


def gen_rings():
    rng = random.Random(0x4EB1_1CA5)
    all_rings = rings()
    out = CsvOut(os.path.join(HERE, 'nodes.csv'),
                 ['ring', 'node', 'dc', 'rack', 'token'])
    for ring, nodes in all_rings:
        for name, dc, rack, toks in nodes:
            for t in toks:
                out.row([ring, name, dc, rack, t])
    out.close()
    total = 0
    out = CsvOut(os.path.join(HERE, 'replicas.csv'),
                 ['ring', 'key', 'token'] + [s for s, _, _ in STRATEGIES])
    for ring, nodes in all_rings:
        md = build_metadata(nodes)
        tm = md.token_map
        ring_tokens = [t.value for t in tm.ring]
        # probe tokens: the extremes, ring tokens and their neighbours
        # (a token belongs to the first ring token >= it, wrapping)
        probes = [MIN_LONG, MIN_LONG + 1, -1, 0, 1, MAX_LONG - 1, MAX_LONG]
        sample = ring_tokens if len(ring_tokens) <= 30 else \
            sorted(rng.sample(ring_tokens, 30))
        for t in sample:
            probes += [t - 1, t, t + 1]
        probes = sorted(set(p for p in probes if MIN_LONG <= p <= MAX_LONG))
        nkeys = 150 if len(ring_tokens) <= 100 else 100
        rows = []
        for t in probes:
            reps = [tm.get_replicas(ks, Murmur3Token(t))
                    for ks, _, _ in STRATEGIES]
            rows.append((None, t, reps))
        for i in range(nkeys):
            key = ('%s:%d' % (ring, i)).encode()
            t = Murmur3Token.from_key(key).value
            reps = [md.get_replicas(ks, key) for ks, _, _ in STRATEGIES]
            rows.append((key.decode(), t, reps))
        for key, t, reps in rows:
            out.row([ring, key, t] +
                    [pg_array([h.endpoint.address for h in r])
                     for r in reps])
        total += len(rows)
    out.close()
    print('nodes.csv: %d rings; replicas.csv: %d rows'
          % (len(all_rings), total))


def main():
    print('python3-cassandra %s, murmur3 from %s'
          % (cassandra.__version__, getattr(murmur3, '__module__', '?')))
    what = sys.argv[1:] or ['tokens', 'rings']
    for w in what:
        {'tokens': gen_tokens, 'rings': gen_rings}[w]()


if __name__ == '__main__':
    main()
