/* `vireo run`: one VM in the foreground, like qemu-system-riscv64 or
 * `lkvm run`. With no options it boots the default guest. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/parse.h"
#include "cli/commands.h"
#include "riscv/csr.h"
#include "riscv/jit.h"
#include "vmm/vcpu_sched.h"
#include "vmm/vm.h"

#define DEFAULT_CMDLINE "console=ttyS0"

static void run_usage(FILE *f)
{
    fprintf(f,
            "usage: vireo run [OPTIONS]\n"
            "\n"
            "Runs one virtual machine in the foreground with its serial console on this\n"
            "terminal. Ctrl-A X quits; Ctrl-A Ctrl-A sends Ctrl-A. The exit status is 0 when\n"
            "the guest powers off.\n"
            "\n"
            "  --kernel FILE|none     Linux Image or ELF kernel (default: the built default guest);\n"
            "                         none: run only the firmware (bare-metal programs)\n"
            "  --initrd FILE          initramfs (default: the default guest's)\n"
            "  --append STRING        add to the kernel command line\n"
            "  --cmdline STRING       replace the kernel command line\n"
            "  --firmware builtin|FILE  builtin: SBI served by Vireo, kernel entered in S-mode\n"
            "                         (default); FILE: M-mode firmware such as OpenSBI's fw_jump.bin\n"
            "                         or a bare-metal program\n"
            "  --cpus N               vCPUs (default 1; at most the host's logical CPUs)\n"
            "  --memory SIZE          guest RAM, e.g. 256M, 1G (default 256M)\n"
            "  --disk FILE[,readonly] a raw disk image as virtio-blk (repeatable)\n"
            "  --console uart|virtio  device that gets this terminal's input (default uart)\n"
            "  --mmu sv39|sv48|sv57   largest paging mode offered to the guest (default sv48)\n"
            "  --no-rng               no virtio-rng device\n"
            "  --balloon[=SIZE]       a virtio-balloon: memory the guest frees goes back to the\n"
            "                         host (free page reporting); SIZE (default 0) is how much\n"
            "                         the guest hands over at start; the control op set/balloon\n"
            "                         changes it\n"
            "  --nic MODE[,OPT=V...]  a network adapter (repeatable, at most 8; default: one nat):\n"
            "                           nat | natnetwork=NAME | bridged=IFACE | intnet=NAME |\n"
            "                           hostonly=NAME | none |\n"
            "                           generic,stream,listen=HOST:PORT | generic,stream,connect=HOST:PORT |\n"
            "                           generic,dgram,local=HOST:PORT,remote=HOST:PORT |\n"
            "                           generic,vxlan,vni=N,remote=HOST[,port=4789][,local=HOST]\n"
            "                         options: mac=XX:XX:XX:XX:XX:XX, vlan=N, mtu=N, link=up|down\n"
            "  --natpf NAME,tcp|udp,[HOSTIP],HOSTPORT,[GUESTIP],GUESTPORT\n"
            "                         port forward on the nat/natnetwork adapter given before it\n"
            "  --no-nic               no network adapter at all\n"
            "  --dump-dtb FILE        write the generated device tree to FILE and exit\n"
            "  --stats                print execution statistics when the VM stops\n"
            "  --no-sandbox           run without the system-call filter, and as root stay root (for\n"
            "                         debugging; docs/security.md)\n"
            "  --engine jit|interp    translate guest code to host code (default on x86-64 hosts;\n"
            "                         docs/jit.md) or interpret it (VIREO_ENGINE sets the default)\n"
            "  --user USER[:GROUP]    started as root, become this user once the machine is built\n"
            "                         (default nobody); not with --no-sandbox\n"
            "  --name NAME            the VM's name (messages, status; default MAC seed without a disk)\n"
            "  --control PATH         serve the control protocol (JSON lines) on this UNIX socket\n"
            "  --state-file PATH      keep the VM process's state (running/stopped) in this file\n"
            "  --console-socket PATH  no terminal: console clients attach here (vireo vm console)\n"
            "  --console-log FILE     keep the console's output in FILE (1 MiB, then FILE.1)\n"
            "  --cpu-cap PCT          each vCPU thread uses at most PCT%% of a host CPU (1-100)\n"
            "  --cpu-affinity LIST    run vCPU threads only on these host CPUs (0,1 or 0-3); every\n"
            "                         vCPU thread gets the whole list\n"
            "  -v, --verbose          more messages\n"
            "  -h, --help             this help\n");
}

static int bad(const char *fmt, const char *arg)
{
    fprintf(stderr, "vireo run: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    return 2;
}

int cmd_run(int argc, char **argv)
{
    enum { O_KERNEL = 256, O_INITRD, O_APPEND, O_CMDLINE, O_FIRMWARE, O_CPUS, O_MEMORY, O_DISK, O_CONSOLE,
           O_MMU, O_NORNG, O_BALLOON, O_DUMPDTB, O_STATS, O_NOSANDBOX, O_USER, O_ENGINE, O_NIC, O_NATPF, O_NONIC,
           O_NAME = 400, O_CONTROL, O_STATEFILE, O_CPUCAP, O_CPUAFF, O_CONSOCK, O_CONLOG };
    static const struct option opts[] = {
        { "kernel", required_argument, NULL, O_KERNEL },
        { "initrd", required_argument, NULL, O_INITRD },
        { "append", required_argument, NULL, O_APPEND },
        { "cmdline", required_argument, NULL, O_CMDLINE },
        { "firmware", required_argument, NULL, O_FIRMWARE },
        { "cpus", required_argument, NULL, O_CPUS },
        { "memory", required_argument, NULL, O_MEMORY },
        { "disk", required_argument, NULL, O_DISK },
        { "console", required_argument, NULL, O_CONSOLE },
        { "mmu", required_argument, NULL, O_MMU },
        { "no-rng", no_argument, NULL, O_NORNG },
        { "balloon", optional_argument, NULL, O_BALLOON },
        { "dump-dtb", required_argument, NULL, O_DUMPDTB },
        { "stats", no_argument, NULL, O_STATS },
        { "no-sandbox", no_argument, NULL, O_NOSANDBOX }, { "user", required_argument, NULL, O_USER },
        { "engine", required_argument, NULL, O_ENGINE },
        { "nic", required_argument, NULL, O_NIC },
        { "natpf", required_argument, NULL, O_NATPF },
        { "no-nic", no_argument, NULL, O_NONIC },
        { "name", required_argument, NULL, O_NAME },
        { "control", required_argument, NULL, O_CONTROL },
        { "state-file", required_argument, NULL, O_STATEFILE },
        { "console-socket", required_argument, NULL, O_CONSOCK },
        { "console-log", required_argument, NULL, O_CONLOG },
        { "cpu-cap", required_argument, NULL, O_CPUCAP },
        { "cpu-affinity", required_argument, NULL, O_CPUAFF },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct vm_config cfg = { .ncpus = 1, .ram_size = 256ull << 20, .max_satp_mode = SATP_MODE_SV48 };
    /* The JIT where the host has one. VIREO_ENGINE=interp|jit: the default
     * for every VM (the test suite runs once more on the interpreter);
     * --engine overrides it. */
    const char *engine_env = getenv("VIREO_ENGINE");
    cfg.jit = rv_jit_available() && !(engine_env && !strcmp(engine_env, "interp"));
    const char *append = NULL, *cmdline = NULL;
    bool kernel_given = false, initrd_given = false;
    static char disk_paths[VM_MAX_DISKS][4096];
    bool no_nic = false;
    char err[512];
    int c;
    opterr = 0;
    const char *balloon_arg = "0";
    optind = 1;
    while ((c = getopt_long(argc, argv, ":vh", opts, NULL)) != -1) {
        uint64_t v;
        switch (c) {
        case O_KERNEL:
            cfg.kernel = strcmp(optarg, "none") ? optarg : NULL;
            kernel_given = true;
            break;
        case O_INITRD: cfg.initrd = optarg; initrd_given = true; break;
        case O_APPEND: append = optarg; break;
        case O_CMDLINE: cmdline = optarg; break;
        case O_FIRMWARE:
            cfg.firmware = strcmp(optarg, "builtin") ? optarg : NULL;
            break;
        case O_CPUS:
            if (!vparse_uint(optarg, 1, 1024, &v))
                return bad("--cpus '%s': expected a whole number from 1", optarg);
            cfg.ncpus = (unsigned)v;
            break;
        case O_MEMORY:
            if (!vparse_size(optarg, &v))
                return bad("--memory '%s': expected a size such as 256M or 1G", optarg);
            if (v < (16ull << 20))
                return bad("--memory '%s': at least 16M is needed", optarg);
            if (v > (64ull << 30))
                return bad("--memory '%s': at most 64G", optarg);
            if (v & 0xfff)
                return bad("--memory '%s': must be a multiple of 4K", optarg);
            cfg.ram_size = v;
            break;
        case O_DISK: {
            if (cfg.ndisks >= VM_MAX_DISKS)
                return bad("--disk '%s': too many disks (at most 6)", optarg);
            char *p = disk_paths[cfg.ndisks];
            snprintf(p, sizeof(disk_paths[0]), "%s", optarg);
            bool ro = false;
            char *comma = strrchr(p, ',');
            if (comma) {
                if (!strcmp(comma + 1, "readonly") || !strcmp(comma + 1, "ro"))
                    ro = true;
                else
                    return bad("--disk '%s': the only option is ',readonly'", optarg);
                *comma = 0;
            }
            if (!*p)
                return bad("--disk '%s': no file name", optarg);
            cfg.disks[cfg.ndisks++] = (struct vm_disk){ p, ro };
            break;
        }
        case O_CONSOLE:
            if (!strcmp(optarg, "uart"))
                cfg.console = VM_CONSOLE_UART;
            else if (!strcmp(optarg, "virtio"))
                cfg.console = VM_CONSOLE_VIRTIO;
            else
                return bad("--console '%s': expected uart or virtio", optarg);
            break;
        case O_MMU:
            if (!strcmp(optarg, "sv39"))
                cfg.max_satp_mode = SATP_MODE_SV39;
            else if (!strcmp(optarg, "sv48"))
                cfg.max_satp_mode = SATP_MODE_SV48;
            else if (!strcmp(optarg, "sv57"))
                cfg.max_satp_mode = SATP_MODE_SV57;
            else
                return bad("--mmu '%s': expected sv39, sv48 or sv57", optarg);
            break;
        case O_NORNG: cfg.no_rng = true; break;
        case O_BALLOON:
            cfg.balloon = true;
            balloon_arg = optarg ? optarg : "0";
            if (optarg && (!vparse_size(optarg, &cfg.balloon_size) || (cfg.balloon_size & 0xfff)))
                return bad("--balloon=%s: expected a size that is a multiple of 4K, such as 64M", optarg);
            break;
        case O_DUMPDTB: cfg.dump_dtb = optarg; break;
        case O_STATS: cfg.stats = true; break;
        case O_NOSANDBOX: cfg.no_sandbox = true; break;
        case O_USER: cfg.user = optarg; break;
        case O_ENGINE:
            if (!strcmp(optarg, "interp"))
                cfg.jit = false;
            else if (!strcmp(optarg, "jit") && rv_jit_available())
                cfg.jit = true;
            else if (!strcmp(optarg, "jit"))
                return bad("%s", "--engine jit: this build has no JIT for this host (x86-64 only); use interp");
            else
                return bad("--engine '%s': expected interp or jit", optarg);
            break;
        case O_NIC:
            if (cfg.nnics >= NIC_MAX)
                return bad("--nic '%s': too many adapters (at most 8)", optarg);
            if (nic_config_parse(optarg, &cfg.nics[cfg.nnics], err, sizeof(err)) < 0)
                return bad("%s", err);
            cfg.nnics++;
            break;
        case O_NATPF:
            /* A rule belongs to the adapter given last before it. */
            if (!cfg.nnics)
                return bad("--natpf '%s': give the --nic it belongs to first", optarg);
            if (nic_config_add_natpf(&cfg.nics[cfg.nnics - 1], optarg, err, sizeof(err)) < 0)
                return bad("%s", err);
            break;
        case O_NONIC: no_nic = true; break;
        case O_NAME:
            if (!*optarg || strlen(optarg) > 48 || optarg[0] == '.' || optarg[0] == '-' ||
                strspn(optarg, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != strlen(optarg))
                return bad("--name '%s': expected 1-48 of A-Z a-z 0-9 . _ -, not starting with . or -", optarg);
            cfg.name = optarg;
            break;
        case O_CONTROL:
            if (!*optarg || strlen(optarg) > 107)
                return bad("--control '%s': expected a socket path of 1-107 bytes", optarg);
            cfg.control_path = optarg;
            break;
        case O_CONSOCK:
            if (!*optarg || strlen(optarg) > 107)
                return bad("--console-socket '%s': expected a socket path of 1-107 bytes", optarg);
            cfg.console_socket = optarg;
            break;
        case O_CONLOG:
            if (!*optarg)
                return bad("--console-log '%s': expected a file name", optarg);
            cfg.console_log = optarg;
            break;
        case O_STATEFILE:
            if (!*optarg)
                return bad("--state-file '%s': expected a file name", optarg);
            cfg.state_file = optarg;
            break;
        case O_CPUCAP:
            if (!vparse_uint(optarg, 1, 100, &v))
                return bad("--cpu-cap '%s': expected a percentage of a host CPU from 1 to 100", optarg);
            cfg.cpu_cap = (unsigned)v;
            break;
        case O_CPUAFF:
            if (vsched_parse_cpulist(optarg, vsched_host_cpus(), &cfg.affinity, err, sizeof(err)) < 0)
                return bad("--cpu-affinity: %s", err);
            {
                cpu_set_t allowed;
                if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0)
                    for (int c = 0; c < CPU_SETSIZE; c++)
                        if (CPU_ISSET(c, &cfg.affinity) && !CPU_ISSET(c, &allowed)) {
                            fprintf(stderr, "vireo run: --cpu-affinity '%s': CPU %d is offline or not "
                                    "available to this process\n", optarg, c);
                            return 2;
                        }
            }
            cfg.has_affinity = true;
            break;
        case 'v': vlog_set_level(vlog_get_level() + 1); break;
        case 'h': run_usage(stdout); return 0;
        case ':':
            return bad("option '%s' needs a value (see 'vireo run --help')", argv[optind - 1]);
        default:
            return bad("unknown option '%s' (see 'vireo run --help')", argv[optind - 1]);
        }
    }
    if (optind < argc && !strcmp(argv[optind - 1], "--balloon"))
        return bad("--balloon takes its size after '=': --balloon=%s", argv[optind]);
    if (optind < argc)
        return bad("unexpected argument '%s' (see 'vireo run --help')", argv[optind]);
    if (cfg.user && cfg.no_sandbox)
        return bad("%s", "--user goes with the sandbox: --no-sandbox keeps the user that started the VM");
    if (cfg.user && geteuid() != 0)
        return bad("--user '%s': only a VM started as root changes its user", cfg.user);
    if (cfg.balloon_size > cfg.ram_size)
        return bad("--balloon=%s is more than the VM's memory", balloon_arg);
    if (no_nic && cfg.nnics)
        return bad("--no-nic and --nic%s cannot be combined", "");
    /* Like VirtualBox: one NAT adapter unless told otherwise. */
    if (!no_nic && !cfg.nnics)
        nic_config_parse("nat", &cfg.nics[cfg.nnics++], err, sizeof(err));
    /* Default MACs stay the same across restarts of a VM with a disk: they
     * are derived from the disk's path (a diskless VM gets random ones). */
    static char seed[4200];
    if (cfg.ndisks && realpath(cfg.disks[0].path, seed))
        cfg.mac_seed = seed;
    else if (cfg.name)
        cfg.mac_seed = cfg.name;

    long host_cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (host_cpus > 0 && cfg.ncpus > (unsigned long)host_cpus) {
        fprintf(stderr, "vireo run: --cpus %u: this host has %ld logical CPUs, and one VM may have at most "
                "that many vCPUs\n", cfg.ncpus, host_cpus);
        return 2;
    }

    /* The default guest fills in whatever was not given. */
    static char kpath[4200], ipath[4200];
    if (!kernel_given) {
        char dir[4096];
        if (!default_guest_dir(dir, sizeof(dir))) {
            fprintf(stderr, "vireo run: no kernel given and no default guest built yet (looked in %s);\n"
                    "run 'vireo guest build' first, or give --kernel\n", dir);
            return 1;
        }
        snprintf(kpath, sizeof(kpath), "%s/Image", dir);
        cfg.kernel = kpath;
        if (!initrd_given) {
            snprintf(ipath, sizeof(ipath), "%s/initramfs.cpio", dir);
            cfg.initrd = ipath;
        }
    }
    static char line[8192];
    if (cmdline)
        snprintf(line, sizeof(line), "%s%s%s", cmdline, append ? " " : "", append ? append : "");
    else
        snprintf(line, sizeof(line), "%s%s%s", cfg.console == VM_CONSOLE_VIRTIO ? "console=hvc0" : DEFAULT_CMDLINE,
                 append ? " " : "", append ? append : "");
    if (cfg.kernel)
        cfg.cmdline = line;
    return vm_run(&cfg);
}
