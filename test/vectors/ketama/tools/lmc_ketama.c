/*
 * Placement queries against the real libmemcached (Debian libmemcached-dev).
 *
 *   lmc_ketama MODE < commands
 *
 * MODE
 *   weighted  MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED = 1 (set before the servers
 *             are added): MD5 key hash, MD5 continuum, points per server
 *             proportional to weight, 4 points per digest.
 *   ketama    servers added first, then MEMCACHED_BEHAVIOR_HASH = MD5 and
 *             MEMCACHED_BEHAVIOR_DISTRIBUTION = CONSISTENT_KETAMA (which turns
 *             weighting off): 100 points per server, 1 point per digest.
 *
 * Commands, one per line, read until EOF:
 *   S host port weight   memcached_server_add_with_weight()
 *   K hexkey             print  pos<TAB>host<TAB>port<TAB>keyhash
 *                        pos  = memcached_generate_hash(), cross-checked with
 *                               memcached_server_by_key() (no connection is
 *                               made by either)
 *                        keyhash = memcached_generate_hash_value(key, MD5)
 *   P value              probe: position owning the 32-bit hash VALUE.  The
 *                        first P switches the key hash to a custom function
 *                        that returns the decimal number it is given; the
 *                        continuum built from the servers is left untouched.
 * Every command that prints ends its line with '\n'.  Errors go to stderr
 * and end the program with status 1.
 */
#include <libmemcached/memcached.h>
#include <libhashkit-1.0/hashkit.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what, memcached_st *memc)
{
    fprintf(stderr, "lmc_ketama: %s: %s\n", what,
            memc ? memcached_last_error_message(memc) : "");
    exit(1);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static uint32_t decimal_hash(const char *key, size_t len, void *ctx)
{
    (void) ctx;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++)
        v = v * 10 + (uint64_t) (key[i] - '0');
    return (uint32_t) v;
}

int main(int argc, char **argv)
{
    if (argc != 2 || (strcmp(argv[1], "weighted") && strcmp(argv[1], "ketama"))) {
        fprintf(stderr, "usage: lmc_ketama weighted|ketama < commands\n");
        return 2;
    }
    int weighted = strcmp(argv[1], "weighted") == 0;

    memcached_st *memc = memcached_create(NULL);
    if (!memc) die("memcached_create", NULL);
    if (weighted
        && memcached_behavior_set(memc, MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 1) != MEMCACHED_SUCCESS)
        die("KETAMA_WEIGHTED", memc);

    static char line[4096];
    static char key[1024];
    int configured = 0, probing = 0;

    while (fgets(line, sizeof line, stdin)) {
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        if (n == 0) continue;

        if (line[0] == 'S') {
            char host[1100];
            unsigned port, weight;
            if (sscanf(line + 2, "%1099s %u %u", host, &port, &weight) != 3)
                die("bad S line", NULL);
            if (memcached_server_add_with_weight(memc, host, (in_port_t) port, weight)
                != MEMCACHED_SUCCESS)
                die("memcached_server_add_with_weight", memc);
            continue;
        }

        if (!configured) {
            configured = 1;
            if (!weighted) {
                if (memcached_behavior_set(memc, MEMCACHED_BEHAVIOR_HASH, MEMCACHED_HASH_MD5)
                    != MEMCACHED_SUCCESS)
                    die("HASH", memc);
                if (memcached_behavior_set(memc, MEMCACHED_BEHAVIOR_DISTRIBUTION,
                                           MEMCACHED_DISTRIBUTION_CONSISTENT_KETAMA)
                    != MEMCACHED_SUCCESS)
                    die("DISTRIBUTION", memc);
                if (memcached_behavior_get(memc, MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED) != 0)
                    die("weighting still on", memc);
            } else {
                if (memcached_behavior_get(memc, MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED) != 1)
                    die("weighting off", memc);
            }
            if (memcached_behavior_get(memc, MEMCACHED_BEHAVIOR_HASH) != MEMCACHED_HASH_MD5)
                die("key hash is not MD5", memc);
        }

        if (line[0] == 'K') {
            const char *hex = line + 2;
            size_t hl = strlen(hex);
            if (hl % 2 || hl / 2 > sizeof key) die("bad K line", NULL);
            size_t kl = hl / 2;
            for (size_t i = 0; i < kl; i++) {
                int a = hexval(hex[2 * i]), b = hexval(hex[2 * i + 1]);
                if (a < 0 || b < 0) die("bad hex", NULL);
                key[i] = (char) (a * 16 + b);
            }
            if (probing) die("K after P", NULL);
            uint32_t pos = memcached_generate_hash(memc, key, kl);
            /* libmemcached 1.1 leaves *error untouched on success */
            memcached_return_t rc = MEMCACHED_SUCCESS;
            const memcached_instance_st *inst = memcached_server_by_key(memc, key, kl, &rc);
            if (!inst || memcached_failed(rc)) die("memcached_server_by_key", memc);
            const memcached_instance_st *byp = memcached_server_instance_by_position(memc, pos);
            if (byp != inst) die("memcached_server_by_key disagrees with memcached_generate_hash", memc);
            uint32_t kh = memcached_generate_hash_value(key, kl, MEMCACHED_HASH_MD5);
            printf("%u\t%s\t%u\t%u\n", pos, memcached_server_name(inst),
                   (unsigned) memcached_server_port(inst), kh);
        } else if (line[0] == 'P') {
            if (!probing) {
                hashkit_st hk;
                if (!hashkit_create(&hk)) die("hashkit_create", NULL);
                if (hashkit_set_custom_function(&hk, decimal_hash, NULL) != HASHKIT_SUCCESS)
                    die("hashkit_set_custom_function", NULL);
                if (memcached_set_hashkit(memc, &hk) != MEMCACHED_SUCCESS)
                    die("memcached_set_hashkit", memc);
                hashkit_free(&hk);
                probing = 1;
            }
            const char *v = line + 2;
            printf("%u\n", memcached_generate_hash(memc, v, strlen(v)));
        } else {
            die("unknown command", NULL);
        }
    }
    memcached_free(memc);
    return 0;
}
