/*
 * cq_lines.c - line reader for recorded data (zlib reads plain files too).
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "support/cq_lines.h"
#include "support/cq_test.h"

struct cq_lines {
    gzFile f;
    char *buf;
    size_t cap;
    long lineno;
};

cq_lines_t *cq_lines_open(const char *rel)
{
    const char *path = cq_test_data_path(rel);
    if (!path)
        return NULL;
    gzFile f = gzopen(path, "rb");
    if (!f)
        return NULL;
    cq_lines_t *r = calloc(1, sizeof *r);
    r->f = f;
    r->cap = 1 << 16;
    r->buf = malloc(r->cap);
    gzbuffer(f, 1 << 17);
    return r;
}

const char *cq_lines_next(cq_lines_t *r, size_t *len, long *lineno)
{
    size_t n = 0;
    int got = 0;
    for (;;) {
        if (!gzgets(r->f, r->buf + n, (int)(r->cap - n)))
            break;
        got = 1;
        n += strlen(r->buf + n);
        if (n > 0 && r->buf[n - 1] == '\n')
            break;
        if (n + 1 < r->cap - 1) /* short read at EOF */
            continue;
        r->cap *= 2;
        r->buf = realloc(r->buf, r->cap);
    }
    if (!got)
        return NULL;
    while (n > 0 && (r->buf[n - 1] == '\n' || r->buf[n - 1] == '\r'))
        r->buf[--n] = 0;
    r->lineno++;
    if (len)
        *len = n;
    if (lineno)
        *lineno = r->lineno;
    return r->buf;
}

void cq_lines_close(cq_lines_t *r)
{
    if (!r)
        return;
    gzclose(r->f);
    free(r->buf);
    free(r);
}
