/* Classic pcap files (see pcap.h). Layout, as libpcap defines it: a 24-byte
 * file header (magic 0xa1b2c3d4 written in our own byte order, which tells
 * a reader the order of every other field; version 2.4; snap length; link
 * type), then per frame a 16-byte record header (seconds, microseconds,
 * bytes stored, bytes on the wire) followed by the stored bytes.
 *
 * Each record goes out with one writev(2) of its header and the frame's
 * pieces, straight from the frame: no copy into a stdio buffer, and a
 * reader following the file while the switch runs (tail -f | tshark, or a
 * FIFO) sees whole records only. If a write fails half way (disk full),
 * a regular file is cut back to its last whole record so it stays
 * readable; the error is counted and the switch carries on. A FIFO is
 * written at its reader's pace: whoever mirrors into one asked for that. */
#include "net/pcap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"

#define PCAP_MAGIC_USEC 0xa1b2c3d4u
#define PCAP_VERSION_MAJOR 2
#define PCAP_VERSION_MINOR 4
#define PCAP_SNAPLEN 262144u
#define PCAP_LINKTYPE_ETHERNET 1u

struct pcap_file_header {
    uint32_t magic;
    uint16_t version_major, version_minor;
    int32_t thiszone;
    uint32_t sigfigs;
    uint32_t snaplen;
    uint32_t linktype;
};

struct pcap_record_header {
    uint32_t ts_sec, ts_usec;
    uint32_t incl_len, orig_len;
};

struct net_pcap {
    int fd;
    bool seekable;         /* a regular file: a torn record can be cut off */
    off_t good_end;        /* end of the last whole record */
    uint64_t errors;
    char path[256];
};

/* Write all of iov, resuming after short writes. */
static bool write_all(int fd, struct iovec *iov, int n)
{
    while (n > 0) {
        ssize_t w = writev(fd, iov, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        if (w == 0)
            return false;
        size_t done = (size_t)w;
        for (; n > 0 && done >= iov->iov_len; iov++, n--)
            done -= iov->iov_len;
        if (n > 0) {
            iov->iov_base = (uint8_t *)iov->iov_base + done;
            iov->iov_len -= done;
        }
    }
    return true;
}

static void pcap_failed(struct net_pcap *pc, int err)
{
    if (pc->errors++ == 0)
        vwarn("%s: cannot write capture: %s; frames are being left out", pc->path, strerror(err));
    if (pc->seekable && ftruncate(pc->fd, pc->good_end) == 0)
        lseek(pc->fd, pc->good_end, SEEK_SET);
}

static bool pcap_emit(struct net_pcap *pc, struct iovec *iov, int n, size_t len)
{
    if (!write_all(pc->fd, iov, n)) {
        pcap_failed(pc, errno ? errno : EIO);
        return false;
    }
    pc->good_end += (off_t)len;
    return true;
}

struct net_pcap *net_pcap_open(const char *path, char *err, size_t errlen)
{
    struct net_pcap *pc = calloc(1, sizeof(*pc));
    if (!pc) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    snprintf(pc->path, sizeof(pc->path), "%s", path);
    pc->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (pc->fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        free(pc);
        return NULL;
    }
    struct stat st;
    pc->seekable = fstat(pc->fd, &st) == 0 && S_ISREG(st.st_mode);

    struct pcap_file_header h = {
        .magic = PCAP_MAGIC_USEC,
        .version_major = PCAP_VERSION_MAJOR,
        .version_minor = PCAP_VERSION_MINOR,
        .snaplen = PCAP_SNAPLEN,
        .linktype = PCAP_LINKTYPE_ETHERNET,
    };
    struct iovec iov = { &h, sizeof(h) };
    errno = 0;
    if (!write_all(pc->fd, &iov, 1)) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno ? errno : EIO));
        close(pc->fd);
        free(pc);
        return NULL;
    }
    pc->good_end = sizeof(h);
    return pc;
}

void net_pcap_write(struct net_pcap *pc, const struct net_pkt *pkt, uint16_t tag_vid, uint64_t realtime_ns)
{
    /* A tag goes after the two MAC addresses; a frame too short to have
     * them is written as it is. */
    if (pkt->len < 2 * NET_ETH_ALEN)
        tag_vid = 0;
    uint8_t tagbuf[NET_VLAN_HLEN];
    struct iovec iov[4];
    int n = 1 + net_pkt_wire_iov(pkt, tag_vid, tagbuf, iov + 1);
    size_t wire_len = pkt->len + (tag_vid ? NET_VLAN_HLEN : 0);

    /* Keep at most PCAP_SNAPLEN bytes: cut the pieces from the end. */
    size_t stored = wire_len < PCAP_SNAPLEN ? wire_len : PCAP_SNAPLEN;
    size_t excess = wire_len - stored;
    while (excess) {
        size_t cut = excess < iov[n - 1].iov_len ? excess : iov[n - 1].iov_len;
        iov[n - 1].iov_len -= cut;
        excess -= cut;
        if (!iov[n - 1].iov_len)
            n--;
    }

    uint64_t usec = realtime_ns / 1000;
    struct pcap_record_header rh = {
        .ts_sec = (uint32_t)(usec / 1000000),
        .ts_usec = (uint32_t)(usec % 1000000),
        .incl_len = (uint32_t)stored,
        .orig_len = wire_len > UINT32_MAX ? UINT32_MAX : (uint32_t)wire_len,
    };
    iov[0] = (struct iovec){ &rh, sizeof(rh) };
    errno = 0;
    pcap_emit(pc, iov, n, sizeof(rh) + stored);
}

uint64_t net_pcap_errors(const struct net_pcap *pc) { return pc->errors; }

void net_pcap_close(struct net_pcap *pc)
{
    if (!pc)
        return;
    close(pc->fd);
    free(pc);
}
