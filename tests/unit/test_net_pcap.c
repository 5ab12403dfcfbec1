/* pcap mirroring: frames that go through a switch with a mirror are read
 * back by tshark (an independent reader of the format), plus the file
 * layout byte by byte, the snap length, and write errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/pcap.h"
#include "net/switch.h"
#include "net_testports.h"

static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t MAC_A[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x0a };
static const uint8_t MAC_B[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x0b };
static const uint8_t MAC_C[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x0c };

/* ---- fixture: a scratch directory under /tmp, removed afterwards ---- */

struct fx {
    char dir[64];
    char path[128];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/vireo-pcap-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof(f->path), "%s/mirror.pcap", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void *read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    long n = ftell(fp);
    assert_true(n >= 0);
    rewind(fp);
    void *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    *len = (size_t)n;
    return buf;
}

static uint32_t u32_at(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static bool in_path(const char *prog)
{
    const char *path = getenv("PATH");
    char dir[512], file[640];
    for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
        size_t n = strcspn(p, ":");
        snprintf(dir, sizeof(dir), "%.*s", (int)n, p);
        snprintf(file, sizeof(file), "%s/%s", n ? dir : ".", prog);
        if (access(file, X_OK) == 0)
            return true;
        p += n + (p[n] == ':');
    }
    return false;
}

/* ---- through a switch, read back by tshark ---- */

struct expect {
    const uint8_t *src, *dst;
    int vlan;       /* -1: no tag in the file */
    size_t len;     /* on the wire, tag included */
};

static void test_mirror_read_by_tshark(void **state)
{
    struct fx *f = *state;
    if (!in_path("tshark"))
        fail_msg("tshark not found in PATH: install it (scripts/deps.sh test installs it)");

    struct net_switch_config cfg = { .name = "pcap" };
    struct net_switch *sw = net_switch_new(&cfg);
    assert_non_null(sw);
    static struct tlog log;
    static struct tport tp[3];
    /* 0: access VLAN 1; 1: trunk, native 1, carrying 10; 2: access 10. */
    for (unsigned i = 0; i < 3; i++) {
        tport_init(&tp[i], i, &log);
        assert_int_equal(net_switch_attach(sw, &tp[i].port), 0);
    }
    net_vlan_trunk(&tp[1].port.vlan, 1);
    net_vlan_allow(&tp[1].port.vlan, 10);
    net_vlan_access(&tp[2].port.vlan, 10);

    char err[256];
    struct net_pcap *pc = net_pcap_open(f->path, err, sizeof(err));
    assert_non_null(pc);
    net_switch_set_mirror(sw, pc);

    static uint8_t buf[NET_FRAME_MAX];
    static const struct expect want[] = {
        { MAC_A, BCAST, -1, 60 },     /* VLAN 1: written untagged */
        { MAC_B, MAC_A, 10, 64 },     /* tagged 10 on the trunk */
        { MAC_C, BCAST, 10, 3004 },   /* a 3000-byte frame in VLAN 10 */
        { MAC_A, MAC_B, -1, 9000 },   /* jumbo, VLAN 1 */
        { MAC_B, BCAST, -1, 60 },     /* tagged 1 on the trunk: VLAN 1 */
    };
    tport_send(&tp[0], buf, tframe(buf, BCAST, MAC_A, false, 0, 0x88b5, 46));
    tport_send(&tp[1], buf, tframe(buf, MAC_A, MAC_B, true, 10, 0x88b5, 46));
    tport_send(&tp[2], buf, tframe(buf, BCAST, MAC_C, false, 0, 0x88b5, 2986));
    /* Dropped (a tag on an access port): not in the capture. */
    tport_send(&tp[2], buf, tframe(buf, BCAST, MAC_C, true, 10, 0x88b5, 46));
    tport_send(&tp[0], buf, tframe(buf, MAC_B, MAC_A, false, 0, 0x88b5, 8986));
    tport_send(&tp[1], buf, tframe(buf, BCAST, MAC_B, true, 1, 0x88b5, 46));
    assert_int_equal(net_switch_stats(sw)->frames, 5);

    /* Read while the mirror is still open: every record is out already. */
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "tshark -r '%s' -T fields -e eth.src -e eth.dst -e vlan.id -e frame.len", f->path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[256];
    unsigned n = 0;
    while (fgets(line, sizeof(line), p)) {
        assert_true(n < sizeof(want) / sizeof(want[0]));
        const struct expect *w = &want[n++];
        char src[32], dst[32], exp[128];
        snprintf(src, sizeof(src), "%02x:%02x:%02x:%02x:%02x:%02x", w->src[0], w->src[1], w->src[2], w->src[3],
                 w->src[4], w->src[5]);
        snprintf(dst, sizeof(dst), "%02x:%02x:%02x:%02x:%02x:%02x", w->dst[0], w->dst[1], w->dst[2], w->dst[3],
                 w->dst[4], w->dst[5]);
        char vlan[16] = "";
        if (w->vlan >= 0)
            snprintf(vlan, sizeof(vlan), "%d", w->vlan);
        snprintf(exp, sizeof(exp), "%s\t%s\t%s\t%zu\n", src, dst, vlan, w->len);
        assert_string_equal(line, exp);
    }
    int rc = pclose(p);
    assert_int_equal(rc, 0);
    assert_int_equal(n, sizeof(want) / sizeof(want[0]));
    assert_int_equal(net_pcap_errors(pc), 0);

    net_switch_set_mirror(sw, NULL);
    net_pcap_close(pc);
    net_switch_free(sw);
}

/* ---- the file itself ---- */

static void test_file_layout(void **state)
{
    struct fx *f = *state;
    char err[256];
    struct net_pcap *pc = net_pcap_open(f->path, err, sizeof(err));
    assert_non_null(pc);
    static uint8_t frame[300000];
    memset(frame, 0x5a, sizeof(frame));
    memcpy(frame, BCAST, 6);
    memcpy(frame + 6, MAC_A, 6);
    struct net_pkt pkt = { .data = frame, .len = 60 };
    net_pcap_write(pc, &pkt, 0, 1700000000ull * 1000000000ull + 123456789ull);
    net_pcap_write(pc, &pkt, 42, 1700000001ull * 1000000000ull);
    /* Bigger than the snap length: cut, with the full size recorded. */
    pkt.len = sizeof(frame);
    net_pcap_write(pc, &pkt, 7, 1700000002ull * 1000000000ull);
    net_pcap_close(pc);

    size_t len;
    uint8_t *b = read_file(f->path, &len);
    assert_int_equal(len, 24 + (16 + 60) + (16 + 64) + (16 + 262144));
    /* File header: magic, version 2.4, zone 0, sigfigs 0, snaplen, link type Ethernet. */
    assert_int_equal(u32_at(b), 0xa1b2c3d4);
    assert_int_equal(b[4] | b[5] << 8, 2);
    assert_int_equal(b[6] | b[7] << 8, 4);
    assert_int_equal(u32_at(b + 8), 0);
    assert_int_equal(u32_at(b + 12), 0);
    assert_int_equal(u32_at(b + 16), 262144);
    assert_int_equal(u32_at(b + 20), 1);

    const uint8_t *r = b + 24;
    assert_int_equal(u32_at(r), 1700000000);
    assert_int_equal(u32_at(r + 4), 123456);
    assert_int_equal(u32_at(r + 8), 60);
    assert_int_equal(u32_at(r + 12), 60);
    assert_memory_equal(r + 16, frame, 60);

    r += 16 + 60;
    assert_int_equal(u32_at(r), 1700000001);
    assert_int_equal(u32_at(r + 4), 0);
    assert_int_equal(u32_at(r + 8), 64);
    assert_int_equal(u32_at(r + 12), 64);
    static const uint8_t tag42[4] = { 0x81, 0x00, 0x00, 42 };
    assert_memory_equal(r + 16, frame, 12);
    assert_memory_equal(r + 16 + 12, tag42, 4);
    assert_memory_equal(r + 16 + 16, frame + 12, 48);

    r += 16 + 64;
    assert_int_equal(u32_at(r + 8), 262144);
    assert_int_equal(u32_at(r + 12), 300004);
    static const uint8_t tag7[4] = { 0x81, 0x00, 0x00, 7 };
    assert_memory_equal(r + 16 + 12, tag7, 4);
    assert_memory_equal(r + 16 + 16, frame + 12, 262144 - 16);
    free(b);
}

static void test_open_errors(void **state)
{
    struct fx *f = *state;
    char err[256], path[192];
    snprintf(path, sizeof(path), "%s/no/such/dir.pcap", f->dir);
    assert_null(net_pcap_open(path, err, sizeof(err)));
    assert_non_null(strstr(err, path));
    /* Opens, but the file header cannot be written. */
    assert_null(net_pcap_open("/dev/full", err, sizeof(err)));
    assert_non_null(strstr(err, "/dev/full"));
}

/* A full disk, played by a file size limit: records that do not fit are
 * counted and left out whole, so the file stays readable. */
static void test_write_errors_counted(void **state)
{
    struct fx *f = *state;
    char err[256];
    struct net_pcap *pc = net_pcap_open(f->path, err, sizeof(err));
    assert_non_null(pc);

    struct rlimit old;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    struct rlimit lim = { .rlim_cur = 24 + 2 * (16 + 60) + 30, .rlim_max = old.rlim_max };
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);

    uint8_t frame[60] = { 0 };
    memcpy(frame, BCAST, 6);
    memcpy(frame + 6, MAC_A, 6);
    struct net_pkt pkt = { .data = frame, .len = sizeof(frame) };
    for (int i = 0; i < 5; i++)
        net_pcap_write(pc, &pkt, 0, 0);

    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, old_handler);
    assert_int_equal(net_pcap_errors(pc), 3);
    /* Room again: writing carries on after the last whole record. */
    net_pcap_write(pc, &pkt, 0, 0);
    assert_int_equal(net_pcap_errors(pc), 3);
    net_pcap_close(pc);

    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_size, 24 + 3 * (16 + 60));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mirror_read_by_tshark, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_errors_counted, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
