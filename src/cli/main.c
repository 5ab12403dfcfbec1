/* The `vireo` command: dispatches to its subcommands. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: vireo COMMAND [OPTIONS]\n"
            "\n"
            "commands:\n"
            "  run          run one VM in the foreground (serial console on this terminal)\n"
            "  vm           create, start, stop, inspect and change managed VMs (vireod)\n"
            "  net          define networks that stay up (vireod)\n"
            "  switch       run the switch of a named network in the foreground\n"
            "  guest build  build the default guest (kernel, initramfs, root disk) from Debian packages\n"
            "  version      print the version\n"
            "\n"
            "'vireo COMMAND --help' describes each command.\n");
}

int main(int argc, char **argv)
{
    /* A closed pipe on stdout (vireo run | head) is an error on write, not
     * a silent death that leaves the terminal in raw mode. */
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "run"))
        return cmd_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "vm"))
        return cmd_vm(argc - 1, argv + 1);
    if (!strcmp(cmd, "net"))
        return cmd_net(argc - 1, argv + 1);
    if (!strcmp(cmd, "switch"))
        return cmd_switch(argc - 1, argv + 1);
    if (!strcmp(cmd, "guest"))
        return cmd_guest(argc - 1, argv + 1);
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("vireo %s\n", VIREO_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "vireo: unknown command '%s' (see 'vireo --help')\n", cmd);
    return 2;
}
