/* What a user asks for with `--nic MODE[,key=value...]` (vireo run) or
 * `--nicN` (vireo vm create/modify): the adapter's mode, where it plugs
 * in, its MAC, VLAN and MTU, and NAT port forwards. Parsing only: vmm/nic.c
 * makes the adapter. */
#ifndef VIREO_VMM_NIC_CONFIG_H
#define VIREO_VMM_NIC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/hub_proto.h"
#include "net/nat.h"

#define NIC_MAX 8
#define NIC_MAX_NATPF 32
#define NIC_NAME_MAX 64

enum nic_mode { NIC_NAT, NIC_NATNETWORK, NIC_BRIDGED, NIC_INTNET, NIC_HOSTONLY, NIC_GENERIC, NIC_NONE };
enum nic_generic { NIC_GEN_STREAM_LISTEN, NIC_GEN_STREAM_CONNECT, NIC_GEN_DGRAM, NIC_GEN_VXLAN };

struct nic_config {
    enum nic_mode mode;
    char network[NIC_NAME_MAX];    /* natnetwork/intnet/hostonly name, bridged interface */
    enum nic_generic generic;
    char addr[256];                /* stream listen/connect HOST:PORT, dgram remote, vxlan remote */
    char local[256];               /* dgram/vxlan local address */
    uint32_t vni;
    uint16_t port;                 /* vxlan destination port */
    uint8_t mac[6];
    bool mac_set;
    uint16_t vlan;                 /* 0: the switch's default VLAN */
    uint16_t mtu;                  /* 0: 1500 (1450 for vxlan) */
    bool link_down;                /* link=down: cable unplugged at start */
    struct net_natpf natpf[NIC_MAX_NATPF];
    unsigned nnatpf;
};

/* Parse one adapter spec into c (zeroed first). One message in err. */
int nic_config_parse(const char *spec, struct nic_config *c, char *err, size_t errlen);

/* Add a --natpf rule to a nat or natnetwork adapter. */
int nic_config_add_natpf(struct nic_config *c, const char *rule, char *err, size_t errlen);

/* A network or interface name users may give: 1..63 of [A-Za-z0-9._-],
 * not starting with '.' or '-' (it becomes part of socket file names). */
bool nic_name_valid(const char *s);

/* "xx:xx:xx:xx:xx:xx", unicast. */
bool nic_parse_mac(const char *s, uint8_t mac[6]);

/* A stable, locally administered MAC for adapter `index` of a VM whose
 * identity is `seed` (its disk, its name): the same seed gives the same
 * address on every start. */
void nic_derive_mac(const char *seed, unsigned index, uint8_t mac[6]);
/* A random locally administered MAC (for VMs with nothing to derive from). */
void nic_random_mac(uint8_t mac[6]);

const char *nic_mode_name(enum nic_mode m);
/* The switch kind of a mode that plugs into a named network's switch
 * (natnetwork, bridged, intnet, hostonly): true and *kind; else false. */
bool nic_switch_kind(enum nic_mode m, enum hub_kind *kind);

#endif
