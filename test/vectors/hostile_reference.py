#!/usr/bin/python3
"""Independent positions for the randomized tests: sql/hostile.sql and
test/churn/.

Written from the placement rules in doc/placement.md, with python3-xxhash (Debian),
not from the C sources (position() is vnode_reference.py's).  Prints a CSV
of the keys those tests draw and the virtual-node tokens of the node names
they use, so that their reference owners do not come from ring_hash, the
function under test.

    apt-get install python3-xxhash
    /usr/bin/python3 test/vectors/hostile_reference.py hostile > test/vectors/hostile.csv
    /usr/bin/python3 test/vectors/hostile_reference.py churn > test/vectors/churn.csv

hostile.csv: (kind, key_type, key, i, position).  A 'token' row is virtual
node i of the node named key; any other kind is a pool of keys of one SQL
type (key in its text form, NULL for a NULL key of that type, position
NULL then), which sql/hostile.sql draws from.

churn.csv: (string, position) for the keys 'key-<k>' and the virtual nodes
'<node>-<i>' of test/churn/.
"""
import datetime
import random
import sys
import uuid

from vnode_reference import position

# sql/hostile.sql: the valid names of its node pool (empty and over-200-byte
# names are refused), and the most virtual nodes a node of a weight of the
# weight pool other than 5000 can get (3.7 x 32 = 118)
HOSTILE_NODES = ['a', 'b', 'c', 'd', 'a-1', 'a-1-0', 'nœud', ' ', 'n' * 200, 'é' * 100, '\x01\x02']
HOSTILE_TOKENS = 128

# test/churn/: nodes 'anchor' and n1 .. n12 of weight up to 3 on a ring of
# 16 virtual nodes per unit; keys key-1 .. key-CHURN_KEYS
CHURN_NODES = ['anchor'] + ['n%d' % i for i in range(1, 13)]
CHURN_TOKENS = 3 * 16
CHURN_KEYS = 5000


def hostile_keys(rng):
    """(kind, key_type, text form, bytes hashed) of the key pool."""
    for n in sorted(rng.sample(range(1000000), 60)):
        yield 'k', 'text', f'k{n}', None
    for n in [0, 1, 2999] + sorted(rng.sample(range(3, 2999), 27)):
        yield 'z', 'text', 'z' * n, None
    for n in range(0, 100, 3):
        yield 'é', 'text', f'é{n}', None
    for v in [-32768, 32767, 0] + sorted(rng.sample(range(-32767, 32767), 37)):
        yield 'smallint', 'smallint', str(v), None
    for v in [-2147483648, 2147483647, 0] + sorted(rng.sample(range(-2147483647, 2147483647), 37)):
        yield 'integer', 'integer', str(v), None
    for v in [9223372036854775807, 0] + sorted(rng.randrange(-9 * 10**18, 9 * 10**18) for _ in range(38)):
        yield 'bigint', 'bigint', str(v), None
    yield 'bigint_min', 'bigint', '-9223372036854775808', None
    for _ in range(40):
        yield 'uuid', 'uuid', str(uuid.UUID(int=rng.getrandbits(128))), None
    for _ in range(40):
        b = rng.getrandbits(128).to_bytes(16, 'big')
        yield 'bytea', 'bytea', '\\x' + b.hex(), b
    yield 'bytea_empty', 'bytea', '\\x', b''
    for n in [0, 999999, 500] + sorted(rng.sample(range(1, 999999), 37)):
        yield 'numeric', 'numeric', f'{n // 1000}.{n % 1000:03d}', None
    start = datetime.date(2024, 1, 1)
    for d in sorted(rng.sample(range(1000), 40)):
        yield 'date', 'date', (start + datetime.timedelta(days=d)).isoformat(), None
    yield 'null_text', 'text', None, None
    yield 'null_integer', 'integer', None, None


def hostile(out):
    out.writerow(['kind', 'key_type', 'key', 'i', 'position'])
    seen = set()
    for kind, ktype, text, data in hostile_keys(random.Random(4242)):
        if (ktype, text) in seen:
            continue
        seen.add((ktype, text))
        pos = None if text is None else position(data if data is not None else text.encode())
        out.writerow([kind, ktype, text, None, pos])
    for node in HOSTILE_NODES:
        for i in range(HOSTILE_TOKENS):
            out.writerow(['token', 'text', node, i, position(f'{node}-{i}'.encode())])


def churn(out):
    out.writerow(['string', 'position'])
    for k in range(1, CHURN_KEYS + 1):
        out.writerow([f'key-{k}', position(f'key-{k}'.encode())])
    for node in CHURN_NODES:
        for i in range(CHURN_TOKENS):
            out.writerow([f'{node}-{i}', position(f'{node}-{i}'.encode())])


class Writer:
    """CSV as COPY reads it: strings quoted (so an empty one stays empty),
    numbers bare, None as an empty unquoted field (NULL)."""

    def writerow(self, row):
        sys.stdout.write(','.join('' if v is None else str(v) if isinstance(v, int)
                                  else '"' + v.replace('"', '""') + '"' for v in row) + '\n')


def main():
    {'hostile': hostile, 'churn': churn}[sys.argv[1]](Writer())


if __name__ == '__main__':
    main()
