#!/usr/bin/python3
"""Independent reference for jump_consistent_hash: Lamping & Veach (2014),
the paper's reference code transcribed to Python (64-bit wrap-around LCG,
the jump in double precision).  Prints a CSV of (key, buckets, bucket) that
sql/jump.sql compares with the extension.

    /usr/bin/python3 test/vectors/jump_reference.py > test/vectors/jump.csv
"""
import csv
import sys

MASK = (1 << 64) - 1


def jump(key, buckets):
    key &= MASK
    b, j = -1, 0
    while j < buckets:
        b = j
        key = (key * 2862933555777941757 + 1) & MASK
        j = int(float(b + 1) * (float(1 << 31) / float((key >> 33) + 1)))
    return b


def main():
    out = csv.writer(sys.stdout, lineterminator='\n')
    out.writerow(['key', 'buckets', 'bucket'])
    keys = [0, 1, 2, 42, 123456789, 2**31, 2**32 + 7, 2**63 - 1, -1, -(2**63), -123456789]
    keys += [(i * 0x9E3779B97F4A7C15) % (1 << 64) - (1 << 63) for i in range(1, 200)]
    for k in keys:
        for n in [1, 2, 3, 5, 10, 100, 1000, 65536, 2147483647]:
            out.writerow([k, n, jump(k, n)])


if __name__ == '__main__':
    main()
