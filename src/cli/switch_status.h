/* Printing a switch's status report (net/hub_status.h) as a table, for
 * `vireo switch --status` and `vireo net show`. */
#ifndef VIREO_CLI_SWITCH_STATUS_H
#define VIREO_CLI_SWITCH_STATUS_H

#include <jansson.h>
#include <stdio.h>

void print_switch_status(FILE *f, const json_t *report);

#endif
