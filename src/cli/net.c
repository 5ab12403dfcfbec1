/* `vireo net ...`: networks defined once and kept up by vireod (their
 * switches run while they are defined), through the API (docs/api.md). */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/parse.h"
#include "cli/api_client.h"
#include "cli/commands.h"
#include "cli/switch_status.h"
#include "mgmt/paths.h"

static const char *NET_USAGE =
    "usage: vireo net COMMAND [NAME] [OPTIONS]\n"
    "\n"
    "  create NAME --kind intnet|natnetwork|hostonly|bridged [--cidr A.B.C.D/N] [--mtu N]\n"
    "              [--no-dhcp] [--natpf RULE]... [--uplink SPEC]... [--pcap FILE]\n"
    "                                  define a network (for bridged, NAME is the host interface)\n"
    "  list [--json] [-q|--quiet]      all defined networks (--quiet: only the names)\n"
    "  show NAME [--json]              one network, with its switch's ports and counters\n"
    "  delete NAME                     remove a network's definition (its switch stops)\n"
    "\n"
    "VMs join with --nicN KIND=NAME. Networks used without being defined are created\n"
    "on demand and removed when their last VM leaves. Every command takes --data-dir DIR.\n";

static int bad(const char *fmt, const char *arg)
{
    fprintf(stderr, "vireo net: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see 'vireo net --help')\n");
    return 2;
}

/* `net show NAME`: the definition, one line a setting, then the switch. */
static void show_network(json_t *n)
{
    const char *key;
    json_t *v;
    json_object_foreach(n, key, v) {
        if (!strcmp(key, "switch") || !strcmp(key, "switch_error") || json_is_null(v) ||
            (json_is_array(v) && !json_array_size(v)))
            continue;
        char *text = json_is_string(v) ? NULL : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        printf("%-12s %s\n", key, text ? text : json_string_value(v));
        free(text);
    }
    json_t *rep = json_object_get(n, "switch");
    if (rep)
        print_switch_status(stdout, rep);
    else if (json_object_get(n, "switch_error"))
        printf("switch: %s\n", json_string_value(json_object_get(n, "switch_error")));
}

int cmd_net(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        fputs(NET_USAGE, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *cmd = argv[1];
    bool list = !strcmp(cmd, "list");
    if (!list && strcmp(cmd, "create") && strcmp(cmd, "show") && strcmp(cmd, "delete"))
        return bad("unknown command '%s'", cmd);
    const char *name = NULL;
    int skip = 1;
    if (!list) {
        if (argc < 3 || argv[2][0] == '-') {
            if (argc >= 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
                fputs(NET_USAGE, stdout);
                return 0;
            }
            return bad("'%s' needs the network's name", cmd);
        }
        name = argv[2];
        skip = 2;
        if (!mgmt_name_valid(name))
            return bad("'%s' is not a valid network name: 1-48 letters, digits, '.', '_' or '-'", name);
    }
    enum { O_DATA = 256, O_JSON, O_KIND, O_CIDR, O_MTU, O_NODHCP, O_NATPF, O_UPLINK, O_PCAP };
    static const struct option opts[] = {
        { "data-dir", required_argument, NULL, O_DATA }, { "json", no_argument, NULL, O_JSON },
        { "kind", required_argument, NULL, O_KIND }, { "cidr", required_argument, NULL, O_CIDR },
        { "mtu", required_argument, NULL, O_MTU }, { "no-dhcp", no_argument, NULL, O_NODHCP },
        { "natpf", required_argument, NULL, O_NATPF }, { "uplink", required_argument, NULL, O_UPLINK },
        { "pcap", required_argument, NULL, O_PCAP }, { "help", no_argument, NULL, 'h' },
        { "quiet", no_argument, NULL, 'q' },
        { NULL, 0, NULL, 0 },
    };
    json_t *def = json_object(), *natpf = json_array(), *uplinks = json_array();
    const char *data_dir = NULL;
    bool json = false, quiet = false, create = !strcmp(cmd, "create");
    int c, r = 0;
    uint64_t v;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc - skip, argv + skip, ":hq", opts, NULL)) != -1) {
        if (c >= O_KIND && !create) {
            r = bad("option '%s' only applies to 'create'", argv[skip + optind - 1]);
            goto out;
        }
        switch (c) {
        case O_DATA: data_dir = optarg; break;
        case O_JSON: json = true; break;
        case 'q': quiet = true; break;
        case O_KIND: json_object_set_new(def, "kind", json_string(optarg)); break;
        case O_CIDR: json_object_set_new(def, "cidr", json_string(optarg)); break;
        case O_MTU:
            if (!vparse_uint(optarg, 576, 65521, &v)) {
                r = bad("--mtu '%s': expected 576 to 65521", optarg);
                goto out;
            }
            json_object_set_new(def, "mtu", json_integer((json_int_t)v));
            break;
        case O_NODHCP: json_object_set_new(def, "dhcp", json_false()); break;
        case O_NATPF: json_array_append_new(natpf, json_string(optarg)); break;
        case O_UPLINK: json_array_append_new(uplinks, json_string(optarg)); break;
        case O_PCAP: json_object_set_new(def, "pcap", json_string(optarg)); break;
        case 'h': fputs(NET_USAGE, stdout); goto out;
        case ':': r = bad("option '%s' needs a value", argv[skip + optind - 1]); goto out;
        default: r = bad("unknown option '%s'", argv[skip + optind - 1]); goto out;
        }
    }
    if (optind < argc - skip) {
        r = bad("unexpected argument '%s'", argv[skip + optind]);
        goto out;
    }
    if (create && !json_object_get(def, "kind")) {
        r = bad("create needs --kind%s", "");
        goto out;
    }
    struct api_client cl;
    if (api_client_init(&cl, data_dir) < 0) {
        fprintf(stderr, "vireo net: %s\n", cl.err);
        r = 1;
        goto out;
    }
    char path[256];
    json_t *ans = NULL;
    long st;
    if (list) {
        st = api_call(&cl, "GET", "/v1/networks", NULL, &ans);
    } else if (create) {
        json_object_set_new(def, "name", json_string(name));
        if (json_array_size(natpf))
            json_object_set(def, "natpf", natpf);
        if (json_array_size(uplinks))
            json_object_set(def, "uplinks", uplinks);
        st = api_call(&cl, "POST", "/v1/networks", def, &ans);
    } else {
        snprintf(path, sizeof(path), "/v1/networks/%s", name);
        st = api_call(&cl, strcmp(cmd, "show") ? "DELETE" : "GET", path, NULL, &ans);
    }
    if (st < 0) {
        fprintf(stderr, "vireo net %s: %s\n", cmd, cl.err);
        r = 3;
    } else if (st >= 300) {
        fprintf(stderr, "vireo net %s: %s\n", cmd, api_error_text(ans, st));
        r = 1;
    } else if (list && quiet) {
        size_t i;
        json_t *n;
        json_array_foreach(ans, i, n)
            printf("%s\n", json_string_value(json_object_get(n, "name")));
    } else if (list && !json) {
        printf("%-24s %-11s %s\n", "NAME", "KIND", "STATE");
        size_t i;
        json_t *n;
        json_array_foreach(ans, i, n)
            printf("%-24s %-11s %s\n", json_string_value(json_object_get(n, "name")),
                   json_string_value(json_object_get(n, "kind")),
                   json_string_value(json_object_get(n, "state")) ? json_string_value(json_object_get(n, "state")) : "");
    } else if (!list && !json && !strcmp(cmd, "show")) {
        show_network(ans);
    } else if (list || !strcmp(cmd, "show")) {
        json_dumpf(ans, stdout, JSON_INDENT(2));
        printf("\n");
    } else if (create) {
        printf("network '%s' created\n", name);
    }
    json_decref(ans);
out:
    json_decref(def);
    json_decref(natpf);
    json_decref(uplinks);
    return r;
}
