/* `vireo switch`: run the switch of one named network in the foreground.
 * VMs start one on demand when they join a network nobody runs yet (with
 * --on-demand --daemonize --ready-fd); users run it by hand to keep a
 * network up independent of its VMs, or to mirror its traffic. */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/parse.h"
#include "cli/commands.h"
#include "cli/switch_status.h"
#include "net/hub.h"
#include "net/hub_status.h"
#include "net/rundir.h"
#include "vmm/nic_config.h"

static void switch_usage(FILE *f)
{
    fprintf(f,
            "usage: vireo switch --kind intnet|natnetwork|hostonly|bridged --name NAME [OPTIONS]\n"
            "\n"
            "Runs the switch of one named network in the foreground until SIGINT/SIGTERM. VMs\n"
            "plug in with --nic KIND=NAME; a VM that finds no switch running starts one itself.\n"
            "For bridged, NAME is the host interface (a Linux bridge gets a TAP port; any other\n"
            "interface is used through AF_PACKET).\n"
            "\n"
            "  --cidr A.B.C.D/N   natnetwork: the network (default 10.0.2.0/24);\n"
            "                     hostonly: the host's address (default 192.168.56.1/24)\n"
            "  --ifname NAME      hostonly: the host TAP interface (default vh-NAME)\n"
            "  --no-dhcp          no DHCP server (natnetwork, hostonly)\n"
            "  --natpf RULE       natnetwork: NAME,tcp|udp,[HOSTIP],HOSTPORT,GUESTIP,GUESTPORT (repeatable)\n"
            "  --uplink KIND,...  link this switch to one elsewhere (repeatable), with the words of\n"
            "                     --nic generic: stream,listen=HOST:PORT | stream,connect=HOST:PORT |\n"
            "                     dgram,local=HOST:PORT,remote=HOST:PORT | vxlan,vni=N,remote=HOST[,port=P]\n"
            "                     (a QEMU VM joins with -netdev stream or dgram; a Linux vxlan device\n"
            "                     or another host's switch with VXLAN). Uplinks carry every VLAN, tagged.\n"
            "  --mtu N            the network's MTU (default 1500)\n"
            "  --pcap FILE        mirror every frame into FILE (pcap, for tcpdump/tshark/Wireshark)\n"
            "  --on-demand        stop when the last VM leaves\n"
            "  --status           do not run a switch: print the running one's ports and counters\n"
            "                     (IN = frames from the port into the switch, OUT = frames the\n"
            "                     switch sent out of it; OUT DROP = frames its far side did not\n"
            "                     take in time), then exit\n"
            "  --json             with --status: the report as JSON\n"
            "  -v, --verbose      more messages\n"
            "  -h, --help         this help\n");
}

static int switch_status(const struct hub_config *c, bool as_json)
{
    char err[512], *text = NULL;
    if (hub_status_query(c->kind, c->name, 5000, &text, err, sizeof(err)) < 0) {
        fprintf(stderr, "vireo switch: %s\n", err);
        return 1;
    }
    json_error_t je;
    json_t *r = json_loads(text, 0, &je);
    if (!r || !json_is_object(r)) {
        fprintf(stderr, "vireo switch: the switch's report is not a JSON object: %s\n", je.text);
        json_decref(r);
        free(text);
        return 1;
    }
    if (as_json)
        printf("%s\n", text);
    else {
        printf("%s '%s'\n", hub_kind_name(c->kind), c->name);
        print_switch_status(stdout, r);
    }
    json_decref(r);
    free(text);
    return 0;
}

int cmd_switch(int argc, char **argv)
{
    enum { O_KIND = 256, O_NAME, O_CIDR, O_IFNAME, O_NODHCP, O_NATPF, O_MTU, O_PCAP, O_ONDEMAND, O_DAEMONIZE,
           O_READYFD, O_UPLINK, O_STATUS, O_JSON };
    static const struct option opts[] = {
        { "kind", required_argument, NULL, O_KIND }, { "name", required_argument, NULL, O_NAME },
        { "cidr", required_argument, NULL, O_CIDR }, { "ifname", required_argument, NULL, O_IFNAME },
        { "no-dhcp", no_argument, NULL, O_NODHCP }, { "natpf", required_argument, NULL, O_NATPF },
        { "mtu", required_argument, NULL, O_MTU }, { "pcap", required_argument, NULL, O_PCAP },
        { "on-demand", no_argument, NULL, O_ONDEMAND }, { "daemonize", no_argument, NULL, O_DAEMONIZE },
        { "ready-fd", required_argument, NULL, O_READYFD }, { "verbose", no_argument, NULL, 'v' },
        { "uplink", required_argument, NULL, O_UPLINK }, { "status", no_argument, NULL, O_STATUS },
        { "json", no_argument, NULL, O_JSON },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    struct hub_config c = { .ready_fd = -1 };
    /* A switch runs unattended: its log says who plugged in and left. */
    vlog_set_level(VLOG_INFO);
    bool have_kind = false, status = false, as_json = false;
    uint64_t v;
    int ch;
    opterr = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, ":vh", opts, NULL)) != -1) {
        switch (ch) {
        case O_KIND:
            if (hub_kind_parse(optarg, &c.kind) < 0) {
                fprintf(stderr, "vireo switch: --kind '%s': expected intnet, natnetwork, hostonly or bridged\n", optarg);
                return 2;
            }
            have_kind = true;
            break;
        case O_NAME: c.name = optarg; break;
        case O_CIDR: c.cidr = optarg; break;
        case O_IFNAME:
            if (strlen(optarg) > 15 || !nic_name_valid(optarg)) {
                fprintf(stderr, "vireo switch: --ifname '%s': an interface name has 1-15 letters, digits, '.', '_' or '-'\n",
                        optarg);
                return 2;
            }
            c.ifname = optarg;
            break;
        case O_NODHCP: c.no_dhcp = true; break;
        case O_NATPF:
            if (c.nnatpf >= HUB_MAX_NATPF) {
                fprintf(stderr, "vireo switch: at most %d --natpf rules\n", HUB_MAX_NATPF);
                return 2;
            }
            c.natpf[c.nnatpf++] = optarg;
            break;
        case O_MTU:
            if (!vparse_uint(optarg, 576, 65521, &v)) {
                fprintf(stderr, "vireo switch: --mtu '%s': expected 576 to 65521\n", optarg);
                return 2;
            }
            c.mtu = (unsigned)v;
            break;
        case O_PCAP: c.pcap = optarg; break;
        case O_UPLINK: {
            static struct nic_config specs[HUB_MAX_UPLINKS];
            char spec[1100], err[512];
            if (c.nuplinks >= HUB_MAX_UPLINKS) {
                fprintf(stderr, "vireo switch: at most %d --uplink ports\n", HUB_MAX_UPLINKS);
                return 2;
            }
            /* The words are those of --nic generic,...: parse them as such. */
            snprintf(spec, sizeof(spec), "generic,%s", optarg);
            struct nic_config *nc = &specs[c.nuplinks];
            if (nic_config_parse(spec, nc, err, sizeof(err)) < 0 || nc->mac_set || nc->vlan || nc->link_down) {
                fprintf(stderr, "vireo switch: --uplink '%s': %s\n", optarg,
                        nc->mac_set || nc->vlan || nc->link_down ? "mac=, vlan= and link= belong to adapters" : err);
                return 2;
            }
            static const enum hub_uplink_kind kinds[] = {
                [NIC_GEN_STREAM_LISTEN] = HUB_UPLINK_STREAM_LISTEN, [NIC_GEN_STREAM_CONNECT] = HUB_UPLINK_STREAM_CONNECT,
                [NIC_GEN_DGRAM] = HUB_UPLINK_DGRAM, [NIC_GEN_VXLAN] = HUB_UPLINK_VXLAN,
            };
            c.uplinks[c.nuplinks++] = (struct hub_uplink){
                .kind = kinds[nc->generic], .addr = nc->addr, .local = *nc->local ? nc->local : NULL,
                .vni = nc->vni, .port = nc->port,
            };
            break;
        }
        case O_ONDEMAND: c.on_demand = true; break;
        case O_STATUS: status = true; break;
        case O_JSON: as_json = true; break;
        case O_DAEMONIZE: c.daemonize = true; break;
        case O_READYFD:
            if (!vparse_uint(optarg, 3, 1023, &v)) {
                fprintf(stderr, "vireo switch: --ready-fd '%s': expected a descriptor number\n", optarg);
                return 2;
            }
            c.ready_fd = (int)v;
            break;
        case 'v': vlog_set_level(vlog_get_level() + 1); break;
        case 'h': switch_usage(stdout); return 0;
        case ':':
            fprintf(stderr, "vireo switch: option '%s' needs a value (see 'vireo switch --help')\n", argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "vireo switch: unknown option '%s' (see 'vireo switch --help')\n", argv[optind - 1]);
            return 2;
        }
    }
    if (!have_kind || !c.name) {
        fprintf(stderr, "vireo switch: --kind and --name are needed (see 'vireo switch --help')\n");
        return 2;
    }
    if (!nic_name_valid(c.name)) {
        fprintf(stderr, "vireo switch: --name '%s': a network name has 1-63 letters, digits, '.', '_' or '-'\n", c.name);
        return 2;
    }
    if (as_json && !status) {
        fprintf(stderr, "vireo switch: --json goes with --status\n");
        return 2;
    }
    if (status)
        return switch_status(&c, as_json);
    if (c.nnatpf && c.kind != HUB_NATNETWORK) {
        fprintf(stderr, "vireo switch: --natpf needs --kind natnetwork\n");
        return 2;
    }
    return hub_run(&c);
}
