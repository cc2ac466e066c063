#!/usr/bin/python3
"""Independent reference for the 'vnode' placement rules of consistent_ring.

Written from the rules in doc/placement.md, with python3-xxhash (Debian), not from
the C sources.  It prints a CSV of (ring, key_type, key_text, position,
owner, replicas) that sql/ring_vectors.sql compares with the extension.

    apt-get install python3-xxhash
    /usr/bin/python3 test/vectors/vnode_reference.py > test/vectors/vnode.csv
"""
import bisect
import csv
import math
import sys
import uuid

import xxhash

# The rings of sql/ring_vectors.sql: name -> (vnodes, [(node, weight), ...])
RINGS = {
    'four': (256, [('db1', 1), ('db2', 1), ('db3', 1), ('db4', 1)]),
    'weighted': (16, [('small', 0.5), ('big', 2.5), ('unit', 1), ('drained', 0),
                      ('tiny', 0.01), ('nœud-é', 1.25), ('half', 2.53125)]),
    'single': (1, [('only', 1)]),
    'many': (64, [('node%03d' % i, 1 + (i % 3)) for i in range(100)]),
}


def position(data: bytes) -> int:
    """XXH3-64 (seed 0) of the bytes, as a signed 64-bit integer."""
    h = xxhash.xxh3_64_intdigest(data)
    return h - (1 << 64) if h >= (1 << 63) else h


def virtual_nodes(vnodes: int, weight: float) -> int:
    """round(vnodes * weight), half away from zero; at least 1 if weight > 0."""
    if weight <= 0:
        return 0
    x = vnodes * weight
    n = math.floor(x)
    if x - n >= 0.5:
        n += 1
    return max(1, n)


def build(vnodes, nodes):
    tokens = {}
    for name, weight in nodes:
        for i in range(virtual_nodes(vnodes, weight)):
            t = position(f'{name}-{i}'.encode('utf-8'))
            # equal tokens: the node whose name sorts first by bytes wins
            if t not in tokens or name.encode() < tokens[t].encode():
                tokens[t] = name
    keys = sorted(tokens)
    return keys, [tokens[k] for k in keys]


def owner_index(keys, pos):
    i = bisect.bisect_left(keys, pos)
    return 0 if i == len(keys) else i


def replicas(keys, owners, pos, n):
    out = []
    i = owner_index(keys, pos)
    distinct = len(set(owners))
    while len(out) < min(n, distinct):
        if owners[i] not in out:
            out.append(owners[i])
        i = (i + 1) % len(keys)
    return out


def keys_of_every_type():
    """(type, text form as given to SQL, bytes hashed) for many keys."""
    for i in range(300):
        s = f'song-{i}'
        yield 'text', s, s.encode()
    for s in ['', ' ', 'é', '日本語', 'a' * 1000, 'tab\there', '42']:
        yield 'text', s, s.encode()
    for v in [0, 1, -1, 42, 32767, -32768]:
        yield 'smallint', str(v), str(v).encode()
    for v in [0, 7, -7, 123456, 2147483647, -2147483648] + list(range(1000, 1100)):
        yield 'integer', str(v), str(v).encode()
    for v in [0, 9223372036854775807, -9223372036854775808, 10**12]:
        yield 'bigint', str(v), str(v).encode()
    for i in range(50):
        u = uuid.UUID(int=(i * 0x9E3779B97F4A7C15F39CC0605CEDC834) % (1 << 128))
        yield 'uuid', str(u).upper() if i % 2 else str(u), str(u).encode()
    for b in [b'', b'\x00', b'\xff\xfe', b'abc', bytes(range(256))]:
        yield 'bytea', '\\x' + b.hex(), b


def main():
    out = csv.writer(sys.stdout, lineterminator='\n', quoting=csv.QUOTE_ALL)
    out.writerow(['ring', 'key_type', 'key', 'position', 'owner', 'replicas3'])
    for ring, (vnodes, nodes) in RINGS.items():
        keys, owners = build(vnodes, nodes)
        for ktype, ktext, kbytes in keys_of_every_type():
            pos = position(kbytes)
            o = owners[owner_index(keys, pos)]
            reps = replicas(keys, owners, pos, 3)
            out.writerow([ring, ktype, ktext, pos, o,
                          '{' + ','.join('"%s"' % r for r in reps) + '}'])


if __name__ == '__main__':
    main()
