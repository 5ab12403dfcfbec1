/* `vireo vm ...`: VMs defined once and started, stopped, inspected and
 * changed many times, through vireod (docs/cli.md, docs/api.md). */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "base/parse.h"
#include "cli/api_client.h"
#include "cli/commands.h"
#include "mgmt/paths.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_NODAEMON = 3 };

static const char *VM_USAGE =
    "usage: vireo vm COMMAND [NAME] [OPTIONS]\n"
    "\n"
    "  create NAME [MACHINE OPTIONS]   define a VM\n"
    "  list [--json] [-q|--quiet]      all VMs with their state (--quiet: only the names)\n"
    "  show NAME [--json] [--stats]    one VM (with --stats: CPU, memory, disk and NIC counters)\n"
    "  modify NAME [MACHINE OPTIONS]   change a VM (stopped; --cpu-cap, --cpu-affinity and the\n"
    "                                  balloon's size also running)\n"
    "  start NAME [--console]          start it (and attach its console)\n"
    "  stop NAME [--timeout S]         ask the guest to shut down, wait (default 60 s)\n"
    "  poweroff NAME                   pull the plug\n"
    "  pause NAME | resume NAME        stop / continue its vCPUs\n"
    "  console NAME                    attach the serial console (Ctrl-A D detaches)\n"
    "  delete NAME                     remove a stopped VM's definition\n"
    "\n"
    "MACHINE OPTIONS: --cpus N --memory SIZE --kernel FILE --initrd FILE --append S --cmdline S\n"
    "  --firmware builtin|FILE --disk FILE[,readonly] (repeatable) --nicN SPEC --natpfN RULE\n"
    "  --cpu-cap PCT --cpu-affinity LIST  (SPEC and RULE as in 'vireo run --help')\n"
    "  --balloon SIZE|off  a virtio-balloon (freed guest memory goes back to the host) and\n"
    "                      how much the guest hands over (0 for none yet)\n"
    "\n"
    "Every command takes --data-dir DIR (default $VIREO_HOME, /var/lib/vireo for root,\n"
    "else ~/.local/share/vireo). Exit status: 0 done, 1 refused or failed, 2 bad usage,\n"
    "3 no daemon.\n";

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "vireo vm: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see 'vireo vm --help')\n");
    return EXIT_USAGE;
}

/* "0,1,4-6" -> [0,1,4,5,6] */
static json_t *parse_cpu_list(const char *s)
{
    json_t *a = json_array();
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", s);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        uint64_t lo, hi;
        char *dash = strchr(tok, '-');
        if (dash) {
            *dash = 0;
            if (!vparse_uint(tok, 0, 4095, &lo) || !vparse_uint(dash + 1, lo, 4095, &hi))
                goto bad;
        } else {
            if (!vparse_uint(tok, 0, 4095, &lo))
                goto bad;
            hi = lo;
        }
        for (uint64_t i = lo; i <= hi; i++)
            json_array_append_new(a, json_integer((json_int_t)i));
    }
    if (json_array_size(a))
        return a;
bad:
    json_decref(a);
    return NULL;
}

struct vm_opts {
    const char *data_dir;
    json_t *def;        /* fields given */
    json_t *nics[8];    /* spec strings given per slot */
    json_t *natpf[8];   /* arrays of rules per slot */
    bool json, stats, console, quiet;
    long timeout;
};

/* Parse argv after "vm CMD [NAME]". Machine options fill o->def. */
static int parse_opts(int argc, char **argv, struct vm_opts *o, bool machine)
{
    enum { O_DATA = 256, O_JSON, O_STATS, O_CONSOLE, O_TIMEOUT, O_CPUS, O_MEMORY, O_KERNEL, O_INITRD, O_APPEND,
           O_CMDLINE, O_FIRMWARE, O_DISK, O_CAP, O_AFF, O_BALLOON, O_NIC = 400, O_NATPF = 420 };
    static struct option opts[64];
    static const struct option base[] = {
        { "data-dir", required_argument, NULL, O_DATA }, { "json", no_argument, NULL, O_JSON },
        { "stats", no_argument, NULL, O_STATS }, { "console", no_argument, NULL, O_CONSOLE },
        { "timeout", required_argument, NULL, O_TIMEOUT }, { "cpus", required_argument, NULL, O_CPUS },
        { "memory", required_argument, NULL, O_MEMORY }, { "kernel", required_argument, NULL, O_KERNEL },
        { "initrd", required_argument, NULL, O_INITRD }, { "append", required_argument, NULL, O_APPEND },
        { "cmdline", required_argument, NULL, O_CMDLINE }, { "firmware", required_argument, NULL, O_FIRMWARE },
        { "disk", required_argument, NULL, O_DISK }, { "cpu-cap", required_argument, NULL, O_CAP },
        { "cpu-affinity", required_argument, NULL, O_AFF }, { "balloon", required_argument, NULL, O_BALLOON },
        { "help", no_argument, NULL, 'h' },
        { "quiet", no_argument, NULL, 'q' },
    };
    static char names[16][12];
    unsigned n = 0;
    for (; n < sizeof(base) / sizeof(base[0]); n++)
        opts[n] = base[n];
    for (int i = 0; i < 8; i++) {
        snprintf(names[i], sizeof(names[i]), "nic%d", i + 1);
        snprintf(names[8 + i], sizeof(names[8 + i]), "natpf%d", i + 1);
        opts[n++] = (struct option){ names[i], required_argument, NULL, O_NIC + i };
        opts[n++] = (struct option){ names[8 + i], required_argument, NULL, O_NATPF + i };
    }
    opts[n] = (struct option){ NULL, 0, NULL, 0 };
    opterr = 0;
    optind = 1;
    int c;
    uint64_t v;
    while ((c = getopt_long(argc, argv, ":hq", opts, NULL)) != -1) {
        if (c >= O_CPUS && c < O_NIC + 8 + 20 && !machine && c != O_TIMEOUT)
            return usage_error("option '%s' does not apply to this command", argv[optind - 1]);
        switch (c) {
        case O_DATA: o->data_dir = optarg; break;
        case O_JSON: o->json = true; break;
        case 'q': o->quiet = true; break;
        case O_STATS: o->stats = true; break;
        case O_CONSOLE: o->console = true; break;
        case O_TIMEOUT:
            if (!vparse_uint(optarg, 1, 86400, &v))
                return usage_error("--timeout '%s': expected seconds from 1", optarg);
            o->timeout = (long)v;
            break;
        case O_CPUS:
            if (!vparse_uint(optarg, 1, 1024, &v))
                return usage_error("--cpus '%s': expected a whole number from 1", optarg);
            json_object_set_new(o->def, "cpus", json_integer((json_int_t)v));
            break;
        case O_MEMORY:
            if (!vparse_size(optarg, &v))
                return usage_error("--memory '%s': expected a size like 256M or 1G", optarg);
            json_object_set_new(o->def, "memory", json_integer((json_int_t)v));
            break;
        case O_KERNEL: json_object_set_new(o->def, "kernel", json_string(optarg)); break;
        case O_INITRD: json_object_set_new(o->def, "initrd", json_string(optarg)); break;
        case O_APPEND: json_object_set_new(o->def, "append", json_string(optarg)); break;
        case O_CMDLINE: json_object_set_new(o->def, "cmdline", json_string(optarg)); break;
        case O_FIRMWARE: json_object_set_new(o->def, "firmware", json_string(optarg)); break;
        case O_DISK: {
            json_t *disks = json_object_get(o->def, "disks");
            if (!disks) {
                disks = json_array();
                json_object_set_new(o->def, "disks", disks);
            }
            char path[4096];
            snprintf(path, sizeof(path), "%s", optarg);
            bool ro = false;
            char *comma = strrchr(path, ',');
            if (comma && !strcmp(comma, ",readonly")) {
                *comma = 0;
                ro = true;
            }
            json_array_append_new(disks, json_pack("{s:s, s:b}", "path", path, "readonly", ro));
            break;
        }
        case O_CAP:
            if (!vparse_uint(optarg, 1, 100, &v))
                return usage_error("--cpu-cap '%s': expected a percentage from 1 to 100", optarg);
            json_object_set_new(o->def, "cpu_cap", json_integer((json_int_t)v));
            break;
        case O_AFF: {
            json_t *a = parse_cpu_list(optarg);
            if (!a)
                return usage_error("--cpu-affinity '%s': expected host CPU numbers like 0,1 or 0-3", optarg);
            json_object_set_new(o->def, "cpu_affinity", a);
            break;
        }
        case O_BALLOON:
            if (!strcmp(optarg, "off")) {
                json_object_set_new(o->def, "balloon", json_null());
                break;
            }
            if (!vparse_size(optarg, &v) || (v & 0xfff) || v > (uint64_t)INT64_MAX)
                return usage_error("--balloon '%s': expected off or a size that is a multiple of 4K, such as 64M",
                                   optarg);
            json_object_set_new(o->def, "balloon", json_integer((json_int_t)v));
            break;
        case 'h': fputs(VM_USAGE, stdout); return -1;
        case ':': return usage_error("option '%s' needs a value", argv[optind - 1]);
        case '?': return usage_error("unknown option '%s'", argv[optind - 1]);
        default:
            if (c >= O_NIC && c < O_NIC + 8) {
                json_decref(o->nics[c - O_NIC]);
                o->nics[c - O_NIC] = json_string(optarg);
            } else if (c >= O_NATPF && c < O_NATPF + 8) {
                if (!o->natpf[c - O_NATPF])
                    o->natpf[c - O_NATPF] = json_array();
                json_array_append_new(o->natpf[c - O_NATPF], json_string(optarg));
            }
        }
    }
    return 0;
}

/* Merge --nicN/--natpfN into a nics array (current: the VM's, or NULL). */
static json_t *merge_nics(const struct vm_opts *o, json_t *current, bool creating)
{
    bool any = false;
    for (int i = 0; i < 8; i++)
        any |= o->nics[i] || o->natpf[i];
    if (!any)
        return creating ? json_pack("[{s:s, s:[]}]", "spec", "nat", "natpf") : NULL;
    json_t *nics = current ? json_deep_copy(current) : json_array();
    int top = 0;
    for (int i = 0; i < 8; i++)
        if (o->nics[i] || o->natpf[i])
            top = i + 1;
    while ((int)json_array_size(nics) < top)
        json_array_append_new(nics, json_pack("{s:s, s:[]}", "spec", json_array_size(nics) ? "none" : "nat",
                                              "natpf"));
    for (int i = 0; i < top; i++) {
        json_t *n = json_array_get(nics, (size_t)i);
        if (o->nics[i])
            json_object_set(n, "spec", o->nics[i]);
        if (o->natpf[i])
            json_object_set(n, "natpf", o->natpf[i]);
    }
    return nics;
}

static int report(long status, json_t *ans, struct api_client *c, const char *what)
{
    if (status < 0) {
        fprintf(stderr, "vireo vm %s: %s\n", what, c->err);
        return EXIT_NODAEMON;
    }
    if (status >= 300) {
        fprintf(stderr, "vireo vm %s: %s\n", what, api_error_text(ans, status));
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

static void print_size(FILE *f, json_int_t b)
{
    if (b == 0)
        fprintf(f, "0");
    else if (b % (1 << 30) == 0)
        fprintf(f, "%lldG", (long long)(b >> 30));
    else if (b % (1 << 20) == 0)
        fprintf(f, "%lldM", (long long)(b >> 20));
    else
        fprintf(f, "%lld", (long long)b);
}

/* Byte counts for people: 1.5K, 42.0M, 3.2G. */
static void print_bytes(json_int_t b)
{
    static const char units[] = "KMGT";
    double v = (double)b;
    int u = -1;
    while (v >= 1024 && u < 3) {
        v /= 1024;
        u++;
    }
    if (u < 0)
        printf("%lldB", (long long)b);
    else
        printf("%.1f%c", v, units[u]);
}

static json_int_t num(json_t *o, const char *key) { return json_integer_value(json_object_get(o, key)); }

static void print_stats(json_t *st)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(st, "vcpus"), i, e)
        printf("vcpu%zu:    busy %.1f%%  steal %lld ms  cpu %lld ms  instructions %lld\n", i,
               json_number_value(json_object_get(e, "busy_pct")), (long long)num(e, "steal_ms"),
               (long long)num(e, "cpu_ms"), (long long)num(e, "instret"));
    json_t *m = json_object_get(st, "memory");
    printf("memory:   ");
    print_bytes(num(m, "resident"));
    printf(" resident of ");
    print_bytes(num(m, "assigned"));
    printf("\n");
    json_t *b = json_object_get(m, "balloon");
    if (b) {
        printf("balloon:  ");
        print_bytes(num(b, "actual"));
        printf(" given up of ");
        print_bytes(num(b, "target"));
        printf(" asked; ");
        print_bytes(num(b, "reported"));
        printf(" of freed memory returned\n");
    }
    json_array_foreach(json_object_get(st, "disks"), i, e) {
        printf("disk%zu:    reads %lld (", i + 1, (long long)num(e, "read_reqs"));
        print_bytes(num(e, "read_bytes"));
        printf(")  writes %lld (", (long long)num(e, "write_reqs"));
        print_bytes(num(e, "write_bytes"));
        printf(")  flushes %lld  errors %lld\n", (long long)num(e, "flushes"), (long long)num(e, "errors"));
    }
    json_array_foreach(json_object_get(st, "nics"), i, e) {
        printf("nic%zu:     %s  tx %lld frames (", i + 1, json_string_value(json_object_get(e, "mac")) ?: "?",
               (long long)num(e, "tx_frames"));
        print_bytes(num(e, "tx_bytes"));
        printf(")  rx %lld frames (", (long long)num(e, "rx_frames"));
        print_bytes(num(e, "rx_bytes"));
        printf(")  tx errors %lld  rx dropped %lld\n", (long long)num(e, "tx_errors"), (long long)num(e, "rx_dropped"));
    }
}

static void print_vm(json_t *vm)
{
    printf("name:     %s\n", json_string_value(json_object_get(vm, "name")));
    printf("state:    %s\n", json_string_value(json_object_get(vm, "state")));
    printf("cpus:     %lld\n", (long long)json_integer_value(json_object_get(vm, "cpus")));
    printf("memory:   ");
    print_size(stdout, json_integer_value(json_object_get(vm, "memory")));
    printf("\n");
    json_t *v;
    if ((v = json_object_get(vm, "cpu_cap")))
        printf("cpu cap:  %lld%%\n", (long long)json_integer_value(v));
    if (json_is_integer(v = json_object_get(vm, "balloon"))) {
        printf("balloon:  ");
        print_size(stdout, json_integer_value(v));
        printf("\n");
    }
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(vm, "disks"), i, d)
        printf("disk%zu:    %s%s\n", i + 1, json_string_value(json_object_get(d, "path")),
               json_is_true(json_object_get(d, "readonly")) ? " (read-only)" : "");
    json_array_foreach(json_object_get(vm, "nics"), i, d) {
        printf("nic%zu:     %s\n", i + 1, json_string_value(json_object_get(d, "spec")));
        size_t j;
        json_t *r;
        json_array_foreach(json_object_get(d, "natpf"), j, r)
            printf("natpf%zu:   %s\n", i + 1, json_string_value(r));
    }
}

static int cmd_list(struct api_client *c, struct vm_opts *o)
{
    json_t *ans = NULL, *host = NULL;
    long st = api_call(c, "GET", "/v1/vms", NULL, &ans);
    int r = report(st, ans, c, "list");
    if (r) {
        json_decref(ans);
        return r;
    }
    if (o->quiet) {
        size_t i;
        json_t *vm;
        json_array_foreach(ans, i, vm)
            printf("%s\n", json_string_value(json_object_get(vm, "name")));
    } else if (o->json) {
        json_dumpf(ans, stdout, JSON_INDENT(2));
        printf("\n");
    } else {
        printf("%-24s %-9s %5s %8s\n", "NAME", "STATE", "CPUS", "MEMORY");
        size_t i;
        json_t *vm;
        json_array_foreach(ans, i, vm) {
            printf("%-24s %-9s %5lld ", json_string_value(json_object_get(vm, "name")),
                   json_string_value(json_object_get(vm, "state")),
                   (long long)json_integer_value(json_object_get(vm, "cpus")));
            char mem[32];
            FILE *f = fmemopen(mem, sizeof(mem), "w");
            print_size(f, json_integer_value(json_object_get(vm, "memory")));
            fclose(f);
            printf("%8s\n", mem);
        }
        if (api_call(c, "GET", "/v1/host", NULL, &host) == 200)
            printf("vCPUs of running VMs: %lld (host logical CPUs: %lld)\n",
                   (long long)json_integer_value(json_object_get(host, "vcpus_running")),
                   (long long)json_integer_value(json_object_get(host, "cpus")));
    }
    json_decref(ans);
    json_decref(host);
    return EXIT_OK;
}

/* Attach this terminal to the VM's console socket until Ctrl-A D. */
static int attach_console(struct api_client *c, const char *name)
{
    char path[4200];
    if (mgmt_path(path, sizeof(path), c->data_dir, MGMT_VM_CONSOLE, name) < 0)
        return EXIT_FAIL;
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(a.sun_path)) {
        fprintf(stderr, "vireo vm console: the console socket path %s is too long\n", path);
        return EXIT_FAIL;
    }
    memcpy(a.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        fprintf(stderr, "vireo vm console: cannot attach to %s's console (is it running?): %s\n", name, strerror(errno));
        if (fd >= 0)
            close(fd);
        return EXIT_FAIL;
    }
    struct termios old, raw;
    bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
    if (tty) {
        raw = old;
        cfmakeraw(&raw);
        tcsetattr(STDIN_FILENO, TCSANOW, &raw);
        fprintf(stderr, "[attached to %s; Ctrl-A D detaches]\r\n", name);
    }
    bool prefix = false;
    int rc = EXIT_OK;
    for (;;) {
        struct pollfd p[2] = { { STDIN_FILENO, POLLIN, 0 }, { fd, POLLIN, 0 } };
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        char buf[4096];
        if (p[1].revents) {
            ssize_t n = read(fd, buf, sizeof(buf));
            if (n <= 0) {
                fprintf(stderr, "\r\n[the VM's console closed]\r\n");
                break;
            }
            if (write(STDOUT_FILENO, buf, (size_t)n) < 0)
                break;
        }
        if (p[0].revents) {
            ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
            if (n <= 0)
                break;
            char out[4096];
            size_t k = 0;
            bool detach = false;
            for (ssize_t i = 0; i < n && !detach; i++) {
                if (prefix) {
                    prefix = false;
                    if (buf[i] == 'd' || buf[i] == 'D' || buf[i] == 4)
                        detach = true;
                    else
                        out[k++] = buf[i] == 1 ? 1 : buf[i];
                } else if (buf[i] == 1) {
                    prefix = true;
                } else {
                    out[k++] = buf[i];
                }
            }
            if (k && write(fd, out, k) < 0)
                break;
            if (detach) {
                fprintf(stderr, "\r\n[detached from %s; it keeps running]\r\n", name);
                break;
            }
        }
    }
    if (tty)
        tcsetattr(STDIN_FILENO, TCSANOW, &old);
    close(fd);
    return rc;
}

int cmd_vm(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        fputs(VM_USAGE, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *cmd = argv[1];
    static const char *const with_name[] = { "create", "show", "modify", "start", "stop", "poweroff", "pause",
                                             "resume", "console", "delete" };
    bool needs_name = false, known = !strcmp(cmd, "list");
    for (size_t i = 0; i < sizeof(with_name) / sizeof(with_name[0]); i++)
        if (!strcmp(cmd, with_name[i]))
            needs_name = known = true;
    if (!known)
        return usage_error("unknown command '%s'", cmd);
    const char *name = NULL;
    int skip = 1;
    if (needs_name) {
        if (argc < 3 || argv[2][0] == '-') {
            if (argc >= 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
                fputs(VM_USAGE, stdout);
                return EXIT_OK;
            }
            return usage_error("'%s' needs the VM's name", cmd);
        }
        name = argv[2];
        skip = 2;
        if (!mgmt_name_valid(name))
            return usage_error("'%s' is not a valid VM name: 1-48 letters, digits, '.', '_' or '-'", name);
    }
    struct vm_opts o = { .def = json_object() };
    bool machine = !strcmp(cmd, "create") || !strcmp(cmd, "modify");
    int pr = parse_opts(argc - skip, argv + skip, &o, machine);
    if (pr != 0 || optind < argc - skip) {
        int r = pr < 0 ? EXIT_OK : pr ? pr : usage_error("unexpected argument '%s'", argv[skip + optind]);
        json_decref(o.def);
        return r;
    }
    struct api_client c;
    if (api_client_init(&c, o.data_dir) < 0) {
        fprintf(stderr, "vireo vm: %s\n", c.err);
        json_decref(o.def);
        return EXIT_FAIL;
    }
    char path[256];
    json_t *ans = NULL;
    long st;
    int r = EXIT_OK;
    if (!strcmp(cmd, "list")) {
        r = cmd_list(&c, &o);
    } else if (!strcmp(cmd, "create")) {
        json_object_set_new(o.def, "name", json_string(name));
        json_t *nics = merge_nics(&o, NULL, true);
        json_object_set_new(o.def, "nics", nics);
        st = api_call(&c, "POST", "/v1/vms", o.def, &ans);
        r = report(st, ans, &c, "create");
        if (!r)
            printf("VM '%s' created\n", name);
    } else if (!strcmp(cmd, "modify")) {
        snprintf(path, sizeof(path), "/v1/vms/%s", name);
        json_t *cur = NULL;
        bool nic_change = false;
        for (int i = 0; i < 8; i++)
            nic_change |= o.nics[i] || o.natpf[i];
        if (nic_change) {
            st = api_call(&c, "GET", path, NULL, &cur);
            if ((r = report(st, cur, &c, "modify"))) {
                json_decref(cur);
                goto out;
            }
            json_object_set_new(o.def, "nics", merge_nics(&o, json_object_get(cur, "nics"), false));
            json_decref(cur);
        }
        if (!json_object_size(o.def)) {
            r = usage_error("nothing to change for '%s'", name);
            goto out;
        }
        st = api_call(&c, "PATCH", path, o.def, &ans);
        r = report(st, ans, &c, "modify");
    } else if (!strcmp(cmd, "show")) {
        snprintf(path, sizeof(path), "/v1/vms/%s", name);
        st = api_call(&c, "GET", path, NULL, &ans);
        if (!(r = report(st, ans, &c, "show"))) {
            json_t *stats = NULL;
            if (o.stats) {
                snprintf(path, sizeof(path), "/v1/vms/%s/stats", name);
                st = api_call(&c, "GET", path, NULL, &stats);
                if ((r = report(st, stats, &c, "show --stats"))) {
                    json_decref(stats);
                    goto out;
                }
                json_object_set_new(ans, "stats", stats);
            }
            if (o.json) {
                json_dumpf(ans, stdout, JSON_INDENT(2));
                printf("\n");
            } else {
                print_vm(ans);
                if (o.stats)
                    print_stats(json_object_get(ans, "stats"));
            }
        }
    } else if (!strcmp(cmd, "console")) {
        r = attach_console(&c, name);
    } else if (!strcmp(cmd, "delete")) {
        snprintf(path, sizeof(path), "/v1/vms/%s", name);
        st = api_call(&c, "DELETE", path, NULL, &ans);
        r = report(st, ans, &c, "delete");
        if (!r)
            printf("VM '%s' deleted\n", name);
    } else if (name) {
        /* start, stop, poweroff, pause, resume */
        snprintf(path, sizeof(path), "/v1/vms/%s/%s", name, cmd);
        json_t *body = NULL;
        if (!strcmp(cmd, "stop") && o.timeout)
            body = json_pack("{s:I}", "timeout", (json_int_t)o.timeout);
        st = api_call(&c, "POST", path, body, &ans);
        json_decref(body);
        r = report(st, ans, &c, cmd);
        const char *msg = json_string_value(json_object_get(ans, "message"));
        if (!r && msg)
            printf("%s\n", msg);
        else if (!r && !strcmp(cmd, "start"))
            printf("VM '%s' started (process %lld)\n", name, (long long)num(ans, "pid"));
        else if (!r)
            printf("VM '%s' %s\n", name, !strcmp(cmd, "pause") ? "paused" : "resumed");
        if (!r && !strcmp(cmd, "start") && o.console)
            r = attach_console(&c, name);
    }
out:
    json_decref(ans);
    json_decref(o.def);
    for (int i = 0; i < 8; i++) {
        json_decref(o.nics[i]);
        json_decref(o.natpf[i]);
    }
    return r;
}
