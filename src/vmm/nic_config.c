#include "vmm/nic_config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "base/parse.h"

/* Vireo's prefix: 02 = locally administered unicast, then "VR". */
static const uint8_t MAC_PREFIX[3] = { 0x02, 0x56, 0x52 };

const char *nic_mode_name(enum nic_mode m)
{
    static const char *const names[] = { "nat", "natnetwork", "bridged", "intnet", "hostonly", "generic", "none" };
    return (unsigned)m < sizeof(names) / sizeof(names[0]) ? names[m] : "?";
}

bool nic_name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= 64 || s[0] == '.' || s[0] == '-')
        return false;
    for (const char *c = s; *c; c++) {
        bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                  *c == '.' || *c == '_' || *c == '-';
        if (!ok)
            return false;
    }
    return true;
}

bool nic_parse_mac(const char *s, uint8_t mac[6])
{
    unsigned v[6];
    char end;
    if (strlen(s) != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &end) != 6)
        return false;
    for (int i = 0; i < 6; i++) {
        if (s[i * 3] == ' ' || s[i * 3 + 1] == ' ')
            return false;
        mac[i] = (uint8_t)v[i];
    }
    return !(mac[0] & 1) && (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]);
}

/* FNV-1a, 64-bit: only needs to spread names over 24 bits. */
static uint64_t fnv1a(const void *p, size_t n, uint64_t h)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

void nic_derive_mac(const char *seed, unsigned index, uint8_t mac[6])
{
    uint64_t h = fnv1a(seed, strlen(seed), 0xcbf29ce484222325ull);
    h = fnv1a(&index, sizeof(index), h);
    memcpy(mac, MAC_PREFIX, 3);
    mac[3] = (uint8_t)(h >> 16);
    mac[4] = (uint8_t)(h >> 8);
    mac[5] = (uint8_t)h;
}

void nic_random_mac(uint8_t mac[6])
{
    uint8_t r[3] = { 0 };
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
        uint64_t x = (uint64_t)rand() ^ ((uint64_t)getpid() << 16);
        memcpy(r, &x, 3);
    }
    memcpy(mac, MAC_PREFIX, 3);
    memcpy(mac + 3, r, 3);
}

static int fail(char *err, size_t errlen, const char *spec, const char *msg, const char *arg)
{
    char m[256];
    snprintf(m, sizeof(m), msg, arg);
    snprintf(err, errlen, "--nic '%s': %s", spec, m);
    return -1;
}

static int set_str(char *dst, size_t cap, const char *v, const char *spec, const char *key, char *err, size_t errlen)
{
    if (!*v || strlen(v) >= cap)
        return fail(err, errlen, spec, "%s= needs a value of reasonable length", key);
    strcpy(dst, v);
    return 0;
}

int nic_config_parse(const char *spec, struct nic_config *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    char buf[1024];
    if (strlen(spec) >= sizeof(buf))
        return fail(err, errlen, "...", "too long%s", "");
    strcpy(buf, spec);
    char *save = NULL;
    char *first = strtok_r(buf, ",", &save);
    if (!first)
        return fail(err, errlen, spec, "no mode given (nat, natnetwork=NAME, bridged=IFACE, intnet=NAME, "
                    "hostonly=NAME, generic,..., none)%s", "");
    char *val = strchr(first, '=');
    if (val)
        *val++ = 0;
    static const struct { const char *name; enum nic_mode mode; bool needs_name; } modes[] = {
        { "nat", NIC_NAT, false }, { "natnetwork", NIC_NATNETWORK, true }, { "bridged", NIC_BRIDGED, true },
        { "intnet", NIC_INTNET, true }, { "hostonly", NIC_HOSTONLY, true }, { "generic", NIC_GENERIC, false },
        { "none", NIC_NONE, false },
    };
    bool found = false;
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        if (strcmp(first, modes[i].name))
            continue;
        found = true;
        c->mode = modes[i].mode;
        if (modes[i].needs_name) {
            if (!val || !nic_name_valid(val))
                return fail(err, errlen, spec, "%s=NAME needs a name of 1-63 letters, digits, '.', '_' or '-'",
                            first);
            strcpy(c->network, val);
        } else if (val) {
            return fail(err, errlen, spec, "mode '%s' takes no =value", first);
        }
    }
    if (!found)
        return fail(err, errlen, spec, "unknown mode '%s' (nat, natnetwork=NAME, bridged=IFACE, intnet=NAME, "
                    "hostonly=NAME, generic, none)", first);

    bool have_kind = false;
    char *kv;
    while ((kv = strtok_r(NULL, ",", &save))) {
        char *v = strchr(kv, '=');
        if (c->mode == NIC_GENERIC && !have_kind) {
            if (!v && !strcmp(kv, "stream")) { c->generic = NIC_GEN_STREAM_LISTEN; have_kind = true; continue; }
            if (!v && !strcmp(kv, "dgram")) { c->generic = NIC_GEN_DGRAM; have_kind = true; continue; }
            if (!v && !strcmp(kv, "vxlan")) { c->generic = NIC_GEN_VXLAN; have_kind = true; c->port = 4789; continue; }
            return fail(err, errlen, spec, "generic needs a kind first: stream, dgram or vxlan (got '%s')", kv);
        }
        if (!v)
            return fail(err, errlen, spec, "'%s' is not key=value", kv);
        *v++ = 0;
        uint64_t n;
        if (!strcmp(kv, "mac")) {
            if (!nic_parse_mac(v, c->mac))
                return fail(err, errlen, spec, "mac '%s' is not a unicast address like 02:56:52:00:00:01", v);
            c->mac_set = true;
        } else if (!strcmp(kv, "vlan")) {
            if (!vparse_uint(v, 1, 4094, &n))
                return fail(err, errlen, spec, "vlan '%s' is not a VLAN id from 1 to 4094", v);
            c->vlan = (uint16_t)n;
        } else if (!strcmp(kv, "mtu")) {
            if (!vparse_uint(v, 576, 65521, &n))
                return fail(err, errlen, spec, "mtu '%s' is not a number from 576 to 65521", v);
            c->mtu = (uint16_t)n;
        } else if (!strcmp(kv, "link")) {
            if (strcmp(v, "up") && strcmp(v, "down"))
                return fail(err, errlen, spec, "link '%s': expected up or down", v);
            c->link_down = !strcmp(v, "down");
        } else if (c->mode == NIC_GENERIC && c->generic <= NIC_GEN_STREAM_CONNECT &&
                   (!strcmp(kv, "listen") || !strcmp(kv, "connect"))) {
            c->generic = !strcmp(kv, "listen") ? NIC_GEN_STREAM_LISTEN : NIC_GEN_STREAM_CONNECT;
            if (set_str(c->addr, sizeof(c->addr), v, spec, kv, err, errlen) < 0)
                return -1;
        } else if (c->mode == NIC_GENERIC && c->generic >= NIC_GEN_DGRAM && !strcmp(kv, "remote")) {
            if (set_str(c->addr, sizeof(c->addr), v, spec, kv, err, errlen) < 0)
                return -1;
        } else if (c->mode == NIC_GENERIC && c->generic >= NIC_GEN_DGRAM && !strcmp(kv, "local")) {
            if (set_str(c->local, sizeof(c->local), v, spec, kv, err, errlen) < 0)
                return -1;
        } else if (c->mode == NIC_GENERIC && c->generic == NIC_GEN_VXLAN && !strcmp(kv, "vni")) {
            if (!vparse_uint(v, 0, 0xffffff, &n))
                return fail(err, errlen, spec, "vni '%s' is not a number from 0 to 16777215", v);
            c->vni = (uint32_t)n;
        } else if (c->mode == NIC_GENERIC && c->generic == NIC_GEN_VXLAN && !strcmp(kv, "port")) {
            if (!vparse_uint(v, 1, 65535, &n))
                return fail(err, errlen, spec, "port '%s' is not a number from 1 to 65535", v);
            c->port = (uint16_t)n;
        } else {
            return fail(err, errlen, spec, "unknown option '%s' for this mode", kv);
        }
    }
    if (c->mode == NIC_GENERIC) {
        if (!have_kind)
            return fail(err, errlen, spec, "generic needs a kind: stream, dgram or vxlan%s", "");
        if (!*c->addr)
            return fail(err, errlen, spec, "%s",
                        c->generic == NIC_GEN_DGRAM ? "dgram needs local=HOST:PORT and remote=HOST:PORT"
                        : c->generic == NIC_GEN_VXLAN ? "vxlan needs vni=N and remote=HOST"
                                                      : "stream needs listen=HOST:PORT or connect=HOST:PORT");
        if (c->generic == NIC_GEN_DGRAM && !*c->local)
            return fail(err, errlen, spec, "dgram needs local=HOST:PORT%s", "");
        if (c->generic == NIC_GEN_VXLAN && !strstr(spec, "vni="))
            return fail(err, errlen, spec, "vxlan needs vni=N%s", "");
        if (c->generic == NIC_GEN_VXLAN && !c->mtu)
            c->mtu = 1450; /* VXLAN adds 50 bytes to each frame */
    }
    if (c->vlan && (c->mode == NIC_NAT || c->mode == NIC_GENERIC || c->mode == NIC_NONE))
        return fail(err, errlen, spec, "vlan= applies to adapters on a switch (natnetwork, bridged, intnet, "
                    "hostonly)%s", "");
    if (c->mode == NIC_NONE)
        c->link_down = true;
    return 0;
}

int nic_config_add_natpf(struct nic_config *c, const char *rule, char *err, size_t errlen)
{
    if (c->mode != NIC_NAT && c->mode != NIC_NATNETWORK) {
        snprintf(err, errlen, "--natpf '%s': port forwarding needs a nat or natnetwork adapter (this one is %s)",
                 rule, nic_mode_name(c->mode));
        return -1;
    }
    if (c->nnatpf >= NIC_MAX_NATPF) {
        snprintf(err, errlen, "--natpf '%s': at most %d rules per adapter", rule, NIC_MAX_NATPF);
        return -1;
    }
    /* An empty guest address stays 0.0.0.0 here: for nat it means the
     * adapter's own guest, filled in when the NAT is made (vmm/nic.c). */
    struct net_natpf *pf = &c->natpf[c->nnatpf];
    if (net_natpf_parse(rule, (struct in_addr){ 0 }, pf, err, errlen) < 0)
        return -1;
    if (!pf->guest_addr.s_addr && c->mode == NIC_NATNETWORK) {
        snprintf(err, errlen, "--natpf '%s': a natnetwork is shared, so the rule needs the guest's address", rule);
        return -1;
    }
    for (unsigned i = 0; i < c->nnatpf; i++)
        if (!strcmp(c->natpf[i].name, pf->name)) {
            snprintf(err, errlen, "--natpf '%s': there is already a rule named '%s'", rule, pf->name);
            return -1;
        }
    c->nnatpf++;
    return 0;
}

bool nic_switch_kind(enum nic_mode m, enum hub_kind *kind)
{
    switch (m) {
    case NIC_NATNETWORK: *kind = HUB_NATNETWORK; return true;
    case NIC_BRIDGED: *kind = HUB_BRIDGED; return true;
    case NIC_INTNET: *kind = HUB_INTNET; return true;
    case NIC_HOSTONLY: *kind = HUB_HOSTONLY; return true;
    default: return false;
    }
}
