#include "virtio/blk.h"

#include <endian.h>
#include <stdatomic.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/log.h"
#include "virtio/queue.h"

#define SECTOR 512u
/* seg_max + header + status must fit one chain (VIRTQ_ELEM_MAX). */
#define BLK_SEG_MAX (VIRTQ_ELEM_MAX - 2)
/* Per discard/write-zeroes segment: 2 GiB, and 32 segments a request. */
#define BLK_MAX_DISCARD_SECTORS 0x3fffffu
#define BLK_MAX_DISCARD_SEG 32u
/* Discard granularity the guest is told: 4 KiB, the host page/fs block. */
#define BLK_DISCARD_ALIGN 8u

struct blk_req {
    struct virtq_elem elem;
    uint32_t type;
    uint64_t sector;
    uint8_t *status;    /* last byte of the writable part */
    uint32_t data_in;   /* writable bytes before the status byte */
    uint32_t data_out;  /* readable bytes after the header */
    uint32_t written;   /* bytes of data the device wrote */
};

struct blk {
    struct virtio_dev dev;
    int fd;
    bool ro;
    uint64_t capacity; /* sectors */
    char serial[VIRTIO_BLK_ID_BYTES];
    uint8_t config[VIRTIO_BLK_CFG_LEN];
    struct blk_req req; /* one at a time while requests are synchronous */
    /* Counters for `vireo vm show --stats`: written on the I/O thread,
     * read from the control thread. */
    _Atomic uint64_t rd_reqs, rd_bytes, wr_reqs, wr_bytes, flushes, errors;
    int reported_errno; /* the last host error logged (each kind once in a row) */
};

static void put32(uint8_t *p, uint32_t v) { v = htole32(v); memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { v = htole64(v); memcpy(p, &v, 8); }

/* Whole transfer at off, retrying short transfers; false on error or EOF
 * (the file shrank under us). iov is consumed. */
static bool rw_full(int fd, struct iovec *iov, int n, uint64_t off, bool write)
{
    while (n > 0) {
        ssize_t r = write ? pwritev(fd, iov, n, (off_t)off) : preadv(fd, iov, n, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0)
            errno = ENODATA; /* end of file: the image shrank under us */
        if (r <= 0)
            return false;
        off += (uint64_t)r;
        size_t done = (size_t)r;
        while (n > 0 && done >= iov->iov_len) {
            done -= iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0 && done) {
            iov->iov_base = (uint8_t *)iov->iov_base + done;
            iov->iov_len -= done;
        }
    }
    return true;
}

/* The host failed a request the guest made correctly (a full disk, an I/O
 * error, a truncated image): the guest gets an I/O error and the user one
 * line per kind of failure, not one per request. */
static uint8_t host_error(struct blk *b, const char *what)
{
    int e = errno;
    if (e != b->reported_errno) {
        b->reported_errno = e;
        vwarn("%s: %s failed on the host: %s; the guest gets I/O errors (counted in the VM's disk stats)",
              b->dev.name, what, e == ENODATA ? "the image is shorter than the disk" : strerror(e));
    }
    return VIRTIO_BLK_S_IOERR;
}

static bool range_ok(const struct blk *b, uint64_t sector, uint64_t nsec)
{
    return sector <= b->capacity && nsec <= b->capacity - sector;
}

static uint8_t do_rw(struct blk *b, struct blk_req *r, bool write)
{
    const struct virtq_elem *e = &r->elem;
    uint32_t len = write ? r->data_out : r->data_in;
    if (write && b->ro)
        return VIRTIO_BLK_S_IOERR;
    if (len % SECTOR || !range_ok(b, r->sector, len / SECTOR))
        return VIRTIO_BLK_S_IOERR;
    if (!len)
        return VIRTIO_BLK_S_OK;
    struct iovec iov[VIRTQ_ELEM_MAX];
    int n = write ? iov_slice(e->iov, e->n_out, 16, len, iov, VIRTQ_ELEM_MAX)
                  : iov_slice(e->iov + e->n_out, e->n_in, 0, len, iov, VIRTQ_ELEM_MAX);
    if (n < 0)
        return VIRTIO_BLK_S_IOERR;
    if (!rw_full(b->fd, iov, n, r->sector * SECTOR, write))
        return host_error(b, write ? "a write" : "a read");
    if (!write)
        r->written = len;
    return VIRTIO_BLK_S_OK;
}

static bool write_zeroes_slow(int fd, uint64_t off, uint64_t len)
{
    static const uint8_t zero[65536];
    while (len) {
        size_t l = len < sizeof(zero) ? (size_t)len : sizeof(zero);
        struct iovec iov = { (void *)zero, l };
        if (!rw_full(fd, &iov, 1, off, true))
            return false;
        off += l;
        len -= l;
    }
    return true;
}

static uint8_t do_discard(struct blk *b, struct blk_req *r, bool zeroes)
{
    unsigned feature = zeroes ? VIRTIO_BLK_F_WRITE_ZEROES : VIRTIO_BLK_F_DISCARD;
    if (!virtio_dev_has(&b->dev, feature))
        return VIRTIO_BLK_S_UNSUPP;
    if (b->ro || r->data_out == 0 || r->data_out % 16 || r->data_out / 16 > BLK_MAX_DISCARD_SEG)
        return VIRTIO_BLK_S_IOERR;
    unsigned nseg = r->data_out / 16;
    struct { uint64_t sector; uint32_t num, flags; } seg[BLK_MAX_DISCARD_SEG];
    iov_to_buf(r->elem.iov, r->elem.n_out, 16, seg, r->data_out);
    /* Check every segment before touching the file. */
    for (unsigned i = 0; i < nseg; i++) {
        seg[i].sector = le64toh(seg[i].sector);
        seg[i].num = le32toh(seg[i].num);
        seg[i].flags = le32toh(seg[i].flags);
        uint32_t known = zeroes ? VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0;
        if (seg[i].flags & ~known)
            return VIRTIO_BLK_S_UNSUPP;
        if (seg[i].num > BLK_MAX_DISCARD_SECTORS || !range_ok(b, seg[i].sector, seg[i].num))
            return VIRTIO_BLK_S_IOERR;
    }
    for (unsigned i = 0; i < nseg; i++) {
        off_t off = (off_t)(seg[i].sector * SECTOR), len = (off_t)seg[i].num * SECTOR;
        if (!len)
            continue;
        if (!zeroes || (seg[i].flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP)) {
            /* A punched hole reads as zeroes, so it serves both. */
            if (fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len) == 0)
                continue;
            if (!zeroes && (errno == EOPNOTSUPP || errno == ENOSYS))
                continue; /* discard is a hint: leaving the data is allowed */
        } else if (fallocate(b->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, off, len) == 0) {
            continue;
        }
        if (!zeroes || !write_zeroes_slow(b->fd, (uint64_t)off, (uint64_t)len))
            return host_error(b, zeroes ? "a write of zeroes" : "a discard");
    }
    return VIRTIO_BLK_S_OK;
}

/* The execution step: may block on the disk. Everything it needs is in r;
 * a worker thread could run it as it stands. */
static uint8_t blk_execute(struct blk *b, struct blk_req *r)
{
    switch (r->type) {
    case VIRTIO_BLK_T_IN:
        return do_rw(b, r, false);
    case VIRTIO_BLK_T_OUT:
        return do_rw(b, r, true);
    case VIRTIO_BLK_T_FLUSH:
        if (!b->ro && fdatasync(b->fd) < 0)
            return host_error(b, "a flush");
        return VIRTIO_BLK_S_OK;
    case VIRTIO_BLK_T_GET_ID: {
        uint32_t n = r->data_in < VIRTIO_BLK_ID_BYTES ? r->data_in : VIRTIO_BLK_ID_BYTES;
        r->written = (uint32_t)iov_from_buf(r->elem.iov + r->elem.n_out, r->elem.n_in, 0, b->serial, n);
        return VIRTIO_BLK_S_OK;
    }
    case VIRTIO_BLK_T_DISCARD:
        return do_discard(b, r, false);
    case VIRTIO_BLK_T_WRITE_ZEROES:
        return do_discard(b, r, true);
    default:
        return VIRTIO_BLK_S_UNSUPP;
    }
}

static void count(_Atomic uint64_t *c, uint64_t n) { atomic_fetch_add_explicit(c, n, memory_order_relaxed); }

/* The completion step, on the I/O thread. */
static void blk_complete(struct blk *b, struct blk_req *r, uint8_t status)
{
    if (status != VIRTIO_BLK_S_OK)
        count(&b->errors, 1);
    else if (r->type == VIRTIO_BLK_T_IN)
        count(&b->rd_reqs, 1), count(&b->rd_bytes, r->data_in);
    else if (r->type == VIRTIO_BLK_T_OUT)
        count(&b->wr_reqs, 1), count(&b->wr_bytes, r->data_out);
    else if (r->type == VIRTIO_BLK_T_FLUSH)
        count(&b->flushes, 1);
    *r->status = status;
    virtq_push(&b->dev.vq[0], &r->elem, r->written + 1);
}

/* The parsing step. False if the chain cannot be a request at all (the
 * device has then been failed). */
static bool blk_parse(struct blk *b, struct blk_req *r)
{
    const struct virtq_elem *e = &r->elem;
    struct { uint32_t type, reserved; uint64_t sector; } hdr;
    if (e->out_len < sizeof(hdr) || e->in_len < 1) {
        virtio_dev_fail(&b->dev, "request without header or status byte (%u readable, %u writable bytes)",
                        e->out_len, e->in_len);
        return false;
    }
    iov_to_buf(e->iov, e->n_out, 0, &hdr, sizeof(hdr));
    r->type = le32toh(hdr.type);
    r->sector = le64toh(hdr.sector);
    const struct iovec *last = &e->iov[e->n_out + e->n_in - 1];
    r->status = (uint8_t *)last->iov_base + last->iov_len - 1;
    r->data_in = e->in_len - 1;
    r->data_out = e->out_len - (uint32_t)sizeof(hdr);
    r->written = 0;
    return true;
}

static void blk_queue_notify(struct virtio_dev *d, unsigned q)
{
    struct blk *b = (struct blk *)d;
    struct virtq *vq = &d->vq[q];
    struct blk_req *r = &b->req;
    /* A fair share per round, so one busy disk cannot starve the loop. */
    unsigned budget = vq->num;
    int got = 0;
    while (budget-- && (got = virtq_pop(vq, &r->elem)) > 0) {
        if (!blk_parse(b, r)) {
            got = -1;
            break;
        }
        blk_complete(b, r, blk_execute(b, r));
    }
    virtq_notify(vq);
    if (got > 0)
        virtio_dev_kick(d, q);
}

static void blk_config_read(struct virtio_dev *d, uint32_t off, void *buf, unsigned size)
{
    memcpy(buf, ((struct blk *)d)->config + off, size);
}

static void blk_free(struct virtio_dev *d)
{
    struct blk *b = (struct blk *)d;
    if (b->fd >= 0)
        close(b->fd);
    free(b);
}

int virtio_blk_fd(struct virtio_dev *d) { return ((struct blk *)d)->fd; }

void virtio_blk_get_stats(struct virtio_dev *d, struct virtio_blk_stats *out)
{
    struct blk *b = (struct blk *)d;
    *out = (struct virtio_blk_stats){
        atomic_load(&b->rd_reqs), atomic_load(&b->rd_bytes), atomic_load(&b->wr_reqs),
        atomic_load(&b->wr_bytes), atomic_load(&b->flushes), atomic_load(&b->errors),
    };
}

static const struct virtio_dev_ops blk_ops = {
    .queue_notify = blk_queue_notify,
    .config_read = blk_config_read,
    .free = blk_free,
};

struct virtio_dev *virtio_blk_new(const struct virtio_blk_opts *o)
{
    int fd = o->use_fd ? fcntl(o->fd, F_DUPFD_CLOEXEC, 0) : open(o->path, (o->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (!o->readonly && (e == EACCES || e == EROFS || e == EPERM))
            verror("cannot open disk image %s for writing: %s (attach it with ,readonly?)", o->path, strerror(e));
        else
            verror("cannot open disk image %s: %s", o->path, strerror(e));
        return NULL;
    }
    struct stat st;
    uint64_t size = 0;
    if (fstat(fd, &st) < 0) {
        verror("cannot open disk image %s: %s", o->path, strerror(errno));
        goto fail;
    }
    if (S_ISREG(st.st_mode)) {
        size = (uint64_t)st.st_size;
    } else if (S_ISBLK(st.st_mode)) {
        if (ioctl(fd, BLKGETSIZE64, &size) < 0) {
            verror("cannot read the size of disk %s: %s", o->path, strerror(errno));
            goto fail;
        }
    } else {
        verror("disk image %s is neither a regular file nor a block device", o->path);
        goto fail;
    }
    /* Two VMs writing one image corrupt it: refuse, as QEMU does. */
    if (flock(fd, (o->readonly ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
        verror("disk image %s is in use by another VM%s", o->path,
               o->readonly ? " (opened for writing there)" : "");
        goto fail;
    }
    if (size % SECTOR)
        vwarn("disk image %s: size %llu is not a multiple of 512; the last %llu bytes are not visible to the guest",
              o->path, (unsigned long long)size, (unsigned long long)(size % SECTOR));

    struct blk *b = calloc(1, sizeof(*b));
    if (!b) {
        verror("disk image %s: out of memory", o->path);
        goto fail;
    }
    b->fd = fd;
    b->ro = o->readonly;
    b->capacity = size / SECTOR;
    const char *serial = o->serial;
    if (!serial) {
        serial = strrchr(o->path, '/');
        serial = serial ? serial + 1 : o->path;
    }
    /* NUL-padded; a 20-byte serial has no terminator (5.2.6). */
    memcpy(b->serial, serial, strnlen(serial, sizeof(b->serial)));

    struct virtio_dev *d = &b->dev;
    d->ops = &blk_ops;
    snprintf(d->name, sizeof(d->name), "virtio-blk %s", o->path);
    d->device_id = VIRTIO_ID_BLOCK;
    d->num_queues = 1;
    d->config_len = VIRTIO_BLK_CFG_LEN;
    d->host_features = (1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_BLK_SIZE) |
                       (1ull << VIRTIO_BLK_F_FLUSH);
    if (b->ro)
        d->host_features |= 1ull << VIRTIO_BLK_F_RO;
    else
        d->host_features |= (1ull << VIRTIO_BLK_F_DISCARD) | (1ull << VIRTIO_BLK_F_WRITE_ZEROES);

    put64(b->config + VIRTIO_BLK_CFG_CAPACITY, b->capacity);
    put32(b->config + VIRTIO_BLK_CFG_SEG_MAX, BLK_SEG_MAX);
    put32(b->config + VIRTIO_BLK_CFG_BLK_SIZE, SECTOR);
    put32(b->config + VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS, BLK_MAX_DISCARD_SECTORS);
    put32(b->config + VIRTIO_BLK_CFG_MAX_DISCARD_SEG, BLK_MAX_DISCARD_SEG);
    put32(b->config + VIRTIO_BLK_CFG_DISCARD_ALIGN, BLK_DISCARD_ALIGN);
    put32(b->config + VIRTIO_BLK_CFG_MAX_WZ_SECTORS, BLK_MAX_DISCARD_SECTORS);
    put32(b->config + VIRTIO_BLK_CFG_MAX_WZ_SEG, BLK_MAX_DISCARD_SEG);
    b->config[VIRTIO_BLK_CFG_WZ_MAY_UNMAP] = 1;
    return d;
fail:
    close(fd);
    return NULL;
}
