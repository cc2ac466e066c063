#!/usr/bin/python3
"""Model of the ketama placement rules described in ../README.md.

This is NOT a source of fixture values: every placement in ../placements.csv
comes from running the real clients.  The model is used for two things only:

  * choosing edge-case keys (keys whose hash falls exactly on a continuum
    point, beyond the last point, at or below the first point, or on a
    point shared by two servers) and tie server pairs, by searching;
  * checking, after generation, that the rules written in the README
    reproduce every recorded placement (tools/check.py).
"""
import bisect
import hashlib
import math
import struct

DEFAULT_PORT = 11211


def md5_words(data: bytes):
    """The four little-endian 32-bit words of MD5(data)."""
    return struct.unpack('<4I', hashlib.md5(data).digest())


def key_hash(key: bytes) -> int:
    """Key hash shared by all clients: first MD5 word, little endian."""
    return md5_words(key)[0]


def f32(x: float) -> float:
    """Round a double to the nearest IEEE-754 single (ties to even)."""
    return struct.unpack('<f', struct.pack('<f', x))[0]


def label(host: str, port: int) -> str:
    """libmemcached / twemproxy point-string prefix for an unnamed server."""
    return host if port == DEFAULT_PORT else '%s:%d' % (host, port)


# --------------------------------------------------------------------------
# points per server

def segments_lmc(weight: int, total: int, n: int) -> int:
    """Digests per server, libmemcached weighted mode and twemproxy.

    floor((float)(pct * 160 / 4 * (float)n + 1e-10)) with pct a float and
    every operation rounded to single precision.
    """
    pct = f32(f32(weight) / f32(total))
    v = f32(pct * 160.0)
    v = f32(v / 4.0)
    v = f32(v * f32(n))
    v = f32(v + f32(1e-10))
    return int(math.floor(v))


def segments_libketama(weight: int, total: int, n: int) -> int:
    """Digests per server, libketama: floorf(pct * 40.0 * (float)n).

    pct is a float, the product is evaluated in double and rounded to float
    when it is passed to floorf().
    """
    pct = f32(f32(weight) / f32(total))
    return int(math.floor(f32(pct * 40.0 * f32(n))))


def segments_uhashring(weight: int, total: int, n: int, vnodes: int = 40) -> int:
    """Digests per server, uhashring: (vnodes * n * weight) // total, integers."""
    return (vnodes * n * weight) // total


# --------------------------------------------------------------------------
# continua: lists of (value, pos, point_string, word) in lookup order

def continuum_lmc_weighted(servers):
    """libmemcached MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED; also twemproxy ketama
    when every server's twemproxy name equals label(host, port).

    servers: [(host, port, weight)].  Weight 0 counts as 1 (libmemcached).
    """
    ws = [w if w else 1 for (_, _, w) in servers]
    total = sum(ws)
    n = len(servers)
    pts = []
    for pos, (host, port, _) in enumerate(servers):
        segs = segments_lmc(ws[pos], total, n)
        for i in range(segs):
            s = '%s-%d' % (label(host, port), i)
            for word, v in enumerate(md5_words(s.encode())):
                pts.append((v, pos, s, word))
    pts.sort(key=lambda p: (p[0], p[1]))     # value, then server index
    return pts


def continuum_twemproxy(names_weights):
    """twemproxy: [(name, weight)] in configuration order.

    conf_validate_server() sorts the pool's servers by name (shorter name
    first, then bytewise) and the continuum is built in that order; the
    qsort on point values is glibc's merge sort, stable, so a value shared
    by several servers goes to the one whose name sorts first.
    """
    total = sum(w for _, w in names_weights)
    n = len(names_weights)
    order = sorted(range(n), key=lambda i: (len(names_weights[i][0].encode()),
                                            names_weights[i][0].encode()))
    pts = []
    for pos in order:
        name, w = names_weights[pos]
        for i in range(segments_lmc(w, total, n)):
            s = '%s-%d' % (name, i)
            for word, v in enumerate(md5_words(s.encode())):
                pts.append((v, pos, s, word))
    pts.sort(key=lambda p: p[0])             # stable: insertion order on ties
    return pts


def continuum_lmc_ketama(servers):
    """libmemcached MEMCACHED_DISTRIBUTION_CONSISTENT_KETAMA with
    MEMCACHED_HASH_MD5 and weighting off: 100 points per server, one per
    digest (the first word)."""
    pts = []
    for pos, (host, port, _) in enumerate(servers):
        for i in range(100):
            s = '%s-%d' % (label(host, port), i)
            pts.append((md5_words(s.encode())[0], pos, s, 0))
    pts.sort(key=lambda p: (p[0], p[1]))
    return pts


def continuum_libketama(servers):
    """libketama (last.fm): point strings "host:port-k", stable qsort."""
    total = sum(w for _, _, w in servers)
    n = len(servers)
    pts = []
    for pos, (host, port, w) in enumerate(servers):
        for k in range(segments_libketama(w, total, n)):
            s = '%s:%d-%d' % (host, port, k)
            for word, v in enumerate(md5_words(s.encode())):
                pts.append((v, pos, s, word))
    pts.sort(key=lambda p: p[0])
    return pts


def continuum_uhashring(servers):
    """uhashring KetamaRing with node names "host:port".

    Returns the sorted point list; on equal values the LAST server in list
    order owns the value (dict assignment), which lookup_uhashring applies.
    """
    total = sum(w for _, _, w in servers)
    n = len(servers)
    pts = []
    for pos, (host, port, w) in enumerate(servers):
        for k in range(segments_uhashring(w, total, n)):
            s = '%s:%d-%d' % (host, port, k)
            for word, v in enumerate(md5_words(s.encode())):
                pts.append((v, pos, s, word))
    pts.sort(key=lambda p: p[0])
    return pts


# --------------------------------------------------------------------------
# lookups

def lookup_ge(pts, h):
    """First point with value >= h, wrapping to the first point (libmemcached,
    twemproxy, libketama).  Returns the index into pts."""
    values = [p[0] for p in pts]
    i = bisect.bisect_left(values, h)
    return 0 if i == len(values) else i


def lookup_uhashring(pts, h):
    """uhashring: first point with value > h (bisect_right), wrapping; the
    owner of a value shared by several servers is the last one listed."""
    values = [p[0] for p in pts]
    i = bisect.bisect_right(values, h)
    if i == len(values):
        i = 0
    v = values[i]
    j = bisect.bisect_right(values, v) - 1
    return max(pts[k][1] for k in range(bisect.bisect_left(values, v), j + 1))


class Ring:
    """Fast repeated lookups on one continuum."""

    def __init__(self, pts):
        self.pts = pts
        self.values = [p[0] for p in pts]

    def ge(self, h):
        i = bisect.bisect_left(self.values, h)
        return self.pts[0 if i == len(self.values) else i][1]

    def gt_last(self, h):
        i = bisect.bisect_right(self.values, h)
        if i == len(self.values):
            i = 0
        v = self.values[i]
        lo = bisect.bisect_left(self.values, v)
        hi = bisect.bisect_right(self.values, v)
        return max(self.pts[k][1] for k in range(lo, hi))


def libketama_search(values, h):
    """The search loop of libketama's ketama_get_server(), transcribed: index
    of the chosen point in the sorted values (0 when past the end)."""
    n = len(values)
    lowp, highp = 0, n
    while True:
        midp = (lowp + highp) // 2
        if midp == n:
            return 0
        midval = values[midp]
        midval1 = 0 if midp == 0 else values[midp - 1]
        if midval1 < h <= midval:
            return midp
        if midval < h:
            lowp = midp + 1
        else:
            highp = midp - 1
        if lowp > highp:
            return 0
