/* VM and network definitions: see store.h. */
#include "mgmt/store.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "mgmt/paths.h"
#include "net/nat.h"
#include "vmm/nic_config.h"

#define MEM_MIN (16ull << 20)
#define MEM_MAX (64ull << 30)   /* vireo run's limit */
#define MAX_DISKS 6

struct store {
    char data[4096];
    struct store_host host;
    json_t *vms;    /* array of definitions */
    json_t *nets;
};

void store_host_probe(struct store_host *h)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    h->cpus = n > 0 ? (unsigned)n : 1;
    h->memory = (pages > 0 && psz > 0) ? (uint64_t)pages * (uint64_t)psz : MEM_MIN;
}

/* ---- validation helpers ---- */

/* Messages quote the values they refuse, which may hold control
 * characters (a name or an unknown key with a newline in it): those become
 * '?', so that a message stays one line (for definition files it goes to
 * the log, where a newline would forge a line of its own). */
static int fail_scrub(char *err)
{
    for (char *p = err; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    return -1;
}

#define FAIL(...) do { snprintf(err, errlen, __VA_ARGS__); return fail_scrub(err); } while (0)

static bool has_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

static int check_path(json_t *v, const char *field, bool nullable, char *err, size_t errlen)
{
    if (nullable && json_is_null(v))
        return 0;
    if (!json_is_string(v))
        FAIL("%s: expected %s", field, nullable ? "an absolute file name or null" : "an absolute file name");
    const char *s = json_string_value(v);
    if (s[0] != '/' || has_ctl(s) || strlen(s) >= 4096 || json_string_length(v) != strlen(s))
        FAIL("%s '%s': expected an absolute file name without control characters", field, s);
    return 0;
}

static int check_text(json_t *v, const char *field, bool nullable, char *err, size_t errlen)
{
    if (nullable && json_is_null(v))
        return 0;
    if (!json_is_string(v))
        FAIL("%s: expected a string%s", field, nullable ? " or null" : "");
    const char *s = json_string_value(v);
    if (has_ctl(s) || json_string_length(v) != strlen(s) || strlen(s) > 4000)
        FAIL("%s: control characters are not allowed (and at most 4000 characters)", field);
    return 0;
}

static int check_name(json_t *v, const char *what, char *err, size_t errlen)
{
    if (!json_is_string(v))
        FAIL("name: expected a string");
    const char *s = json_string_value(v);
    if (!mgmt_name_valid(s) || json_string_length(v) != strlen(s))
        FAIL("name '%s': a %s name has 1-48 letters, digits, '.', '_' or '-' and does not start with '.' or '-'",
             s, what);
    return 0;
}

static int check_int(json_t *v, const char *field, json_int_t lo, json_int_t hi, char *err, size_t errlen)
{
    if (!json_is_integer(v))
        FAIL("%s: expected a whole number", field);
    json_int_t x = json_integer_value(v);
    if (x < lo || x > hi)
        FAIL("%s %" JSON_INTEGER_FORMAT ": expected %" JSON_INTEGER_FORMAT " to %" JSON_INTEGER_FORMAT, field, x,
             lo, hi);
    return 0;
}

static int check_strings(json_t *v, const char *field, size_t max, char *err, size_t errlen)
{
    size_t i;
    json_t *e;
    if (!json_is_array(v))
        FAIL("%s: expected a list of strings", field);
    if (json_array_size(v) > max)
        FAIL("%s: at most %zu entries", field, max);
    json_array_foreach(v, i, e) {
        if (!json_is_string(e))
            FAIL("%s[%zu]: expected a string", field, i);
        if (has_ctl(json_string_value(e)) || json_string_length(e) != strlen(json_string_value(e)))
            FAIL("%s[%zu]: control characters are not allowed", field, i);
    }
    return 0;
}

/* Every key of obj must be one of keys[] (NULL-terminated). */
static int check_known(json_t *obj, const char *const *keys, const char *where, char *err, size_t errlen)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        bool ok = false;
        for (size_t i = 0; keys[i]; i++)
            if (!strcmp(k, keys[i]))
                ok = true;
        if (!ok)
            FAIL("%s'%s': unknown field", where, k);
    }
    return 0;
}

static const char *const vm_keys[] = { "name", "uuid", "cpus", "memory", "kernel", "initrd", "append", "cmdline",
                                       "firmware", "disks", "nics", "cpu_cap", "cpu_affinity", "balloon", "created", NULL };
static const char *const disk_keys[] = { "path", "readonly", NULL };
static const char *const nic_keys[] = { "spec", "natpf", NULL };
static const char *const net_keys[] = { "name", "kind", "cidr", "mtu", "dhcp", "natpf", "uplinks", "pcap", NULL };

static int check_nic(json_t *nic, size_t i, char *err, size_t errlen)
{
    char where[32], e2[256];
    snprintf(where, sizeof(where), "nics[%zu].", i);
    if (!json_is_object(nic))
        FAIL("nics[%zu]: expected an object {\"spec\": ..., \"natpf\": [...]}", i);
    if (check_known(nic, nic_keys, where, err, errlen) < 0)
        return -1;
    json_t *spec = json_object_get(nic, "spec"), *natpf = json_object_get(nic, "natpf");
    if (!json_is_string(spec))
        FAIL("nics[%zu].spec: expected a string such as \"nat\"", i);
    if (has_ctl(json_string_value(spec)))
        FAIL("nics[%zu].spec: control characters are not allowed", i);
    static struct nic_config c;   /* large; the store is used from one thread at a time */
    if (nic_config_parse(json_string_value(spec), &c, e2, sizeof(e2)) < 0)
        FAIL("nics[%zu].spec '%s': %s", i, json_string_value(spec), e2);
    if (natpf) {
        char f[48];
        snprintf(f, sizeof(f), "nics[%zu].natpf", i);
        if (check_strings(natpf, f, NIC_MAX_NATPF, err, errlen) < 0)
            return -1;
        size_t j;
        json_t *r;
        json_array_foreach(natpf, j, r) {
            if (nic_config_add_natpf(&c, json_string_value(r), e2, sizeof(e2)) < 0)
                FAIL("nics[%zu].natpf[%zu] '%s': %s", i, j, json_string_value(r), e2);
        }
    }
    return 0;
}

int store_vm_validate(const struct store_host *host, json_t *def, bool for_file, char *err, size_t errlen)
{
    if (!json_is_object(def))
        FAIL("a VM definition is a JSON object");
    if (check_known(def, vm_keys, "", err, errlen) < 0)
        return -1;
    for (size_t i = 0; vm_keys[i]; i++)
        if (!json_object_get(def, vm_keys[i]))
            FAIL("'%s': missing", vm_keys[i]);
    if (check_name(json_object_get(def, "name"), "VM", err, errlen) < 0)
        return -1;
    json_t *v = json_object_get(def, "uuid");
    if (!json_is_string(v) || json_string_length(v) != 36)
        FAIL("uuid: expected a UUID string");
    v = json_object_get(def, "cpus");
    if (!json_is_integer(v))
        FAIL("cpus: expected a whole number");
    if (!for_file && (json_integer_value(v) < 1 || json_integer_value(v) > host->cpus))
        FAIL("cpus %" JSON_INTEGER_FORMAT ": this host has %u logical CPUs (a VM may have 1 to %u)",
             json_integer_value(v), host->cpus, host->cpus);
    if (check_int(v, "cpus", 1, 512, err, errlen) < 0)
        return -1;
    v = json_object_get(def, "memory");
    if (!json_is_integer(v))
        FAIL("memory: expected a number of bytes");
    json_int_t mem = json_integer_value(v);
    uint64_t hi = MEM_MAX;
    if (!for_file && host->memory < hi)
        hi = host->memory;
    if (mem < (json_int_t)MEM_MIN || (uint64_t)mem > hi)
        FAIL("memory %" JSON_INTEGER_FORMAT ": expected 16 MiB to %" PRIu64 " MiB (%s)", mem, hi >> 20,
             hi == MEM_MAX ? "vireo's limit" : "this host's RAM");
    if (mem % 4096)
        FAIL("memory %" JSON_INTEGER_FORMAT ": must be a multiple of 4096", mem);
    if (check_path(json_object_get(def, "kernel"), "kernel", true, err, errlen) < 0 ||
        check_path(json_object_get(def, "initrd"), "initrd", true, err, errlen) < 0 ||
        check_text(json_object_get(def, "append"), "append", false, err, errlen) < 0 ||
        check_text(json_object_get(def, "cmdline"), "cmdline", true, err, errlen) < 0)
        return -1;
    v = json_object_get(def, "firmware");
    if (!(json_is_string(v) && !strcmp(json_string_value(v), "builtin")) &&
        check_path(v, "firmware", false, err, errlen) < 0)
        FAIL("firmware: expected \"builtin\" or an absolute file name");
    v = json_object_get(def, "disks");
    if (!json_is_array(v))
        FAIL("disks: expected a list of {\"path\": ..., \"readonly\": false}");
    if (json_array_size(v) > MAX_DISKS)
        FAIL("disks: at most %d disks", MAX_DISKS);
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
        char f[48];
        snprintf(f, sizeof(f), "disks[%zu].", i);
        if (!json_is_object(e))
            FAIL("disks[%zu]: expected an object {\"path\": ..., \"readonly\": false}", i);
        if (check_known(e, disk_keys, f, err, errlen) < 0)
            return -1;
        snprintf(f, sizeof(f), "disks[%zu].path", i);
        if (check_path(json_object_get(e, "path"), f, false, err, errlen) < 0)
            return -1;
        json_t *ro = json_object_get(e, "readonly");
        if (ro && !json_is_boolean(ro))
            FAIL("disks[%zu].readonly: expected true or false", i);
    }
    v = json_object_get(def, "nics");
    if (!json_is_array(v))
        FAIL("nics: expected a list of {\"spec\": ..., \"natpf\": [...]}");
    if (json_array_size(v) > NIC_MAX)
        FAIL("nics: at most %d adapters", NIC_MAX);
    json_array_foreach(v, i, e) {
        if (check_nic(e, i, err, errlen) < 0)
            return -1;
    }
    if (check_int(json_object_get(def, "cpu_cap"), "cpu_cap", 1, 100, err, errlen) < 0)
        return -1;
    v = json_object_get(def, "cpu_affinity");
    if (!json_is_array(v))
        FAIL("cpu_affinity: expected a list of host CPU numbers");
    json_array_foreach(v, i, e) {
        if (!json_is_integer(e))
            FAIL("cpu_affinity[%zu]: expected a host CPU number", i);
        json_int_t c = json_integer_value(e);
        if (c < 0 || (!for_file && c >= host->cpus) || c >= 4096)
            FAIL("cpu_affinity: CPU %" JSON_INTEGER_FORMAT " does not exist (this host has CPUs 0-%u)", c,
                 host->cpus - 1);
        for (size_t j = 0; j < i; j++)
            if (json_integer_value(json_array_get(v, j)) == c)
                FAIL("cpu_affinity: CPU %" JSON_INTEGER_FORMAT " is listed twice", c);
    }
    /* null or absent (definitions from before it existed): no balloon. */
    v = json_object_get(def, "balloon");
    if (v && !json_is_null(v)) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > mem ||
            json_integer_value(v) % 4096)
            FAIL("balloon: expected null (no balloon) or a number of bytes from 0 to the VM's memory, a multiple "
                 "of 4096");
    }
    v = json_object_get(def, "created");
    if (!json_is_string(v))
        FAIL("created: expected a time string");
    return 0;
}

static int check_cidr(const char *s)
{
    char a[32];
    const char *slash = strchr(s, '/');
    if (!slash || (size_t)(slash - s) >= sizeof(a))
        return -1;
    memcpy(a, s, (size_t)(slash - s));
    a[slash - s] = 0;
    struct in_addr ia;
    char *end;
    long n = strtol(slash + 1, &end, 10);
    if (inet_pton(AF_INET, a, &ia) != 1 || *end || end == slash + 1 || n < 8 || n > 30)
        return -1;
    return 0;
}

int store_net_validate(json_t *def, char *err, size_t errlen)
{
    if (!json_is_object(def))
        FAIL("a network definition is a JSON object");
    if (check_known(def, net_keys, "", err, errlen) < 0)
        return -1;
    for (size_t i = 0; net_keys[i]; i++)
        if (!json_object_get(def, net_keys[i]))
            FAIL("'%s': missing", net_keys[i]);
    if (check_name(json_object_get(def, "name"), "network", err, errlen) < 0)
        return -1;
    json_t *v = json_object_get(def, "kind");
    const char *kind = json_string_value(v);
    if (!kind || (strcmp(kind, "intnet") && strcmp(kind, "natnetwork") && strcmp(kind, "hostonly") &&
                  strcmp(kind, "bridged")))
        FAIL("kind: expected \"intnet\", \"natnetwork\", \"hostonly\" or \"bridged\"");
    if (!strcmp(kind, "bridged") && strlen(json_string_value(json_object_get(def, "name"))) > 15)
        FAIL("name: a bridged network is named after a host interface (at most 15 characters)");
    v = json_object_get(def, "cidr");
    if (!json_is_null(v)) {
        if (strcmp(kind, "natnetwork") && strcmp(kind, "hostonly"))
            FAIL("cidr: only a natnetwork or hostonly network has one");
        if (!json_is_string(v) || check_cidr(json_string_value(v)) < 0)
            FAIL("cidr: expected A.B.C.D/N with N from 8 to 30, or null");
    }
    if (check_int(json_object_get(def, "mtu"), "mtu", 576, 65521, err, errlen) < 0)
        return -1;
    if (!json_is_boolean(json_object_get(def, "dhcp")))
        FAIL("dhcp: expected true or false");
    v = json_object_get(def, "natpf");
    if (check_strings(v, "natpf", NIC_MAX_NATPF, err, errlen) < 0)
        return -1;
    if (json_array_size(v) && strcmp(kind, "natnetwork"))
        FAIL("natpf: only a natnetwork forwards ports");
    size_t i;
    json_t *e;
    char e2[256];
    json_array_foreach(v, i, e) {
        struct net_natpf pf;
        struct in_addr none = { 0 };
        if (net_natpf_parse(json_string_value(e), none, &pf, e2, sizeof(e2)) < 0)
            FAIL("natpf[%zu] '%s': %s", i, json_string_value(e), e2);
    }
    v = json_object_get(def, "uplinks");
    if (check_strings(v, "uplinks", 8, err, errlen) < 0)
        return -1;
    json_array_foreach(v, i, e) {
        static struct nic_config c;
        char spec[600];
        snprintf(spec, sizeof(spec), "generic,%s", json_string_value(e));
        if (nic_config_parse(spec, &c, e2, sizeof(e2)) < 0 || c.mode != NIC_GENERIC)
            FAIL("uplinks[%zu] '%s': %s", i, json_string_value(e), c.mode != NIC_GENERIC ? "not an uplink" : e2);
    }
    if (check_path(json_object_get(def, "pcap"), "pcap", true, err, errlen) < 0)
        return -1;
    return 0;
}

#undef FAIL

/* ---- files ---- */

int store_write_atomic(const char *path, json_t *v, char *err, size_t errlen)
{
    char dir[4096], tmp[4200];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash) {
        snprintf(err, errlen, "%s: not an absolute path", path);
        return -1;
    }
    *slash = 0;
    snprintf(tmp, sizeof(tmp), "%s/.%s.tmp.XXXXXX", dir, slash + 1);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        return -1;
    }
    char *text = json_dumps(v, JSON_INDENT(2));
    size_t n = text ? strlen(text) : 0, off = 0;
    int e = text ? 0 : ENOMEM;
    while (!e && off < n) {
        ssize_t w = write(fd, text + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            e = w < 0 ? errno : EIO;
        else
            off += (size_t)w;
    }
    if (!e && write(fd, "\n", 1) != 1)
        e = errno ? errno : EIO;
    free(text);
    if (!e && fsync(fd) < 0)
        e = errno;
    if (close(fd) < 0 && !e)
        e = errno;
    if (!e && rename(tmp, path) < 0)
        e = errno;
    if (e) {
        unlink(tmp);
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(e));
        return -1;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

static int fsync_dir_of(const char *path)
{
    char dir[4200];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -1;
    fsync(dfd);
    close(dfd);
    return 0;
}

static void load_dir(struct store *s, const char *sub, json_t *into, bool vms)
{
    char dir[4200];
    snprintf(dir, sizeof(dir), "%s/%s", s->data, sub);
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *n = de->d_name;
        char path[8400], err[512];
        snprintf(path, sizeof(path), "%s/%s", dir, n);
        if (n[0] == '.') {
            if (strstr(n, ".tmp."))   /* a write that did not finish: the old file stands */
                unlink(path);
            continue;
        }
        size_t len = strlen(n);
        if (len < 6 || strcmp(n + len - 5, ".json"))
            continue;
        json_error_t je;
        json_t *v = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
        if (!v) {
            vwarn("%s: line %d: %s (skipped)", path, je.line, je.text);
            continue;
        }
        int r = vms ? store_vm_validate(&s->host, v, true, err, sizeof(err)) : store_net_validate(v, err, sizeof(err));
        if (r == 0 && (strncmp(n, json_string_value(json_object_get(v, "name")), len - 5) ||
                       strlen(json_string_value(json_object_get(v, "name"))) != len - 5)) {
            snprintf(err, sizeof(err), "the name inside differs from the file name");
            r = -1;
        }
        if (r < 0) {
            vwarn("%s: %s (skipped)", path, err);
            json_decref(v);
            continue;
        }
        json_array_append_new(into, v);
    }
    closedir(d);
}

struct store *store_open(const char *data, const struct store_host *host, char *err, size_t errlen)
{
    struct store *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(s->data, sizeof(s->data), "%s", data);
    s->host = *host;
    s->vms = json_array();
    s->nets = json_array();
    char p[4200];
    snprintf(p, sizeof(p), "%s/vms", data);
    struct stat st;
    if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: not a directory", p);
        store_close(s);
        return NULL;
    }
    load_dir(s, "vms", s->vms, true);
    load_dir(s, "networks", s->nets, false);
    return s;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    json_decref(s->vms);
    json_decref(s->nets);
    free(s);
}

static ssize_t find(json_t *arr, const char *name)
{
    size_t i;
    json_t *e;
    if (!name)
        return -1;
    json_array_foreach(arr, i, e) {
        if (!strcmp(json_string_value(json_object_get(e, "name")), name))
            return (ssize_t)i;
    }
    return -1;
}

size_t store_vm_count(const struct store *s) { return json_array_size(s->vms); }
json_t *store_vm_at(const struct store *s, size_t i) { return json_array_get(s->vms, i); }
json_t *store_vm_get(const struct store *s, const char *name)
{
    ssize_t i = find(s->vms, name);
    return i < 0 ? NULL : json_array_get(s->vms, (size_t)i);
}
size_t store_net_count(const struct store *s) { return json_array_size(s->nets); }
json_t *store_net_at(const struct store *s, size_t i) { return json_array_get(s->nets, i); }
json_t *store_net_get(const struct store *s, const char *name)
{
    ssize_t i = find(s->nets, name);
    return i < 0 ? NULL : json_array_get(s->nets, (size_t)i);
}

static void new_uuid(char out[37])
{
    uint8_t b[16];
    if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
        for (size_t i = 0; i < sizeof(b); i++)
            b[i] = (uint8_t)rand();
    }
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3],
             b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* Give every nic without a MAC a random one, written into its spec, and
 * default natpf to []. Leaves invalid entries for validation to report. */
static void assign_macs(json_t *nics)
{
    size_t i;
    json_t *nic;
    if (!json_is_array(nics))
        return;
    json_array_foreach(nics, i, nic) {
        if (!json_is_object(nic))
            continue;
        if (!json_object_get(nic, "natpf"))
            json_object_set_new(nic, "natpf", json_array());
        json_t *spec = json_object_get(nic, "spec");
        static struct nic_config c;
        char e[256];
        if (!json_is_string(spec) || nic_config_parse(json_string_value(spec), &c, e, sizeof(e)) < 0 || c.mac_set ||
            c.mode == NIC_NONE)
            continue;
        uint8_t mac[6];
        nic_random_mac(mac);
        char *ns = NULL;
        if (asprintf(&ns, "%s,mac=%02x:%02x:%02x:%02x:%02x:%02x", json_string_value(spec), mac[0], mac[1], mac[2],
                     mac[3], mac[4], mac[5]) < 0)
            continue;
        json_object_set_new(nic, "spec", json_string(ns));
        free(ns);
    }
}

/* The definition in the canonical key order. */
static json_t *ordered(json_t *def, const char *const *keys)
{
    json_t *o = json_object();
    for (size_t i = 0; keys[i]; i++) {
        json_t *v = json_object_get(def, keys[i]);
        if (v)
            json_object_set(o, keys[i], v);
    }
    const char *k;
    json_t *v;
    json_object_foreach(def, k, v) {   /* unknown ones too, for validation to refuse */
        if (!json_object_get(o, k))
            json_object_set(o, k, v);
    }
    return o;
}

static void set_default(json_t *o, const char *k, json_t *v)
{
    if (!json_object_get(o, k))
        json_object_set(o, k, v);
    json_decref(v);
}

/* Every nic that names a network names one that exists: a defined network
 * of its kind, or for bridged a host interface. */
static int check_nets(struct store *s, json_t *def, char *err, size_t errlen)
{
    size_t i;
    json_t *nic;
    json_array_foreach(json_object_get(def, "nics"), i, nic) {
        static struct nic_config c;
        char e[256];
        const char *spec = json_string_value(json_object_get(nic, "spec"));
        if (nic_config_parse(spec, &c, e, sizeof(e)) < 0)
            continue;   /* validation reported it */
        if (c.mode != NIC_NATNETWORK && c.mode != NIC_INTNET && c.mode != NIC_HOSTONLY && c.mode != NIC_BRIDGED)
            continue;
        json_t *net = store_net_get(s, c.network);
        const char *kind = net ? json_string_value(json_object_get(net, "kind")) : NULL;
        if (kind && !strcmp(kind, nic_mode_name(c.mode)))
            continue;
        if (c.mode == NIC_BRIDGED && if_nametoindex(c.network))
            continue;
        /* Internal networks come and go with their VMs, as in VirtualBox:
         * an undefined one is started on demand by the first VM. */
        if (c.mode == NIC_INTNET && !kind)
            continue;
        if (kind)
            snprintf(err, errlen, "nics[%zu].spec '%s': network '%s' is a %s network, not %s", i, spec, c.network,
                     kind, nic_mode_name(c.mode));
        else if (c.mode == NIC_BRIDGED)
            snprintf(err, errlen, "nics[%zu].spec '%s': no host interface or bridged network named '%s'", i, spec,
                     c.network);
        else
            snprintf(err, errlen, "nics[%zu].spec '%s': no %s network named '%s' (create it first)", i, spec,
                     nic_mode_name(c.mode), c.network);
        return -1;
    }
    return 0;
}

/* The common end of creating a definition (o, already validated into
 * `valid`): refuse a duplicate name, write the file, then keep it. Takes
 * o; on failure nothing changed on disk or in memory. */
static enum store_err add_new(struct store *s, json_t *list, json_t *o, bool valid, enum mgmt_file kind,
                              const char *what, json_t **out, char *err, size_t errlen)
{
    const char *name = json_string_value(json_object_get(o, "name"));
    char path[4200];
    enum store_err r = STORE_OK;
    if (!valid) {
        r = STORE_INVALID;
    } else if (find(list, name) >= 0) {
        snprintf(err, errlen, "%s named '%s' already exists", what, name);
        r = STORE_EXISTS;
    } else if (mgmt_path(path, sizeof(path), s->data, kind, name) < 0 ||
               store_write_atomic(path, o, err, errlen) < 0) {
        r = STORE_IO;
    }
    if (r != STORE_OK) {
        json_decref(o);
        return r;
    }
    json_array_append_new(list, o);
    if (out)
        *out = o;
    return STORE_OK;
}

enum store_err store_vm_create(struct store *s, json_t *in, json_t **out, char *err, size_t errlen)
{
    if (!json_is_object(in)) {
        snprintf(err, errlen, "a VM definition is a JSON object");
        return STORE_INVALID;
    }
    if (json_object_get(in, "uuid") || json_object_get(in, "created")) {
        snprintf(err, errlen, "'%s': assigned by vireod, cannot be given",
                 json_object_get(in, "uuid") ? "uuid" : "created");
        return STORE_INVALID;
    }
    json_t *d = json_deep_copy(in);
    char uuid[37], created[32];
    new_uuid(uuid);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_object_set_new(d, "uuid", json_string(uuid));
    set_default(d, "cpus", json_integer(1));
    set_default(d, "memory", json_integer(256 << 20));
    set_default(d, "kernel", json_null());
    set_default(d, "initrd", json_null());
    set_default(d, "append", json_string(""));
    set_default(d, "cmdline", json_null());
    set_default(d, "firmware", json_string("builtin"));
    set_default(d, "disks", json_array());
    set_default(d, "nics", json_pack("[{s:s}]", "spec", "nat"));
    set_default(d, "cpu_cap", json_integer(100));
    set_default(d, "cpu_affinity", json_array());
    set_default(d, "balloon", json_null());
    json_object_set_new(d, "created", json_string(created));
    json_t *disks = json_object_get(d, "disks");
    size_t i;
    json_t *e;
    json_array_foreach(disks, i, e) {
        if (json_is_object(e) && !json_object_get(e, "readonly"))
            json_object_set_new(e, "readonly", json_false());
    }
    assign_macs(json_object_get(d, "nics"));
    json_t *o = ordered(d, vm_keys);
    json_decref(d);
    bool valid = store_vm_validate(&s->host, o, false, err, errlen) == 0 && check_nets(s, o, err, errlen) == 0;
    return add_new(s, s->vms, o, valid, MGMT_VM_DEF, "a VM", out, err, errlen);
}

enum store_err store_vm_update(struct store *s, const char *name, json_t *patch, json_t **out, char *err,
                               size_t errlen)
{
    ssize_t idx = find(s->vms, name);
    if (idx < 0) {
        snprintf(err, errlen, "no VM named '%s'", name);
        return STORE_NOTFOUND;
    }
    if (!json_is_object(patch)) {
        snprintf(err, errlen, "a change is a JSON object of the fields to change");
        return STORE_INVALID;
    }
    json_t *old = json_array_get(s->vms, (size_t)idx);
    const char *k;
    json_t *v;
    json_object_foreach(patch, k, v) {
        if ((!strcmp(k, "name") && !json_equal(v, json_object_get(old, "name"))) ||
            ((!strcmp(k, "uuid") || !strcmp(k, "created")) && !json_equal(v, json_object_get(old, k)))) {
            snprintf(err, errlen, "'%s': cannot be changed", k);
            return STORE_INVALID;
        }
    }
    json_t *d = json_deep_copy(old);
    json_t *p = json_deep_copy(patch);
    json_t *disks = json_object_get(p, "disks");
    size_t i;
    json_t *e;
    json_array_foreach(disks, i, e) {
        if (json_is_object(e) && !json_object_get(e, "readonly"))
            json_object_set_new(e, "readonly", json_false());
    }
    assign_macs(json_object_get(p, "nics"));
    json_object_update(d, p);
    json_decref(p);
    json_t *o = ordered(d, vm_keys);
    json_decref(d);
    char path[4200];
    enum store_err r = STORE_OK;
    if (store_vm_validate(&s->host, o, false, err, errlen) < 0 ||
        (json_object_get(patch, "nics") && check_nets(s, o, err, errlen) < 0))
        r = STORE_INVALID;
    else if (mgmt_path(path, sizeof(path), s->data, MGMT_VM_DEF, name) < 0 ||
             store_write_atomic(path, o, err, errlen) < 0)
        r = STORE_IO;
    if (r != STORE_OK) {
        json_decref(o);
        return r;
    }
    json_array_set_new(s->vms, (size_t)idx, o);
    if (out)
        *out = o;
    return STORE_OK;
}

static enum store_err del(struct store *s, json_t *arr, enum mgmt_file f, const char *what, const char *name,
                          char *err, size_t errlen)
{
    ssize_t idx = find(arr, name);
    char path[4200];
    if (idx < 0) {
        snprintf(err, errlen, "no %s named '%s'", what, name);
        return STORE_NOTFOUND;
    }
    if (mgmt_path(path, sizeof(path), s->data, f, name) < 0 || (unlink(path) < 0 && errno != ENOENT)) {
        snprintf(err, errlen, "cannot remove %s: %s", path, strerror(errno));
        return STORE_IO;
    }
    fsync_dir_of(path);
    json_array_remove(arr, (size_t)idx);
    return STORE_OK;
}

enum store_err store_vm_delete(struct store *s, const char *name, char *err, size_t errlen)
{
    return del(s, s->vms, MGMT_VM_DEF, "VM", name, err, errlen);
}

enum store_err store_net_create(struct store *s, json_t *in, json_t **out, char *err, size_t errlen)
{
    if (!json_is_object(in)) {
        snprintf(err, errlen, "a network definition is a JSON object");
        return STORE_INVALID;
    }
    json_t *d = json_deep_copy(in);
    set_default(d, "cidr", json_null());
    set_default(d, "mtu", json_integer(1500));
    set_default(d, "dhcp", json_true());
    set_default(d, "natpf", json_array());
    set_default(d, "uplinks", json_array());
    set_default(d, "pcap", json_null());
    json_t *o = ordered(d, net_keys);
    json_decref(d);
    bool valid = store_net_validate(o, err, errlen) == 0;
    return add_new(s, s->nets, o, valid, MGMT_NET_DEF, "a network", out, err, errlen);
}

enum store_err store_net_delete(struct store *s, const char *name, char *err, size_t errlen)
{
    json_t *net = store_net_get(s, name);
    if (!net) {
        snprintf(err, errlen, "no network named '%s'", name);
        return STORE_NOTFOUND;
    }
    /* Refuse while a VM's adapter names it. */
    const char *kind = json_string_value(json_object_get(net, "kind"));
    size_t i, j;
    json_t *vm, *nic;
    json_array_foreach(s->vms, i, vm) {
        json_array_foreach(json_object_get(vm, "nics"), j, nic) {
            static struct nic_config c;
            char e[256];
            if (nic_config_parse(json_string_value(json_object_get(nic, "spec")), &c, e, sizeof(e)) < 0)
                continue;
            if (strcmp(nic_mode_name(c.mode), kind) == 0 && strcmp(c.network, name) == 0) {
                snprintf(err, errlen, "network '%s' is used by VM '%s'", name,
                         json_string_value(json_object_get(vm, "name")));
                return STORE_EXISTS;
            }
        }
    }
    return del(s, s->nets, MGMT_NET_DEF, "network", name, err, errlen);
}
