/* The detached console of a managed VM (docs/management.md): `vireo run
 * --console-socket PATH --console-log FILE`.
 *
 * Guest output goes to
 *   - a log file, at most CONSOLE_LOG_MAX bytes: when the next byte would
 *     pass it, FILE is renamed to FILE.1 (replacing the old one) and a new
 *     FILE is started; an existing FILE is appended to;
 *   - every client attached to the UNIX stream socket (mode 0600, at most
 *     CONSOLE_MAX_CLIENTS; more are told so and closed). A new client first
 *     receives the last CONSOLE_REPLAY bytes of output, so it sees the
 *     current screen. A client never slows the VM: what it has not read
 *     waits in a queue of at most CONSOLE_CLIENT_QUEUE bytes; beyond that it
 *     is disconnected, with a message that it was too slow when the socket
 *     takes one (it gets CONSOLE_DOOM_NS to read it, and keeps its place
 *     among the CONSOLE_MAX_CLIENTS meanwhile). A client that closes or
 *     shuts down its sending side is disconnected.
 * Bytes clients send go to the guest through struct console_input's deliver
 * (quit is never called: detaching is the client's business). A client's
 * input the guest cannot take yet waits, and that client is not read until
 * it has gone.
 *
 * Threads: console_server_write may be called from any thread (vCPU
 * threads: the UART's transmit path); it only copies into a buffer under a
 * lock (at most CONSOLE_PENDING_MAX bytes waiting; beyond that output is
 * dropped and counted) and kicks the I/O thread through an eventfd, which
 * does the rest. Everything else runs on the I/O thread. The interface
 * mirrors vmm/console.h's stdio console, so vm.c can use either.
 */
#ifndef VIREO_VMM_CONSOLE_SERVER_H
#define VIREO_VMM_CONSOLE_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/console.h"

#define CONSOLE_LOG_MAX (1u << 20)
#define CONSOLE_REPLAY (64u << 10)
#define CONSOLE_CLIENT_QUEUE (256u << 10)
#define CONSOLE_MAX_CLIENTS 8
#define CONSOLE_PENDING_MAX (1u << 20)
#define CONSOLE_DOOM_NS 5000000000ull

struct evloop;
struct console_server;

/* sock_path and log_path may each be NULL (no socket / no log). A stale
 * socket file at sock_path (nobody accepting) is replaced; a live one is an
 * error. Returns NULL with a sentence in err on failure. Call on the I/O
 * thread, or before its loop runs. l may be NULL: see
 * console_server_set_loop. */
struct console_server *console_server_new(struct evloop *l, const char *sock_path, const char *log_path, char *err,
                                          size_t errlen);
void console_server_set_input(struct console_server *s, struct console_input in);
/* Rotate the log through rotate from now on: it renames the full log to
 * LOG.1 and returns a descriptor of a new, empty LOG (or -1). A sandboxed
 * VM process has its broker do it. Without one, the server renames the
 * file itself. */
void console_server_set_log_rotator(struct console_server *s, int (*rotate)(void *opaque), void *opaque);
/* Move the server to another I/O loop, keeping the socket, the log, the
 * attached clients, the replay buffer and any waiting output: a guest reset
 * that rebuilds the machine (and its loop) does not disconnect anyone.
 * Call with l = NULL before the old loop is freed (nothing is lost while no
 * loop runs: output waits, clients wait), then with the new loop. From the
 * thread that runs (or will run) the loops, while none of them is running.
 * Returns -1 (after a warning) if the new loop refused the descriptors. */
int console_server_set_loop(struct console_server *s, struct evloop *l);
/* Guest output. Any thread; never blocks on I/O. `server` is a struct
 * console_server (void * so it fits struct uart_sink / virtio_chardev). */
void console_server_write(void *server, const uint8_t *buf, size_t len);
/* Output bytes dropped because CONSOLE_PENDING_MAX was waiting. Any thread. */
uint64_t console_server_dropped(struct console_server *s);
/* Attached clients. I/O thread. */
unsigned console_server_clients(struct console_server *s);
/* Hand out what is waiting (log, and clients as far as they take it without
 * blocking), disconnect the clients, remove the socket file, free. I/O
 * thread, or after its loop stopped (but before it is freed, unless
 * console_server_set_loop(s, NULL) was called). */
void console_server_free(struct console_server *s);

#endif
