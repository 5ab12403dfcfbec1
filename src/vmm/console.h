/* The VM's console on the host's stdin/stdout, as `vireo run` and
 * `qemu-system-* -nographic` give it: raw mode when stdin is a terminal,
 * Ctrl-A X quits, Ctrl-A Ctrl-A sends a literal Ctrl-A; works with no
 * terminal at all (stdin at EOF or /dev/null). Guest output is buffered and
 * written by the I/O thread, so a vCPU never blocks on the terminal. */
#ifndef VIREO_VMM_CONSOLE_H
#define VIREO_VMM_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

struct evloop;
struct stdio_console;

/* Input bytes go to `deliver`, which returns how many it took (the rest is
 * retried later). `quit` is called on Ctrl-A X. */
struct console_input {
    size_t (*deliver)(void *opaque, const uint8_t *buf, size_t len);
    void (*quit)(void *opaque);
    void *opaque;
};

struct stdio_console *stdio_console_new(struct evloop *io, int in_fd, int out_fd);
void stdio_console_set_input(struct stdio_console *c, struct console_input in);
/* From any thread. */
void stdio_console_write(void *console, const uint8_t *buf, size_t len);
/* Write out whatever is buffered and restore the terminal. */
void stdio_console_free(struct stdio_console *c);

#endif
