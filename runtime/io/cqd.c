/*
 * cqd.c - the .cqd recorded-data file: checksum, writer and mmap reader.
 *
 * The writer streams 64-byte records to a temporary file one 64 KiB block
 * at a time (checksumming each block as it goes), then appends the
 * instrument table and the block checksum table, writes the header last,
 * fsyncs and renames: a crash leaves at most a stray temporary file, never
 * a partial file under the final name.
 *
 * The reader owns the open file, one read-only mapping (header, tables,
 * seeks) and a byte per block saying whether that block's checksum has been
 * verified in the map. A cursor copies one block at a time into its own
 * buffer and verifies the copy before handing out a record (read_block says
 * why it copies). The reader validates everything that decides where it
 * reads (header, sizes, offsets, tables) before handing out a single
 * pointer, so a hostile or truncated file gives an error, never a read
 * outside the map. It must never write to the map.
 * docs/cqd.md is the byte-level description; keep the two in step.
 */
#include "cquant/cqd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "cquant/error.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the .cqd reader maps little-endian records in place: it needs a little-endian host"
#endif

static const uint8_t CQD_MAGIC[8] = {0x89, 'C', 'Q', 'D', '\r', '\n', 0x1a, '\n'};

#define CQD_SEED_HEADER 0
#define CQD_SEED_INSTRUMENTS 1
#define CQD_SEED_CHECKSUMS 2
#define CQD_SEED_BLOCK0 16          /* block i uses seed 16 + i */
#define CQD_MAX_HEADER (1u << 20)   /* sanity bound for header_size of any version */
#define CQD_MAX_BLOCK_RECORDS (1u << 20)
#define CQD_MIX 0x9E3779B97F4A7C15ULL

/* The on-disk header (docs/cqd.md). magic, version, header_size and
 * header_checksum keep their offsets in every version, so a reader can
 * always tell a newer file from a corrupt one. */
typedef struct cqd_header {
    uint8_t magic[8];
    uint32_t version;
    uint32_t header_size;
    uint64_t header_checksum;
    uint32_t flags;
    uint32_t record_size;
    uint64_t record_count;
    uint32_t block_records;
    uint32_t instrument_count;
    uint32_t instrument_size;
    uint32_t reserved0;
    uint64_t records_offset;
    uint64_t instruments_offset;
    uint64_t checksums_offset;
    uint64_t file_size;
    uint64_t instruments_checksum;
    uint64_t checksums_checksum;
    int64_t ts_init_first;
    int64_t ts_init_last;
    int64_t ts_event_min;
    int64_t ts_event_max;
    uint64_t count_trade;
    uint64_t count_quote;
    uint64_t count_delta;
    uint64_t count_bar;
    uint8_t reserved[88];
} cqd_header_t;

_Static_assert(sizeof(cqd_header_t) == CQ_CQD_HEADER_SIZE, "cqd header size");
_Static_assert(offsetof(cqd_header_t, header_checksum) == 16, "cqd header layout");
_Static_assert(offsetof(cqd_header_t, records_offset) == 56, "cqd header layout");
_Static_assert(offsetof(cqd_header_t, ts_init_first) == 104, "cqd header layout");
_Static_assert(offsetof(cqd_header_t, reserved) == 168, "cqd header layout");

static const double POW10[CQ_CQD_MAX_PRECISION + 1] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
    1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18};

/* ---- checksum ----------------------------------------------------------------- */

static uint64_t load_le64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8); /* little-endian host, checked above */
    return v;
}

static void lanes_add_chunk(uint64_t a[8], uint64_t b[8], const unsigned char *p)
{
    for (int j = 0; j < 8; j++) {
        a[j] += load_le64(p + 8 * j);
        b[j] += a[j];
    }
}

/* Fletcher-style sums in 8 independent lanes: two adds per word and no
 * carried multiply, so SSE2 does a 64-byte record in a few cycles. The
 * multiply-xor fold at the end is a bijection of each lane, so a change
 * confined to one word always changes the result. */
uint64_t cq_cqd_checksum(uint64_t seed, const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t a[8], b[8];
    size_t full = len / 64 * 64, i = 0;
    for (int j = 0; j < 8; j++) {
        a[j] = (uint64_t)j + 1;
        b[j] = 0;
    }
    if (!p)
        len = full = 0;
#ifdef __SSE2__
    if (full) {
        __m128i a0 = _mm_set_epi64x(2, 1), a1 = _mm_set_epi64x(4, 3);
        __m128i a2 = _mm_set_epi64x(6, 5), a3 = _mm_set_epi64x(8, 7);
        __m128i b0 = _mm_setzero_si128(), b1 = b0, b2 = b0, b3 = b0;
        for (; i < full; i += 64) {
            a0 = _mm_add_epi64(a0, _mm_loadu_si128((const __m128i *)(const void *)(p + i)));
            a1 = _mm_add_epi64(a1, _mm_loadu_si128((const __m128i *)(const void *)(p + i + 16)));
            a2 = _mm_add_epi64(a2, _mm_loadu_si128((const __m128i *)(const void *)(p + i + 32)));
            a3 = _mm_add_epi64(a3, _mm_loadu_si128((const __m128i *)(const void *)(p + i + 48)));
            b0 = _mm_add_epi64(b0, a0);
            b1 = _mm_add_epi64(b1, a1);
            b2 = _mm_add_epi64(b2, a2);
            b3 = _mm_add_epi64(b3, a3);
        }
        _mm_storeu_si128((__m128i *)(void *)a, a0);
        _mm_storeu_si128((__m128i *)(void *)(a + 2), a1);
        _mm_storeu_si128((__m128i *)(void *)(a + 4), a2);
        _mm_storeu_si128((__m128i *)(void *)(a + 6), a3);
        _mm_storeu_si128((__m128i *)(void *)b, b0);
        _mm_storeu_si128((__m128i *)(void *)(b + 2), b1);
        _mm_storeu_si128((__m128i *)(void *)(b + 4), b2);
        _mm_storeu_si128((__m128i *)(void *)(b + 6), b3);
    }
#endif
    for (; i < full; i += 64)
        lanes_add_chunk(a, b, p + i);
    if (len > full) {
        unsigned char tail[64] = {0};
        memcpy(tail, p + full, len - full);
        lanes_add_chunk(a, b, tail);
    }
    uint64_t h = seed ^ ((uint64_t)len * CQD_MIX);
    for (int j = 0; j < 8; j++) {
        h = (h ^ a[j]) * CQD_MIX;
        h ^= h >> 32;
        h = (h ^ b[j]) * CQD_MIX;
        h ^= h >> 29;
    }
    return h;
}

/* ---- shared helpers --------------------------------------------------------------- */

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void set_err(char *buf, size_t len, const char *fmt, ...)
{
    if (!buf || !len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

static int str_ok(const char *s, size_t cap, int may_be_empty)
{
    size_t n = strnlen(s, cap);
    return n < cap && (may_be_empty || n > 0);
}

/* Why an instrument entry is unusable, or NULL if it is fine. Shared by the
 * writer (bad input) and the reader (corrupt file). */
static const char *instrument_problem(const cq_cqd_instrument_t *in)
{
    if (!str_ok(in->id, sizeof in->id, 0))
        return "id is empty or not NUL-terminated";
    if (!str_ok(in->symbol, sizeof in->symbol, 1) || !str_ok(in->venue, sizeof in->venue, 1) ||
        !str_ok(in->base, sizeof in->base, 1) || !str_ok(in->quote, sizeof in->quote, 1))
        return "a name field is not NUL-terminated";
    if (in->price_precision < 0 || in->price_precision > CQ_CQD_MAX_PRECISION ||
        in->size_precision < 0 || in->size_precision > CQ_CQD_MAX_PRECISION ||
        in->min_notional_decimals < 0 || in->min_notional_decimals > CQ_CQD_MAX_PRECISION)
        return "precision outside 0..18";
    if (in->tick_units < 1 || in->step_units < 1)
        return "tick_units and step_units must be >= 1";
    if (in->min_qty < 0 || in->max_qty < 0 || in->min_notional < 0)
        return "negative limit";
    return NULL;
}

static int type_index(int type)
{
    switch (type) {
    case CQ_EV_TRADE: return 0;
    case CQ_EV_QUOTE: return 1;
    case CQ_EV_BOOK_DELTA: return 2;
    case CQ_EV_BAR: return 3;
    default: return -1;
    }
}

/* ---- writer ------------------------------------------------------------------------ */

struct cq_cqd_writer {
    int fd;
    int finished;
    char *path;
    char *tmp;
    cq_cqd_instrument_t *inst;
    uint32_t ninst, cap_inst;
    cq_cqd_record_t *block;        /* the block being filled */
    uint32_t nblock;
    uint64_t *sums;                /* checksum of every written block */
    uint64_t nsums, cap_sums;
    uint64_t count;
    uint64_t count_type[4];
    int64_t ts_init_first, ts_init_last, ts_event_min, ts_event_max;
    char err[256];
};

static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
    const char *p = buf;
    while (len) {
        ssize_t n = pwrite(fd, p, len, off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
        off += n;
    }
    return 0;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

int cq_cqd_writer_open(cq_cqd_writer_t **out, const char *path, char *err, size_t errlen)
{
    if (!out || !path || !*path) {
        set_err(err, errlen, "cqd writer: no output path");
        return CQ_EINVAL;
    }
    *out = NULL;
    cq_cqd_writer_t *w = calloc(1, sizeof *w);
    size_t tlen = strlen(path) + 32;
    if (w) {
        w->fd = -1;
        w->path = dup_str(path);
        w->tmp = malloc(tlen);
        w->block = malloc(sizeof(cq_cqd_record_t) * CQ_CQD_BLOCK_RECORDS);
    }
    if (!w || !w->path || !w->tmp || !w->block) {
        set_err(err, errlen, "cqd writer: out of memory");
        cq_cqd_writer_destroy(w);
        return CQ_ENOMEM;
    }
    snprintf(w->tmp, tlen, "%s.tmp-%ld", path, (long)getpid());
    w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        set_err(err, errlen, "%s: cannot create: %s", w->tmp, strerror(errno));
        free(w->tmp);
        w->tmp = NULL; /* nothing to remove */
        cq_cqd_writer_destroy(w);
        return CQ_EIO;
    }
    /* A zero header until finish: a stray temporary file is never mistaken
     * for a complete one. */
    static const unsigned char zero[CQ_CQD_HEADER_SIZE];
    if (write_all(w->fd, zero, sizeof zero) != 0) {
        set_err(err, errlen, "%s: write failed: %s", w->tmp, strerror(errno));
        cq_cqd_writer_destroy(w);
        return CQ_EIO;
    }
    *out = w;
    return 0;
}

const char *cq_cqd_writer_error(const cq_cqd_writer_t *w)
{
    return w ? w->err : "no writer";
}

uint64_t cq_cqd_writer_count(const cq_cqd_writer_t *w)
{
    return w ? w->count : 0;
}

int cq_cqd_writer_add_instrument(cq_cqd_writer_t *w, const cq_cqd_instrument_t *inst, uint32_t *index)
{
    if (!w || !inst)
        return CQ_EINVAL;
    if (w->finished || w->fd < 0) {
        set_err(w->err, sizeof w->err, "writer already finished");
        return CQ_ESTATE;
    }
    const char *why = instrument_problem(inst);
    if (why) {
        set_err(w->err, sizeof w->err, "instrument: %s", why);
        return CQ_EINVAL;
    }
    for (uint32_t i = 0; i < w->ninst; i++) {
        if (!strcmp(w->inst[i].id, inst->id)) {
            set_err(w->err, sizeof w->err, "instrument %s added twice", inst->id);
            return CQ_EEXIST;
        }
    }
    if (w->ninst >= CQ_CQD_MAX_INSTRUMENTS) {
        set_err(w->err, sizeof w->err, "more than %d instruments", CQ_CQD_MAX_INSTRUMENTS);
        return CQ_EFULL;
    }
    if (w->ninst == w->cap_inst) {
        uint32_t cap = w->cap_inst ? w->cap_inst * 2 : 8;
        cq_cqd_instrument_t *n = realloc(w->inst, sizeof *n * cap);
        if (!n)
            return CQ_ENOMEM;
        w->inst = n;
        w->cap_inst = cap;
    }
    /* Copy field by field so reserved bytes are zero: the same input gives
     * byte-identical files. */
    cq_cqd_instrument_t *d = &w->inst[w->ninst];
    memset(d, 0, sizeof *d);
    memcpy(d->id, inst->id, sizeof d->id);
    memcpy(d->symbol, inst->symbol, sizeof d->symbol);
    memcpy(d->venue, inst->venue, sizeof d->venue);
    memcpy(d->base, inst->base, sizeof d->base);
    memcpy(d->quote, inst->quote, sizeof d->quote);
    d->price_precision = inst->price_precision;
    d->size_precision = inst->size_precision;
    d->tick_units = inst->tick_units;
    d->step_units = inst->step_units;
    d->min_qty = inst->min_qty;
    d->max_qty = inst->max_qty;
    d->min_notional = inst->min_notional;
    d->min_notional_decimals = inst->min_notional_decimals;
    if (index)
        *index = w->ninst;
    w->ninst++;
    return 0;
}

static int flush_block(cq_cqd_writer_t *w)
{
    if (!w->nblock)
        return 0;
    size_t bytes = (size_t)w->nblock * sizeof(cq_cqd_record_t);
    if (w->nsums == w->cap_sums) {
        uint64_t cap = w->cap_sums ? w->cap_sums * 2 : 64;
        uint64_t *n = realloc(w->sums, sizeof *n * cap);
        if (!n) {
            set_err(w->err, sizeof w->err, "out of memory");
            return CQ_ENOMEM;
        }
        w->sums = n;
        w->cap_sums = cap;
    }
    w->sums[w->nsums] = cq_cqd_checksum(CQD_SEED_BLOCK0 + w->nsums, w->block, bytes);
    if (write_all(w->fd, w->block, bytes) != 0) {
        set_err(w->err, sizeof w->err, "%s: write failed: %s", w->tmp, strerror(errno));
        return CQ_EIO;
    }
    w->nsums++;
    w->nblock = 0;
    return 0;
}

int cq_cqd_writer_append(cq_cqd_writer_t *w, const cq_cqd_record_t *rec)
{
    if (!w || !rec)
        return CQ_EINVAL;
    if (w->finished || w->fd < 0) {
        set_err(w->err, sizeof w->err, "writer already finished");
        return CQ_ESTATE;
    }
    int ti = type_index(rec->type);
    if (ti < 0) {
        set_err(w->err, sizeof w->err, "record %llu: unknown type %d", (unsigned long long)w->count,
                rec->type);
        return CQ_EINVAL;
    }
    if (rec->side > CQ_SIDE_SELL || (rec->flags & ~(CQ_EVF_LAST | CQ_EVF_SNAPSHOT))) {
        set_err(w->err, sizeof w->err, "record %llu: bad side %d or flags 0x%x",
                (unsigned long long)w->count, rec->side, rec->flags);
        return CQ_EINVAL;
    }
    if (rec->instrument >= w->ninst) {
        set_err(w->err, sizeof w->err, "record %llu: instrument index %u not added (%u instruments)",
                (unsigned long long)w->count, rec->instrument, w->ninst);
        return CQ_EINVAL;
    }
    if (w->count && rec->ts_init < w->ts_init_last) {
        set_err(w->err, sizeof w->err,
                "record %llu: ts_init %lld is before the previous record's %lld (records must be in "
                "non-decreasing ts_init order)",
                (unsigned long long)w->count, (long long)rec->ts_init, (long long)w->ts_init_last);
        return CQ_EINVAL;
    }
    cq_cqd_record_t *d = &w->block[w->nblock];
    memset(d, 0, sizeof *d);
    d->type = rec->type;
    d->side = rec->side;
    d->flags = rec->flags;
    d->instrument = rec->instrument;
    d->ts_event = rec->ts_event;
    d->ts_init = rec->ts_init;
    switch (rec->type) {
    case CQ_EV_TRADE:
        d->trade.price = rec->trade.price;
        d->trade.qty = rec->trade.qty;
        d->trade.trade_id = rec->trade.trade_id;
        break;
    case CQ_EV_QUOTE:
        d->quote = rec->quote;
        break;
    case CQ_EV_BOOK_DELTA:
        d->delta.price = rec->delta.price;
        d->delta.qty = rec->delta.qty;
        d->delta.update_id = rec->delta.update_id;
        d->delta.first_update_id = rec->delta.first_update_id;
        break;
    default:
        d->bar = rec->bar;
        break;
    }
    if (!w->count) {
        w->ts_init_first = rec->ts_init;
        w->ts_event_min = w->ts_event_max = rec->ts_event;
    }
    if (rec->ts_event < w->ts_event_min)
        w->ts_event_min = rec->ts_event;
    if (rec->ts_event > w->ts_event_max)
        w->ts_event_max = rec->ts_event;
    w->ts_init_last = rec->ts_init;
    w->count_type[ti]++;
    w->count++;
    if (++w->nblock == CQ_CQD_BLOCK_RECORDS)
        return flush_block(w);
    return 0;
}

/* Make the rename itself durable. Failure here is not fatal: the data is
 * already synced, only the directory entry might be lost on power failure. */
static void sync_parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

int cq_cqd_writer_finish(cq_cqd_writer_t *w)
{
    if (!w)
        return CQ_EINVAL;
    if (w->finished || w->fd < 0) {
        set_err(w->err, sizeof w->err, "writer already finished");
        return CQ_ESTATE;
    }
    int rc = flush_block(w);
    if (rc)
        goto fail;
    cqd_header_t h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, CQD_MAGIC, sizeof h.magic);
    h.version = CQ_CQD_VERSION;
    h.header_size = CQ_CQD_HEADER_SIZE;
    h.record_size = CQ_CQD_RECORD_SIZE;
    h.record_count = w->count;
    h.block_records = CQ_CQD_BLOCK_RECORDS;
    h.instrument_count = w->ninst;
    h.instrument_size = CQ_CQD_INSTRUMENT_SIZE;
    h.records_offset = CQ_CQD_HEADER_SIZE;
    h.instruments_offset = h.records_offset + w->count * CQ_CQD_RECORD_SIZE;
    h.checksums_offset = h.instruments_offset + (uint64_t)w->ninst * CQ_CQD_INSTRUMENT_SIZE;
    h.file_size = h.checksums_offset + w->nsums * 8;
    h.instruments_checksum =
        cq_cqd_checksum(CQD_SEED_INSTRUMENTS, w->inst, (size_t)w->ninst * CQ_CQD_INSTRUMENT_SIZE);
    h.checksums_checksum = cq_cqd_checksum(CQD_SEED_CHECKSUMS, w->sums, (size_t)w->nsums * 8);
    if (w->count) {
        h.ts_init_first = w->ts_init_first;
        h.ts_init_last = w->ts_init_last;
        h.ts_event_min = w->ts_event_min;
        h.ts_event_max = w->ts_event_max;
    }
    h.count_trade = w->count_type[0];
    h.count_quote = w->count_type[1];
    h.count_delta = w->count_type[2];
    h.count_bar = w->count_type[3];
    h.header_checksum = cq_cqd_checksum(CQD_SEED_HEADER, &h, sizeof h);

    if ((w->ninst && write_all(w->fd, w->inst, (size_t)w->ninst * CQ_CQD_INSTRUMENT_SIZE) != 0) ||
        (w->nsums && write_all(w->fd, w->sums, (size_t)w->nsums * 8) != 0) ||
        pwrite_all(w->fd, &h, sizeof h, 0) != 0) {
        set_err(w->err, sizeof w->err, "%s: write failed: %s", w->tmp, strerror(errno));
        rc = CQ_EIO;
        goto fail;
    }
    if (fsync(w->fd) != 0) {
        set_err(w->err, sizeof w->err, "%s: fsync failed: %s", w->tmp, strerror(errno));
        rc = CQ_EIO;
        goto fail;
    }
    if (close(w->fd) != 0) {
        w->fd = -1;
        set_err(w->err, sizeof w->err, "%s: close failed: %s", w->tmp, strerror(errno));
        rc = CQ_EIO;
        goto fail;
    }
    w->fd = -1;
    if (rename(w->tmp, w->path) != 0) {
        set_err(w->err, sizeof w->err, "cannot rename %s to %s: %s", w->tmp, w->path, strerror(errno));
        rc = CQ_EIO;
        goto fail;
    }
    sync_parent_dir(w->path);
    w->finished = 1;
    return 0;
fail:
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    unlink(w->tmp);
    return rc;
}

void cq_cqd_writer_destroy(cq_cqd_writer_t *w)
{
    if (!w)
        return;
    if (w->fd >= 0) {
        close(w->fd);
        if (!w->finished && w->tmp)
            unlink(w->tmp);
    }
    free(w->path);
    free(w->tmp);
    free(w->inst);
    free(w->block);
    free(w->sums);
    free(w);
}

/* ---- reader ------------------------------------------------------------------------ */

struct cq_cqd_reader {
    const unsigned char *map;
    size_t size;
    const cq_cqd_record_t *records;
    uint64_t count;
    const cq_cqd_instrument_t *inst; /* a copy of the file's table (owned) */
    uint32_t ninst;
    const uint64_t *sums;          /* a copy of the block checksum table (owned) */
    uint64_t nblocks;
    uint32_t block_records;
    int fd;                        /* cursors read their blocks with pread */
    uint8_t *verified;             /* one byte per block (checked in the map) */
    uint32_t *handles;             /* hdr.instrument per table index */
    cq_cqd_info_t info;
    char err[256];
};

static uint64_t block_len(const cq_cqd_reader_t *r, uint64_t b)
{
    uint64_t first = b * r->block_records;
    return r->count - first < r->block_records ? r->count - first : r->block_records;
}

/* Check block b's records as found at data (the map, or a cursor's copy). */
static int verify_data(cq_cqd_reader_t *r, uint64_t b, const cq_cqd_record_t *data)
{
    uint64_t first = b * r->block_records, n = block_len(r, b);
    uint64_t sum = cq_cqd_checksum(CQD_SEED_BLOCK0 + b, data, (size_t)n * CQ_CQD_RECORD_SIZE);
    if (sum != r->sums[b]) {
        set_err(r->err, sizeof r->err,
                "block %llu (records %llu..%llu, offset %llu): checksum mismatch: data corrupted",
                (unsigned long long)b, (unsigned long long)first, (unsigned long long)(first + n - 1),
                (unsigned long long)((const unsigned char *)(r->records + first) - r->map));
        return CQ_ECORRUPT;
    }
    return 0;
}

static int verify_block(cq_cqd_reader_t *r, uint64_t b)
{
    int rc = verify_data(r, b, r->records + b * r->block_records);
    if (rc == 0)
        r->verified[b] = 1;
    return rc;
}

/* Read blocks b, b+1... into buf, as many as fit in `room` records and
 * the file has, in one pread; *got = how many arrived complete (>= 1, or an
 * error). Why copies rather than walking the map: on this project's
 * machines (a VM with shadow page tables) the first touch of each 4 KiB
 * page of a fresh mapping costs about 1.5 us, 25 ns a record, more than the
 * rest of a backtest's work per record; pread copies from the kernel's own
 * mapping of the page cache at ~7 GB/s into a buffer that stays in cache
 * (64 KiB reads: 10.3 ns a record; 128 KiB: 8.9; larger: no better). */
static int read_blocks(cq_cqd_reader_t *r, uint64_t b, size_t room, cq_cqd_record_t *buf, uint64_t *got)
{
    uint64_t k = room / r->block_records;
    if (k > r->nblocks - b)
        k = r->nblocks - b;
    uint64_t first = b * r->block_records, last = first + k * r->block_records;
    if (last > r->count)
        last = r->count;
    size_t want = (size_t)(last - first) * CQ_CQD_RECORD_SIZE, have = 0;
    off_t off = (off_t)((const unsigned char *)(r->records + first) - r->map);
    unsigned char *dst = (unsigned char *)buf;
    const char *why = "file truncated while open";
    while (have < want) {
        ssize_t n = pread(r->fd, dst + have, want - have, off + (off_t)have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n < 0)
                why = strerror(errno);
            break;
        }
        have += (size_t)n;
    }
    *got = have == want ? k : have / ((size_t)r->block_records * CQ_CQD_RECORD_SIZE);
    if (!*got) {
        set_err(r->err, sizeof r->err, "block %llu (offset %llu): %s", (unsigned long long)b,
                (unsigned long long)off + have, why);
        return CQ_ECORRUPT;
    }
    return 0;
}

/* Verify block b as found at data, unless it was verified before. What a
 * cursor hands out is its copy, so the copy is what gets verified. */
static int check_block(cq_cqd_reader_t *r, uint64_t b, const cq_cqd_record_t *data)
{
    if (r->verified[b])
        return 0;
    int rc = verify_data(r, b, data);
    if (rc == 0)
        r->verified[b] = 1;
    return rc;
}

/* Everything that decides where the reader reads is checked here, before
 * any pointer into the map is handed out. */
static int validate(cq_cqd_reader_t *r, unsigned flags, const char *path, char *err, size_t errlen)
{
    const unsigned char *m = r->map;
    size_t size = r->size;
    cqd_header_t h;

    if (memcmp(m, CQD_MAGIC, size < 8 ? size : 8) != 0) {
        set_err(err, errlen, "%s: not a .cqd file (bad magic at offset 0)", path);
        return CQ_EPARSE;
    }
    if (size < 24) {
        set_err(err, errlen, "%s: truncated: %zu bytes, the header alone needs %d", path, size,
                CQ_CQD_HEADER_SIZE);
        return CQ_ECORRUPT;
    }
    uint32_t version, header_size;
    memcpy(&version, m + 8, 4);
    memcpy(&header_size, m + 12, 4);
    if (header_size < CQ_CQD_HEADER_SIZE || header_size > CQD_MAX_HEADER || header_size % 8) {
        set_err(err, errlen, "%s: corrupted header: header size %u at offset 12", path, header_size);
        return CQ_ECORRUPT;
    }
    if (header_size > size) {
        set_err(err, errlen, "%s: truncated: %zu bytes, the header alone needs %u", path, size,
                header_size);
        return CQ_ECORRUPT;
    }
    /* Checksum before looking at the version: a flipped version byte is
     * corruption, not a newer file. */
    unsigned char *copy = malloc(header_size);
    if (!copy) {
        set_err(err, errlen, "%s: out of memory", path);
        return CQ_ENOMEM;
    }
    memcpy(copy, m, header_size);
    uint64_t stored;
    memcpy(&stored, copy + 16, 8);
    memset(copy + 16, 0, 8);
    uint64_t sum = cq_cqd_checksum(CQD_SEED_HEADER, copy, header_size);
    free(copy);
    if (sum != stored) {
        set_err(err, errlen, "%s: corrupted header: checksum mismatch (bytes 0..%u)", path,
                header_size - 1);
        return CQ_ECORRUPT;
    }
    if (version == 0) {
        set_err(err, errlen, "%s: corrupted header: version 0", path);
        return CQ_ECORRUPT;
    }
    if (version > CQ_CQD_VERSION) {
        set_err(err, errlen,
                "%s: file version %u is newer than the supported version %d: upgrade cquant to read it",
                path, version, CQ_CQD_VERSION);
        return CQ_EVERSION;
    }
    memcpy(&h, m, sizeof h);
    if (h.flags) {
        set_err(err, errlen, "%s: unknown header flags 0x%x (written by a newer cquant?)", path, h.flags);
        return CQ_EVERSION;
    }
    if (h.header_size != CQ_CQD_HEADER_SIZE || h.record_size != CQ_CQD_RECORD_SIZE ||
        h.instrument_size != CQ_CQD_INSTRUMENT_SIZE || h.block_records == 0 ||
        h.block_records > CQD_MAX_BLOCK_RECORDS || h.instrument_count > CQ_CQD_MAX_INSTRUMENTS ||
        h.records_offset != CQ_CQD_HEADER_SIZE) {
        set_err(err, errlen, "%s: corrupted header: impossible sizes for version %u", path, version);
        return CQ_ECORRUPT;
    }
    /* The section offsets follow from the counts; with the counts bounded by
     * the actual file size none of these sums can overflow. */
    if (h.record_count > size / CQ_CQD_RECORD_SIZE) {
        set_err(err, errlen, "%s: truncated: %zu bytes cannot hold the %llu records the header announces",
                path, size, (unsigned long long)h.record_count);
        return CQ_ECORRUPT;
    }
    uint64_t nblocks = (h.record_count + h.block_records - 1) / h.block_records;
    uint64_t inst_off = h.records_offset + h.record_count * CQ_CQD_RECORD_SIZE;
    uint64_t sums_off = inst_off + (uint64_t)h.instrument_count * CQ_CQD_INSTRUMENT_SIZE;
    uint64_t end = sums_off + nblocks * 8;
    if (h.instruments_offset != inst_off || h.checksums_offset != sums_off || h.file_size != end) {
        set_err(err, errlen, "%s: corrupted header: section offsets disagree with the counts", path);
        return CQ_ECORRUPT;
    }
    if (size < end) {
        set_err(err, errlen, "%s: truncated: %zu bytes, the header says %llu (data missing from offset %zu)",
                path, size, (unsigned long long)end, size);
        return CQ_ECORRUPT;
    }
    if (size > end) {
        set_err(err, errlen, "%s: %zu unexpected bytes after the end of the data (offset %llu)", path,
                size - (size_t)end, (unsigned long long)end);
        return CQ_ECORRUPT;
    }
    if (h.record_count && !h.instrument_count) {
        set_err(err, errlen, "%s: corrupted header: records but no instruments", path);
        return CQ_ECORRUPT;
    }
    if (cq_cqd_checksum(CQD_SEED_INSTRUMENTS, m + inst_off,
                        (size_t)h.instrument_count * CQ_CQD_INSTRUMENT_SIZE) != h.instruments_checksum) {
        set_err(err, errlen, "%s: corrupted instrument table (offset %llu): checksum mismatch", path,
                (unsigned long long)inst_off);
        return CQ_ECORRUPT;
    }
    if (cq_cqd_checksum(CQD_SEED_CHECKSUMS, m + sums_off, (size_t)nblocks * 8) != h.checksums_checksum) {
        set_err(err, errlen, "%s: corrupted block checksum table (offset %llu): checksum mismatch", path,
                (unsigned long long)sums_off);
        return CQ_ECORRUPT;
    }
    r->records = (const cq_cqd_record_t *)(const void *)(m + h.records_offset);
    r->count = h.record_count;
    r->ninst = h.instrument_count;
    r->nblocks = nblocks;
    /* The tables are copied (a few KiB), so that iterating never touches the
     * map: a file cut short while open is then an error, not a SIGBUS. */
    cq_cqd_instrument_t *inst = malloc((r->ninst ? r->ninst : 1) * sizeof *inst);
    uint64_t *sums = malloc((nblocks ? nblocks : 1) * sizeof *sums);
    r->inst = inst;
    r->sums = sums;
    if (!inst || !sums) {
        set_err(err, errlen, "%s: out of memory", path);
        return CQ_ENOMEM;
    }
    memcpy(inst, m + inst_off, (size_t)r->ninst * sizeof *inst);
    memcpy(sums, m + sums_off, (size_t)nblocks * sizeof *sums);
    r->block_records = h.block_records;
    for (uint32_t i = 0; i < r->ninst; i++) {
        const char *why = instrument_problem(&r->inst[i]);
        if (why) {
            set_err(err, errlen, "%s: corrupted instrument %u (offset %llu): %s", path, i,
                    (unsigned long long)(inst_off + (uint64_t)i * CQ_CQD_INSTRUMENT_SIZE), why);
            return CQ_ECORRUPT;
        }
    }
    r->verified = calloc(nblocks ? nblocks : 1, 1);
    r->handles = malloc(sizeof *r->handles * (r->ninst ? r->ninst : 1));
    if (!r->verified || !r->handles) {
        set_err(err, errlen, "%s: out of memory", path);
        return CQ_ENOMEM;
    }
    for (uint32_t i = 0; i < r->ninst; i++)
        r->handles[i] = i + 1;
    if (flags & CQ_CQD_VERIFY_ALL) {
        int small = r->block_records <= CQ_CQD_BLOCK_RECORDS;
        cq_cqd_record_t *buf = small ? malloc(sizeof *buf * CQ_CQD_BLOCK_RECORDS) : NULL;
        if (small && !buf) {
            set_err(err, errlen, "%s: out of memory", path);
            return CQ_ENOMEM;
        }
        for (uint64_t b = 0; b < nblocks; b++) {
            uint64_t got;
            int rc = small ? read_blocks(r, b, CQ_CQD_BLOCK_RECORDS, buf, &got) : 0;
            if (rc == 0)
                rc = small ? check_block(r, b, buf) : verify_block(r, b);
            if (rc != 0) {
                set_err(err, errlen, "%s: %s", path, r->err);
                free(buf);
                return CQ_ECORRUPT;
            }
        }
        free(buf);
    }
    cq_cqd_info_t *in = &r->info;
    in->version = version;
    in->instrument_count = r->ninst;
    in->record_count = r->count;
    in->block_count = nblocks;
    in->ts_init_first = h.ts_init_first;
    in->ts_init_last = h.ts_init_last;
    in->ts_event_min = h.ts_event_min;
    in->ts_event_max = h.ts_event_max;
    in->count[CQ_EV_TRADE] = h.count_trade;
    in->count[CQ_EV_QUOTE] = h.count_quote;
    in->count[CQ_EV_BOOK_DELTA] = h.count_delta;
    in->count[CQ_EV_BAR] = h.count_bar;
    return 0;
}

int cq_cqd_open(cq_cqd_reader_t **out, const char *path, unsigned flags, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = 0;
    if (!out || !path || !*path) {
        set_err(err, errlen, "cqd: no file given");
        return CQ_EINVAL;
    }
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        set_err(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return CQ_EIO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        set_err(err, errlen, "%s: not a regular file", path);
        close(fd);
        return CQ_EIO;
    }
    if (st.st_size == 0) {
        set_err(err, errlen, "%s: truncated: the file is empty", path);
        close(fd);
        return CQ_ECORRUPT;
    }
    if ((uint64_t)st.st_size > (uint64_t)SIZE_MAX) {
        set_err(err, errlen, "%s: too large to map", path);
        close(fd);
        return CQ_ERANGE;
    }
    cq_cqd_reader_t *r = calloc(1, sizeof *r);
    if (!r) {
        set_err(err, errlen, "%s: out of memory", path);
        close(fd);
        return CQ_ENOMEM;
    }
    r->fd = -1;
    r->size = (size_t)st.st_size;
    void *m = mmap(NULL, r->size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) {
        set_err(err, errlen, "%s: cannot map: %s", path, strerror(errno));
        close(fd);
        free(r);
        return CQ_EIO;
    }
    r->map = m;
    r->fd = fd;
#ifdef POSIX_FADV_SEQUENTIAL
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL); /* a hint: larger readahead */
#endif
    int rc = validate(r, flags, path, err, errlen);
    if (rc) {
        cq_cqd_close(r);
        return rc;
    }
    *out = r;
    return 0;
}

void cq_cqd_close(cq_cqd_reader_t *r)
{
    if (!r)
        return;
    if (r->map)
        munmap((void *)(uintptr_t)r->map, r->size);
    if (r->fd >= 0)
        close(r->fd);
    free(r->verified);
    free(r->handles);
    free((void *)(uintptr_t)r->inst);
    free((void *)(uintptr_t)r->sums);
    free(r);
}

void cq_cqd_get_info(const cq_cqd_reader_t *r, cq_cqd_info_t *out)
{
    if (!out)
        return;
    if (!r) {
        memset(out, 0, sizeof *out);
        return;
    }
    *out = r->info;
}

const char *cq_cqd_reader_error(const cq_cqd_reader_t *r)
{
    return r ? r->err : "no reader";
}

const cq_cqd_instrument_t *cq_cqd_instrument(const cq_cqd_reader_t *r, uint32_t index)
{
    return r && index < r->ninst ? &r->inst[index] : NULL;
}

int cq_cqd_find_instrument(const cq_cqd_reader_t *r, const char *id, uint32_t *index)
{
    if (!r || !id)
        return CQ_EINVAL;
    for (uint32_t i = 0; i < r->ninst; i++) {
        if (!strcmp(r->inst[i].id, id)) {
            if (index)
                *index = i;
            return 0;
        }
    }
    return CQ_ENOENT;
}

int cq_cqd_set_handle(cq_cqd_reader_t *r, uint32_t index, uint32_t handle)
{
    if (!r)
        return CQ_EINVAL;
    if (index >= r->ninst)
        return CQ_ENOENT;
    r->handles[index] = handle;
    return 0;
}

/* units * 10^-prec, correctly rounded when |units| < 2^53: both operands of
 * the division are then exact doubles. */
static double units_to_double(int64_t units, int32_t prec)
{
    return prec ? (double)units / POW10[prec] : (double)units;
}

static double scaled(int64_t n, int64_t unit, int32_t prec)
{
    int64_t units;
    if (unit == 1)
        return units_to_double(n, prec);
    if (__builtin_mul_overflow(n, unit, &units))
        return (double)n * (double)unit / POW10[prec];
    return units_to_double(units, prec);
}

int cq_cqd_instrument_event(const cq_cqd_reader_t *r, uint32_t index, cq_instrument_t *out)
{
    if (!r || !out)
        return CQ_EINVAL;
    if (index >= r->ninst)
        return CQ_ENOENT;
    const cq_cqd_instrument_t *in = &r->inst[index];
    memset(out, 0, sizeof *out);
    out->hdr.type = CQ_EV_INSTRUMENT;
    out->hdr.flags = CQ_EVF_REPLAY;
    out->hdr.instrument = r->handles[index];
    memcpy(out->id, in->id, sizeof out->id);
    memcpy(out->symbol, in->symbol, sizeof out->symbol);
    memcpy(out->venue, in->venue, sizeof out->venue);
    memcpy(out->base, in->base, sizeof out->base);
    memcpy(out->quote, in->quote, sizeof out->quote);
    out->tick_size = units_to_double(in->tick_units, in->price_precision);
    out->step_size = units_to_double(in->step_units, in->size_precision);
    out->min_qty = units_to_double(in->min_qty, in->size_precision);
    out->max_qty = units_to_double(in->max_qty, in->size_precision);
    out->min_notional = units_to_double(in->min_notional, in->min_notional_decimals);
    out->tick_units = in->tick_units;
    out->step_units = in->step_units;
    out->price_precision = in->price_precision;
    out->size_precision = in->size_precision;
    out->tradable = 1;
    return 0;
}

static int event_hdr(const cq_cqd_reader_t *r, const cq_cqd_record_t *rec, int type, cq_event_hdr_t *h,
                     const cq_cqd_instrument_t **in)
{
    if (!r || !rec || !h)
        return CQ_EINVAL;
    if (rec->type != type)
        return CQ_EINVAL;
    if (rec->instrument >= r->ninst)
        return CQ_ECORRUPT;
    *in = &r->inst[rec->instrument];
    h->type = type;
    h->flags = (uint32_t)rec->flags | CQ_EVF_REPLAY;
    h->instrument = r->handles[rec->instrument];
    h->strategy = 0;
    h->ts_event = rec->ts_event;
    h->ts_init = rec->ts_init;
    return 0;
}

#define PRICE(in, t) scaled((t), (in)->tick_units, (in)->price_precision)
#define QTY(in, s) scaled((s), (in)->step_units, (in)->size_precision)

int cq_cqd_to_trade(const cq_cqd_reader_t *r, const cq_cqd_record_t *rec, cq_trade_t *out)
{
    const cq_cqd_instrument_t *in;
    int rc = event_hdr(r, rec, CQ_EV_TRADE, out ? &out->hdr : NULL, &in);
    if (rc)
        return rc;
    out->price = PRICE(in, rec->trade.price);
    out->qty = QTY(in, rec->trade.qty);
    out->trade_id = rec->trade.trade_id;
    out->aggressor = rec->side;
    out->reserved_ = 0;
    return 0;
}

int cq_cqd_to_quote(const cq_cqd_reader_t *r, const cq_cqd_record_t *rec, cq_quote_t *out)
{
    const cq_cqd_instrument_t *in;
    int rc = event_hdr(r, rec, CQ_EV_QUOTE, out ? &out->hdr : NULL, &in);
    if (rc)
        return rc;
    out->bid_price = PRICE(in, rec->quote.bid_price);
    out->bid_qty = QTY(in, rec->quote.bid_qty);
    out->ask_price = PRICE(in, rec->quote.ask_price);
    out->ask_qty = QTY(in, rec->quote.ask_qty);
    out->update_id = rec->quote.update_id;
    return 0;
}

int cq_cqd_to_delta(const cq_cqd_reader_t *r, const cq_cqd_record_t *rec, cq_book_delta_t *out)
{
    const cq_cqd_instrument_t *in;
    int rc = event_hdr(r, rec, CQ_EV_BOOK_DELTA, out ? &out->hdr : NULL, &in);
    if (rc)
        return rc;
    out->price = PRICE(in, rec->delta.price);
    out->qty = QTY(in, rec->delta.qty);
    out->side = rec->side;
    out->action = CQ_BOOK_SET;
    out->sequence = rec->delta.update_id;
    return 0;
}

int cq_cqd_to_bar(const cq_cqd_reader_t *r, const cq_cqd_record_t *rec, cq_bar_t *out)
{
    const cq_cqd_instrument_t *in;
    int rc = event_hdr(r, rec, CQ_EV_BAR, out ? &out->hdr : NULL, &in);
    if (rc)
        return rc;
    /* The record keeps the open time in ts_event; the event's ts_event is
     * the close time (event.h). */
    out->hdr.ts_event = rec->ts_init;
    out->open = PRICE(in, rec->bar.open);
    out->high = PRICE(in, rec->bar.high);
    out->low = PRICE(in, rec->bar.low);
    out->close = PRICE(in, rec->bar.close);
    out->volume = QTY(in, rec->bar.volume);
    out->vwap = 0; /* not recorded */
    out->ts_open = rec->ts_event;
    out->trades = 0;
    out->spec_value = (double)(rec->ts_init - rec->ts_event) / 1e9;
    out->kind = CQ_BAR_TIME;
    out->reserved_ = 0;
    return 0;
}

/* ---- cursor ------------------------------------------------------------------------ */

int cq_cqd_cursor_init(cq_cqd_cursor_t *c, cq_cqd_reader_t *r)
{
    if (!c || !r)
        return CQ_EINVAL;
    c->pos = c->end = NULL;
    c->reader = r;
    c->block = 0;
    c->err = 0;
    c->buf_block = 0;
    c->buf_blocks = 0;
    return 0;
}

static int cursor_fail(cq_cqd_cursor_t *c, int rc)
{
    c->pos = c->end = NULL;
    c->err = rc;
    return rc;
}

static int enter_block(cq_cqd_cursor_t *c, uint64_t b, uint64_t first_index)
{
    cq_cqd_reader_t *r = c->reader;
    uint64_t block_start = b * r->block_records, block_end = block_start + block_len(r, b);
    const cq_cqd_record_t *base;
    if (r->block_records <= CQ_CQD_BLOCK_RECORDS) {
        if (!c->buf_blocks || b < c->buf_block || b - c->buf_block >= c->buf_blocks) {
            uint64_t got;
            c->buf_blocks = 0;
            if (read_blocks(r, b, sizeof c->buf / sizeof c->buf[0], c->buf, &got) != 0)
                return cursor_fail(c, CQ_ECORRUPT);
            c->buf_block = b;
            c->buf_blocks = got;
        }
        base = c->buf + (b - c->buf_block) * r->block_records;
        if (check_block(r, b, base) != 0)
            return cursor_fail(c, CQ_ECORRUPT);
    } else {
        /* blocks larger than the buffer (another writer's choice): in place */
        if (!r->verified[b] && verify_block(r, b) != 0)
            return cursor_fail(c, CQ_ECORRUPT);
        base = r->records + block_start;
    }
    c->pos = base + (first_index - block_start);
    c->end = base + (block_end - block_start);
    c->block = b + 1;
    return 0;
}

int cq_cqd_next_block(cq_cqd_cursor_t *c, const cq_cqd_record_t **rec)
{
    if (!c || !rec || !c->reader)
        return CQ_EINVAL;
    if (c->err)
        return c->err;
    if (c->pos != c->end) { /* called directly instead of through cq_cqd_next */
        *rec = c->pos++;
        return 1;
    }
    if (c->block >= c->reader->nblocks)
        return 0;
    int rc = enter_block(c, c->block, c->block * c->reader->block_records);
    if (rc)
        return rc;
    *rec = c->pos++;
    return 1;
}

int cq_cqd_cursor_seek(cq_cqd_cursor_t *c, cq_cqd_reader_t *r, int64_t ts)
{
    int rc = cq_cqd_cursor_init(c, r);
    if (rc)
        return rc;
    uint64_t lo = 0, hi = r->count; /* first index with ts_init >= ts */
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (r->records[mid].ts_init < ts)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == r->count) {
        c->block = r->nblocks;
        return 0;
    }
    return enter_block(c, lo / r->block_records, lo);
}

/* ---- exact decimals ------------------------------------------------------------------ */

int cq_cqd_format_units(int64_t units, int32_t precision, char *buf, size_t len)
{
    if (!buf || precision < 0 || precision > CQ_CQD_MAX_PRECISION)
        return CQ_EINVAL;
    /* Digits of |units| without overflow for INT64_MIN. */
    uint64_t mag = units < 0 ? (uint64_t)0 - (uint64_t)units : (uint64_t)units;
    char digits[24];
    int nd = 0;
    do {
        digits[nd++] = (char)('0' + mag % 10);
        mag /= 10;
    } while (mag);
    while (nd <= precision) /* at least one digit before the point */
        digits[nd++] = '0';
    size_t need = (size_t)(units < 0) + (size_t)nd + (precision ? 1 : 0);
    if (need + 1 > len)
        return CQ_ETOOLONG;
    char *p = buf;
    if (units < 0)
        *p++ = '-';
    for (int i = nd - 1; i >= 0; i--) {
        *p++ = digits[i];
        if (i == precision && precision)
            *p++ = '.';
    }
    *p = 0;
    return (int)(p - buf);
}

static int format_scaled(int64_t n, int64_t unit, int32_t prec, char *buf, size_t len)
{
    int64_t units;
    if (__builtin_mul_overflow(n, unit, &units))
        return CQ_ERANGE;
    return cq_cqd_format_units(units, prec, buf, len);
}

int cq_cqd_format_price(const cq_cqd_instrument_t *inst, int64_t ticks, char *buf, size_t len)
{
    if (!inst)
        return CQ_EINVAL;
    return format_scaled(ticks, inst->tick_units, inst->price_precision, buf, len);
}

int cq_cqd_format_qty(const cq_cqd_instrument_t *inst, int64_t steps, char *buf, size_t len)
{
    if (!inst)
        return CQ_EINVAL;
    return format_scaled(steps, inst->step_units, inst->size_precision, buf, len);
}
