/*
 * intern.c - string -> dense handle table (open addressing, linear probing).
 *
 * Names are copied into the table; handles are indexes into a names array,
 * starting at 1. Lookups hash the name (FNV-1a) and compare the stored hash
 * before the string. The table never shrinks: handles are never reused.
 */
#include <stdlib.h>
#include <string.h>

#include "cquant/error.h"
#include "cquant/intern.h"

struct cq_intern {
    char **names;        /* names[h] for h in 1..count */
    uint32_t *hashes;    /* hashes[h] */
    uint32_t count;
    uint32_t names_cap;
    uint32_t *slots;     /* open-addressing table of handles, 0 = empty */
    uint32_t mask;       /* slots size - 1 (power of two) */
};

static uint32_t fnv1a(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

int cq_intern_create(cq_intern_t **out)
{
    if (!out)
        return CQ_EINVAL;
    cq_intern_t *t = calloc(1, sizeof *t);
    if (!t)
        return CQ_ENOMEM;
    t->mask = 63;
    t->slots = calloc(t->mask + 1, sizeof *t->slots);
    t->names_cap = 16;
    t->names = calloc(t->names_cap, sizeof *t->names);
    t->hashes = calloc(t->names_cap, sizeof *t->hashes);
    if (!t->slots || !t->names || !t->hashes) {
        cq_intern_destroy(t);
        return CQ_ENOMEM;
    }
    *out = t;
    return 0;
}

void cq_intern_destroy(cq_intern_t *t)
{
    if (!t)
        return;
    for (uint32_t h = 1; h <= t->count; h++)
        free(t->names[h]);
    free(t->names);
    free(t->hashes);
    free(t->slots);
    free(t);
}

static int check_name(const char *name, size_t *len)
{
    if (!name || !*name)
        return CQ_EINVAL;
    size_t n = strnlen(name, CQ_INTERN_MAX_LEN + 1);
    if (n > CQ_INTERN_MAX_LEN)
        return CQ_ETOOLONG;
    *len = n;
    return 0;
}

/* Slot index holding name, or of the empty slot where it would go. */
static uint32_t probe(const cq_intern_t *t, const char *name, uint32_t hash)
{
    uint32_t i = hash & t->mask;
    for (;;) {
        uint32_t h = t->slots[i];
        if (h == 0 || (t->hashes[h] == hash && strcmp(t->names[h], name) == 0))
            return i;
        i = (i + 1) & t->mask;
    }
}

static int grow(cq_intern_t *t)
{
    uint32_t nmask = t->mask * 2 + 1;
    uint32_t *ns = calloc(nmask + 1, sizeof *ns);
    if (!ns)
        return CQ_ENOMEM;
    for (uint32_t h = 1; h <= t->count; h++) {
        uint32_t i = t->hashes[h] & nmask;
        while (ns[i])
            i = (i + 1) & nmask;
        ns[i] = h;
    }
    free(t->slots);
    t->slots = ns;
    t->mask = nmask;
    return 0;
}

int cq_intern_find(const cq_intern_t *t, const char *name, uint32_t *handle)
{
    size_t n;
    int rc;
    if (!t)
        return CQ_EINVAL;
    if ((rc = check_name(name, &n)) < 0)
        return rc;
    uint32_t h = t->slots[probe(t, name, fnv1a(name, n))];
    if (!h)
        return CQ_ENOENT;
    if (handle)
        *handle = h;
    return 0;
}

int cq_intern_get(cq_intern_t *t, const char *name, uint32_t *handle)
{
    size_t n;
    int rc;
    if (!t)
        return CQ_EINVAL;
    if ((rc = check_name(name, &n)) < 0)
        return rc;
    uint32_t hash = fnv1a(name, n);
    uint32_t i = probe(t, name, hash);
    if (t->slots[i]) {
        if (handle)
            *handle = t->slots[i];
        return 0;
    }
    if (t->count >= UINT32_MAX / 4)
        return CQ_EFULL;
    /* Keep the load factor at most 1/2 so probes stay short (and end). */
    if ((t->count + 2) * 2 > t->mask + 1) {
        if (grow(t) < 0)
            return CQ_ENOMEM;
        i = probe(t, name, hash);
    }
    if (t->count + 1 >= t->names_cap) {
        uint32_t ncap = t->names_cap * 2;
        char **nn = realloc(t->names, ncap * sizeof *nn);
        if (!nn)
            return CQ_ENOMEM;
        t->names = nn;
        uint32_t *nh = realloc(t->hashes, ncap * sizeof *nh);
        if (!nh)
            return CQ_ENOMEM;
        t->hashes = nh;
        t->names_cap = ncap;
    }
    char *copy = malloc(n + 1);
    if (!copy)
        return CQ_ENOMEM;
    memcpy(copy, name, n + 1);
    uint32_t h = ++t->count;
    t->names[h] = copy;
    t->hashes[h] = hash;
    t->slots[i] = h;
    if (handle)
        *handle = h;
    return 0;
}

const char *cq_intern_name(const cq_intern_t *t, uint32_t handle)
{
    if (!t || handle == 0 || handle > t->count)
        return NULL;
    return t->names[handle];
}

uint32_t cq_intern_count(const cq_intern_t *t) { return t ? t->count : 0; }
