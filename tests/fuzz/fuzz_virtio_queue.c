/* Fuzz target: the split virtqueue walker (virtio/queue.c) on its own,
 * against a guest RAM of 64 KiB (its own malloc'd block of exactly that
 * size) holding the descriptor table and rings wherever the input puts
 * them, with a queue size from the input (invalid ones too), at a guest
 * physical base that may sit at the very top of the address space (so
 * address + length wraps).
 *
 * Input: header, then operations until the input ends.
 *   header: cfg u8 (bits 0-1 RAM base: 0x80000000, 0, 2^64 - 64 KiB,
 *           0x1000; bit 2 EVENT_IDX; bit 3 INDIRECT_DESC; bit 4 raw u64
 *           ring addresses follow instead of u16 offsets), size u8 (0xf0 and
 *           above: raw u16 follows, else 1 << (byte % 9)), desc, avail, used.
 *   operations (u8, low 4 bits):
 *     0 patch RAM: off u16, len u8, bytes
 *     1 descriptor: table u16 (offset), idx u8, flags u8 (bit 7 raw u64
 *       address, bit 6 raw u32 length, bit 5 u16 next), addr, len, next
 *     2 publish: head u16 (ring slot from the driver's own index)
 *     3 set avail->idx: u16
 *     4 pop until the queue is empty or fails (each chain checked)
 *     5 pop one
 *     6 push the oldest chain taken: written u32
 *     7 fill/flush every chain taken: written u32 each
 *     8 unpop the newest n chains: n u8
 *     9 notify
 *    10 iov helpers on the newest chain: skip u16, len u16, max u8
 *    11 set the queue up again (header fields again)
 *    12 set avail->flags / used_event: flags u16, event u16
 *    13 a run of descriptors (long chains cheaply): table u16, first u8,
 *       count u16 (at most 512), addr u16, stride u16, len u16, flags u8
 *       (bits 1-2 as descriptor flags; bit 7: the last one links back to
 *       the first, bit 6: it links on to first + count); descriptor k is
 *       (addr + k * stride, len, flags | NEXT, first + k + 1)
 *
 * Checked, besides ASan (every byte the walker or its callers touch must be
 * inside the RAM block):
 *   - setup accepts exactly the valid sizes, alignments and placements;
 *   - each chain popped agrees with a separate, simpler model of the spec's
 *     rules (walk with a visited set, indirect tables, readable before
 *     writable, zero-length buffers dropped, lengths that fit 32 bits, at
 *     most VIRTQ_ELEM_MAX buffers): same head, buffer list, counts and
 *     totals; every iov lies inside guest RAM and is non-empty;
 *   - a pop that fails had a reason the model sees (available index ahead
 *     by more than the queue, head out of range, or a chain the model
 *     refuses), the device was failed once, and the queue is stopped; a pop
 *     of 0 means nothing was available;
 *   - push/fill/flush write exactly the used entry and index expected, and
 *     report exactly those bytes (plus the data written) to note_write,
 *     inside RAM;
 *   - iov_to_buf/iov_from_buf/iov_slice move exactly the bytes the window
 *     covers. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "virtio/queue.h"

#define RAM_SIZE 0x10000u
#define KEEP 8 /* chains taken and not yet returned */

#define CHECK(cond)                                                                                 \
    do {                                                                                            \
        if (!(cond)) {                                                                              \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);            \
            abort();                                                                                \
        }                                                                                           \
    } while (0)

struct in {
    const uint8_t *p;
    size_t n;
};

static uint8_t u8(struct in *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}
static uint16_t u16(struct in *in) { uint16_t v = u8(in); return (uint16_t)(v | u8(in) << 8); }
static uint32_t u32(struct in *in) { uint32_t v = u16(in); return v | (uint32_t)u16(in) << 16; }
static uint64_t u64(struct in *in) { uint64_t v = u32(in); return v | (uint64_t)u32(in) << 32; }

/* ---- the world around the queue ---- */

static uint8_t *ram;
static struct virtio_guest_mem mem;
static struct virtio_dev dev;
static struct virtq vq;
static unsigned fails, notifies;
static uint64_t noted;

static void note(void *opaque, uint64_t gpa, uint64_t len)
{
    (void)opaque;
    CHECK(gpa >= mem.base && len <= RAM_SIZE && gpa - mem.base <= RAM_SIZE - len);
    noted += len;
}

static void t_notify(void *o, unsigned q) { (void)o, (void)q; notifies++; }
static void t_config(void *o) { (void)o; }
static void t_failed(void *o) { (void)o; fails++; }
static void t_kick(void *o, unsigned q) { (void)o, (void)q; }
static void t_lock(void *o) { (void)o; }
static const struct virtio_transport_ops tops = { t_notify, t_config, t_failed, t_kick, t_lock, t_lock };
static void d_notify(struct virtio_dev *d, unsigned q) { (void)d, (void)q; }
static const struct virtio_dev_ops dops = { .queue_notify = d_notify };

/* ---- the model: guest addresses, checked with 128-bit arithmetic ---- */

static bool m_range(uint64_t gpa, uint64_t len)
{
    return gpa >= mem.base && (unsigned __int128)(gpa - mem.base) + len <= RAM_SIZE;
}

static uint64_t m_get(uint64_t gpa, unsigned size)
{
    uint64_t v = 0;
    memcpy(&v, ram + (gpa - mem.base), size); /* little-endian host */
    return v;
}

struct mbuf {
    uint64_t gpa;
    uint32_t len;
    bool w;
};

/* The spec's rules for one chain, written as plainly as possible. */
static bool m_walk(uint64_t desc_gpa, unsigned num, bool indirect_ok, unsigned head, struct mbuf *out,
                   unsigned *nout)
{
    uint64_t table = desc_gpa;
    unsigned size = num, i = head, n = 0;
    bool in_ind = false, seen_w = false;
    uint64_t tot_r = 0, tot_w = 0;
    static uint8_t visited[VIRTQ_ELEM_MAX];
    memset(visited, 0, sizeof(visited));
    for (;;) {
        if (visited[i])
            return false; /* a loop */
        visited[i] = 1;
        uint64_t d = table + 16ull * i;
        uint64_t addr = m_get(d, 8);
        uint32_t len = (uint32_t)m_get(d + 8, 4);
        uint16_t flags = (uint16_t)m_get(d + 12, 2), next = (uint16_t)m_get(d + 14, 2);
        if (flags & VIRTQ_DESC_F_INDIRECT) {
            if (!indirect_ok || in_ind || (flags & VIRTQ_DESC_F_NEXT))
                return false;
            if (len == 0 || len % 16 || len / 16 > VIRTQ_ELEM_MAX || !m_range(addr, len))
                return false;
            table = addr;
            size = len / 16;
            in_ind = true;
            memset(visited, 0, sizeof(visited));
            i = 0;
            continue;
        }
        if (len) {
            if (!m_range(addr, len) || n == VIRTQ_ELEM_MAX)
                return false;
            bool w = flags & VIRTQ_DESC_F_WRITE;
            if (!w && seen_w)
                return false;
            seen_w |= w;
            *(w ? &tot_w : &tot_r) += len;
            if (tot_w > UINT32_MAX || tot_r > UINT32_MAX)
                return false;
            out[n++] = (struct mbuf){ addr, len, w };
        }
        if (!(flags & VIRTQ_DESC_F_NEXT))
            break;
        i = next;
        if (i >= size)
            return false;
    }
    *nout = n;
    return true;
}

/* ---- the queue as the input sets it up ---- */

static uint64_t q_desc, q_avail, q_used;
static uint32_t q_num;   /* as asked, maybe invalid */
static bool q_ok;        /* set up */
static uint16_t drv_idx; /* the driver's avail index */
static struct virtq_elem *taken[KEEP];
static unsigned ntaken;

static bool m_setup_ok(uint32_t num, uint64_t d, uint64_t a, uint64_t u)
{
    if (num == 0 || num > VIRTIO_QUEUE_MAX || (num & (num - 1)))
        return false;
    if ((d & 15) || (a & 1) || (u & 3))
        return false;
    return m_range(d, 16ull * num) && m_range(a, 6 + 2ull * num) && m_range(u, 6 + 8ull * num);
}

static void setup(struct in *in, uint8_t cfg)
{
    uint8_t b = u8(in);
    q_num = b >= 0xf0 ? u16(in) : 1u << (b % 9);
    if (cfg & 16) {
        q_desc = u64(in), q_avail = u64(in), q_used = u64(in);
    } else {
        q_desc = mem.base + u16(in), q_avail = mem.base + u16(in), q_used = mem.base + u16(in);
    }
    const char *why = NULL;
    uint16_t num16 = q_num > VIRTIO_QUEUE_MAX ? 0 : (uint16_t)q_num; /* the transport refuses > 256 first */
    q_ok = virtq_setup(&vq, &mem, num16, q_desc, q_avail, q_used, &why);
    /* The RAM block is 4 KiB aligned and the bases are too: host alignment
     * follows guest alignment, so the model needs no host check. */
    CHECK(q_ok == m_setup_ok(q_num, q_desc, q_avail, q_used));
    CHECK(q_ok || why);
    vq.event_idx = cfg & 4;
    vq.indirect = cfg & 8;
    atomic_store(&vq.live, q_ok);
    drv_idx = 0;
    ntaken = 0; /* chains of the old setup are forgotten (freed below) */
}

static uint16_t avail_idx_now(void) { return (uint16_t)m_get(q_avail + 2, 2); }

static void push_oldest(uint32_t written);

/* Pop one and hold it against the model. Returns what virtq_pop did. */
static int pop_checked(void)
{
    static struct virtq_elem e;
    uint16_t last = vq.last_avail;
    bool was_live = virtq_live(&vq);
    unsigned fails_before = fails;
    int r = virtq_pop(&vq, &e);
    if (!was_live) {
        CHECK(r == 0);
        return 0;
    }
    if (r == 0) {
        CHECK(vq.last_avail == last && avail_idx_now() == last && fails == fails_before);
        return 0;
    }
    unsigned mask = vq.num - 1;
    uint16_t head = (uint16_t)m_get(q_avail + 4 + 2ull * (last & mask), 2);
    if (r < 0) {
        CHECK(fails == fails_before + 1 && !virtq_live(&vq) && vq.last_avail == last);
        static struct mbuf mb[VIRTQ_ELEM_MAX];
        unsigned n;
        CHECK((uint16_t)(avail_idx_now() - last) > vq.num || head >= vq.num ||
              !m_walk(q_desc, vq.num, vq.indirect, head, mb, &n));
        return -1;
    }
    CHECK(r == 1 && fails == fails_before && vq.last_avail == (uint16_t)(last + 1));
    CHECK(e.head == head && head < vq.num);
    static struct mbuf mb[VIRTQ_ELEM_MAX];
    unsigned n = 0;
    CHECK(m_walk(q_desc, vq.num, vq.indirect, head, mb, &n));
    CHECK((unsigned)e.n_out + e.n_in == n && n <= VIRTQ_ELEM_MAX);
    uint64_t tr = 0, tw = 0;
    for (unsigned i = 0; i < n; i++) {
        const struct iovec *v = &e.iov[i];
        CHECK(v->iov_len && (uint8_t *)v->iov_base >= ram && v->iov_len <= RAM_SIZE &&
              (size_t)((uint8_t *)v->iov_base - ram) <= RAM_SIZE - v->iov_len);
        CHECK((uint8_t *)v->iov_base == ram + (mb[i].gpa - mem.base) && v->iov_len == mb[i].len);
        CHECK(mb[i].w == (i >= e.n_out));
        *(mb[i].w ? &tw : &tr) += v->iov_len;
    }
    CHECK(tr == e.out_len && tw == e.in_len);
    /* Keep it; with no room, give back the oldest first, so the kept
     * chains stay the newest taken (what virtq_unpop may give back). */
    if (ntaken == KEEP)
        push_oldest(0);
    taken[ntaken] = malloc(sizeof(e));
    if (!taken[ntaken])
        abort();
    memcpy(taken[ntaken++], &e, sizeof(e));
    return 1;
}

/* The used entry at position pos after used->idx says (head, len). */
static void check_used_entry(uint16_t idx, uint16_t head, uint32_t len)
{
    uint64_t ent = q_used + 4 + 8ull * (idx & (vq.num - 1));
    CHECK(m_get(ent, 4) == head && m_get(ent + 4, 4) == len);
}

static void push_oldest(uint32_t written)
{
    if (!ntaken)
        return;
    struct virtq_elem *e = taken[0];
    uint16_t before = vq.used_idx;
    uint64_t n0 = noted;
    virtq_push(&vq, e, written);
    uint32_t w = written < e->in_len ? written : e->in_len;
    CHECK(vq.used_idx == (uint16_t)(before + 1));
    CHECK((uint16_t)m_get(q_used + 2, 2) == vq.used_idx);
    check_used_entry(before, e->head, w);
    CHECK(noted - n0 == (uint64_t)w + 8 + 2);
    free(e);
    memmove(taken, taken + 1, --ntaken * sizeof(taken[0]));
}

static void fill_all(struct in *in)
{
    if (!ntaken)
        return;
    uint16_t before = vq.used_idx;
    uint32_t w[KEEP];
    /* In reverse order (positions are independent), unless the queue is
     * smaller than the batch: then in order, so later entries win. */
    bool rev = ntaken <= vq.num;
    for (unsigned k = 0; k < ntaken; k++) {
        unsigned i = rev ? ntaken - 1 - k : k;
        w[i] = u32(in);
        virtq_fill(&vq, taken[i]->head, w[i], (uint16_t)i);
    }
    CHECK(vq.used_idx == before); /* not published yet */
    virtq_flush(&vq, (uint16_t)ntaken);
    CHECK(vq.used_idx == (uint16_t)(before + ntaken) && (uint16_t)m_get(q_used + 2, 2) == vq.used_idx);
    /* With a queue of size 1..KEEP-1 later entries overwrite earlier ones:
     * only the last num are still there. */
    for (unsigned i = ntaken > vq.num ? ntaken - vq.num : 0; i < ntaken; i++)
        check_used_entry((uint16_t)(before + i), taken[i]->head, w[i]);
    for (unsigned i = 0; i < ntaken; i++)
        free(taken[i]);
    ntaken = 0;
}

static void iov_ops(struct in *in)
{
    size_t skip = u16(in), len = u16(in);
    unsigned max = u8(in) % (VIRTQ_ELEM_MAX + 4);
    if (!ntaken)
        return;
    const struct virtq_elem *e = taken[ntaken - 1];
    unsigned n = (unsigned)e->n_out + e->n_in;
    size_t total = (size_t)e->out_len + e->in_len;
    size_t want = skip >= total ? 0 : (total - skip < len ? total - skip : len);
    /* A flat copy of the window, gathered by hand. */
    uint8_t *flat = malloc(want ? want : 1), *buf = malloc(len ? len : 1);
    if (!flat || !buf)
        abort();
    size_t pos = 0, k = 0;
    for (unsigned i = 0; i < n; i++)
        for (size_t j = 0; j < e->iov[i].iov_len; j++, pos++)
            if (pos >= skip && k < want)
                flat[k++] = ((uint8_t *)e->iov[i].iov_base)[j];
    CHECK(k == want);
    CHECK(iov_to_buf(e->iov, n, skip, buf, len) == want);
    CHECK(!memcmp(buf, flat, want));
    /* Writing the same bytes back changes nothing visible. */
    CHECK(iov_from_buf(e->iov, n, skip, flat, want) == want);
    static struct iovec dst[VIRTQ_ELEM_MAX + 4];
    int s = iov_slice(e->iov, n, skip, len, dst, max);
    if (len && skip + len > total) {
        CHECK(s < 0);
    } else if (s >= 0) {
        size_t sum = 0;
        CHECK((unsigned)s <= max);
        for (int i = 0; i < s; i++) {
            CHECK(dst[i].iov_len && (uint8_t *)dst[i].iov_base >= ram &&
                  (size_t)((uint8_t *)dst[i].iov_base - ram) + dst[i].iov_len <= RAM_SIZE);
            sum += dst[i].iov_len;
        }
        CHECK(sum == len);
        CHECK(iov_to_buf(dst, (unsigned)s, 0, buf, len) == len && !memcmp(buf, flat, len));
    } else {
        CHECK(len); /* an empty window always fits */
    }
    free(flat);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint64_t bases[] = { 0x80000000ull, 0, 0ull - RAM_SIZE, 0x1000 };
    vlog_set_level(VLOG_ERROR);
    struct in in = { data, size };
    ram = aligned_alloc(4096, RAM_SIZE);
    if (!ram)
        abort();
    memset(ram, 0, RAM_SIZE);
    uint8_t cfg = u8(&in);
    mem = (struct virtio_guest_mem){ .host = ram, .base = bases[cfg & 3], .size = RAM_SIZE, .note_write = note };
    memset(&dev, 0, sizeof(dev));
    dev.ops = &dops;
    snprintf(dev.name, sizeof(dev.name), "virtio-fuzz");
    dev.num_queues = 1;
    dev.vq = &vq;
    dev.mem = &mem;
    dev.tops = &tops;
    memset(&vq, 0, sizeof(vq));
    vq.dev = &dev;
    fails = notifies = 0;
    noted = 0;
    ntaken = 0;
    setup(&in, cfg);

    for (unsigned ops = 0; in.n && ops < 1024; ops++) {
        uint8_t op = u8(&in);
        switch (op & 15) {
        case 0: {
            uint32_t off = u16(&in);
            size_t len = u8(&in);
            if (len > in.n)
                len = in.n;
            if (len > RAM_SIZE - off)
                len = RAM_SIZE - off;
            memcpy(ram + off, in.p, len);
            in.p += len, in.n -= len;
            break;
        }
        case 1: {
            uint32_t table = u16(&in);
            uint8_t idx = u8(&in), fb = u8(&in);
            uint64_t addr = fb & 0x80 ? u64(&in) : mem.base + u16(&in);
            uint32_t len = fb & 0x40 ? u32(&in) : u16(&in);
            uint16_t next = fb & 0x20 ? u16(&in) : u8(&in);
            uint16_t flags = fb & 7;
            uint64_t off = table + 16ull * idx;
            if (off <= RAM_SIZE - 16) {
                memcpy(ram + off, &addr, 8);
                memcpy(ram + off + 8, &len, 4);
                memcpy(ram + off + 12, &flags, 2);
                memcpy(ram + off + 14, &next, 2);
            }
            break;
        }
        case 2: {
            uint16_t head = u16(&in);
            if (q_ok) {
                memcpy(ram + (q_avail - mem.base) + 4 + 2 * (drv_idx & (vq.num - 1)), &head, 2);
                drv_idx++;
                memcpy(ram + (q_avail - mem.base) + 2, &drv_idx, 2);
            }
            break;
        }
        case 3: {
            uint16_t idx = u16(&in);
            if (q_ok) {
                drv_idx = idx;
                memcpy(ram + (q_avail - mem.base) + 2, &idx, 2);
            }
            break;
        }
        case 4:
            /* Terminates: each success takes one of at most num entries
             * the index allows, and a failure stops the queue; our own
             * used ring writes may move avail->idx if the rings overlap,
             * hence the bound. */
            for (unsigned i = 0; i < 4 * VIRTIO_QUEUE_MAX && pop_checked() > 0; i++)
                ;
            break;
        case 5:
            pop_checked();
            break;
        case 6:
            push_oldest(u32(&in));
            break;
        case 7:
            fill_all(&in);
            break;
        case 8: {
            unsigned n = u8(&in) % (ntaken + 1);
            if (n) {
                virtq_unpop(&vq, (uint16_t)n);
                for (unsigned i = ntaken - n; i < ntaken; i++)
                    free(taken[i]);
                ntaken -= n;
            }
            break;
        }
        case 9: {
            unsigned before = notifies;
            uint16_t signalled = vq.signalled_used;
            virtq_notify(&vq);
            CHECK(notifies - before <= 1);
            if (signalled == vq.used_idx)
                CHECK(notifies == before);
            CHECK(vq.signalled_used == vq.used_idx || !vq.num);
            break;
        }
        case 10:
            iov_ops(&in);
            break;
        case 11:
            for (unsigned i = 0; i < ntaken; i++)
                free(taken[i]);
            setup(&in, (uint8_t)(cfg & 3) | (u8(&in) & ~3u));
            break;
        case 12: {
            uint16_t flags = u16(&in), ev = u16(&in);
            if (q_ok) {
                memcpy(ram + (q_avail - mem.base), &flags, 2);
                memcpy(ram + (q_avail - mem.base) + 4 + 2 * vq.num, &ev, 2);
            }
            break;
        }
        case 13: {
            uint32_t table = u16(&in);
            unsigned first = u8(&in), count = u16(&in) % 513;
            uint16_t addr = u16(&in), stride = u16(&in), len16 = u16(&in);
            uint8_t fb = u8(&in);
            for (unsigned k = 0; k < count; k++) {
                uint64_t off = table + 16ull * (first + k);
                if (off > RAM_SIZE - 16)
                    break;
                uint64_t a = mem.base + (uint16_t)(addr + k * stride);
                uint32_t len = len16;
                bool last = k + 1 == count;
                uint16_t flags = (fb & 6) | (!last || (fb & 0xc0) ? VIRTQ_DESC_F_NEXT : 0);
                uint16_t next = (uint16_t)(last && (fb & 0x80) ? first : first + k + 1);
                memcpy(ram + off, &a, 8);
                memcpy(ram + off + 8, &len, 4);
                memcpy(ram + off + 12, &flags, 2);
                memcpy(ram + off + 14, &next, 2);
            }
            break;
        }
        default:
            break;
        }
    }
    for (unsigned i = 0; i < ntaken; i++)
        free(taken[i]);
    free(ram);
    return 0;
}
