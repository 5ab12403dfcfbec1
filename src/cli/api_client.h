/* The CLI's side of the vireod API (docs/api.md): JSON over HTTP on the
 * daemon's UNIX socket, with libcurl. Starts the daemon when none is
 * running for the data directory, as VBoxManage starts VBoxSVC. */
#ifndef VIREO_CLI_API_CLIENT_H
#define VIREO_CLI_API_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct api_client {
    char data_dir[4096];
    char sock[4200];
    char err[512];
};

/* Find the data directory (opt: --data-dir, or NULL) and the socket. */
int api_client_init(struct api_client *c, const char *opt_data_dir);

/* Send a request (body may be NULL) and wait for the answer. Starts the
 * daemon if its socket does not answer. Returns the HTTP status (and the
 * parsed body in *out, or NULL), or -1 with c->err set when the daemon
 * cannot be reached. */
long api_call(struct api_client *c, const char *method, const char *path, json_t *body, json_t **out);

/* The "error" string of an error answer, or a generic text. */
const char *api_error_text(json_t *answer, long status);

/* Follow GET /v1/events: call cb for each event until it returns false or
 * the stream ends. */
int api_events(struct api_client *c, bool (*cb)(json_t *ev, void *opaque), void *opaque);

#endif
