#ifndef VIREO_CLI_COMMANDS_H
#define VIREO_CLI_COMMANDS_H

#include <stddef.h>

int cmd_run(int argc, char **argv);
int cmd_guest(int argc, char **argv);
int cmd_switch(int argc, char **argv);
int cmd_vm(int argc, char **argv);
int cmd_net(int argc, char **argv);

/* Directory of the default guest built by `vireo guest build`
 * (<cache>/guest/current); false if none has been built. */
int default_guest_dir(char *buf, size_t len);

#endif
