/* The VM process's control socket (docs/management.md): a UNIX stream
 * socket (mode 0600) serving newline-delimited JSON, one request and one
 * answer in order, several clients at once, entirely non-blocking on the
 * I/O thread's event loop. A request line may be at most CONTROL_MAX_LINE
 * bytes before its newline; a longer one is answered with an error and the
 * connection closed. A client that does not read its answers (more than
 * 1 MiB pending) is dropped. */
#ifndef VIREO_VMM_CONTROL_H
#define VIREO_VMM_CONTROL_H

#include <jansson.h>
#include <stddef.h>

#define CONTROL_MAX_LINE 4096
#define CONTROL_MAX_CLIENTS 64

struct evloop;
struct control;

/* Answer one request (an object with a string "op"). Returns a new
 * reference to the answer object. */
typedef json_t *(*control_handler)(void *opaque, const char *op, json_t *req);

/* Bind and listen at path (a stale socket there is replaced; a live one is
 * an error). NULL with a sentence in err. */
struct control *control_open(const char *path, char *err, size_t errlen);
/* Serve on l (the listening socket survives guest resets: detach before
 * the loop is freed, attach to the next one; clients are dropped). */
void control_attach(struct control *c, struct evloop *l, control_handler h, void *opaque);
void control_detach(struct control *c);
/* Close and remove the socket. */
void control_close(struct control *c);

/* Helper for handlers: {"ok": false, "error": msg}. */
json_t *control_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
