#include "vmm/control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/acceptor.h"
#include "base/evloop.h"
#include "base/log.h"

#define OUT_MAX (1u << 20)

struct client {
    struct control *c;
    int fd;
    char in[CONTROL_MAX_LINE + 1];
    size_t inlen;
    char *out;
    size_t outlen, outcap;
    bool closing; /* close once the output is flushed */
    bool want_out;
    /* Closing: the answer went out and our side is shut; read and drop
     * what the client still sends until it closes, so it is not reset
     * before it reads the answer. */
    bool draining;
    size_t drained;
};

struct control {
    char path[108];
    int fd;
    struct evloop *l;
    struct acceptor acc;
    control_handler handler;
    void *opaque;
    struct client *clients[CONTROL_MAX_CLIENTS];
};

json_t *control_error(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_t *o = json_object();
    json_object_set_new(o, "ok", json_false());
    json_object_set_new(o, "error", json_string(msg));
    return o;
}

struct control *control_open(const char *path, char *err, size_t errlen)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(sa.sun_path)) {
        snprintf(err, errlen, "control socket path '%s' is too long (at most %zu bytes)", path,
                 sizeof(sa.sun_path) - 1);
        return NULL;
    }
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create the control socket: %s", strerror(errno));
        return NULL;
    }
    /* Something there already: a live socket is another VM's. */
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            snprintf(err, errlen, "control socket path '%s' exists and is not a socket", path);
            close(fd);
            return NULL;
        }
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
            close(probe);
            snprintf(err, errlen, "control socket '%s' is in use by another process", path);
            close(fd);
            return NULL;
        }
        if (probe >= 0)
            close(probe);
        unlink(path);
    }
    mode_t old = umask(077);
    int r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    umask(old);
    if (r < 0) {
        snprintf(err, errlen, "cannot bind the control socket '%s': %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    chmod(path, 0600);
    if (listen(fd, 16) < 0) {
        snprintf(err, errlen, "cannot listen on the control socket '%s': %s", sa.sun_path, strerror(errno));
        close(fd);
        unlink(path);
        return NULL;
    }
    struct control *c = calloc(1, sizeof(*c));
    if (!c) {
        snprintf(err, errlen, "out of memory");
        close(fd);
        unlink(path);
        return NULL;
    }
    snprintf(c->path, sizeof(c->path), "%s", path);
    c->fd = fd;
    return c;
}

static void client_free(struct client *cl)
{
    struct control *c = cl->c;
    for (unsigned i = 0; i < CONTROL_MAX_CLIENTS; i++)
        if (c->clients[i] == cl)
            c->clients[i] = NULL;
    if (c->l)
        evloop_del_fd(c->l, cl->fd);
    close(cl->fd);
    free(cl->out);
    free(cl);
}

/* Write what can be written now. Returns false if the client is gone. */
static bool client_flush(struct client *cl)
{
    while (cl->outlen) {
        ssize_t w = send(cl->fd, cl->out, cl->outlen, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (w <= 0) {
            client_free(cl);
            return false;
        }
        memmove(cl->out, cl->out + w, cl->outlen - (size_t)w);
        cl->outlen -= (size_t)w;
    }
    if (!cl->outlen && cl->closing) {
        if (!cl->draining) {
            shutdown(cl->fd, SHUT_WR);
            cl->draining = true;
            if (cl->want_out && cl->c->l)
                evloop_mod_fd(cl->c->l, cl->fd, EPOLLIN);
            cl->want_out = false;
        }
        return true;
    }
    bool want = cl->outlen > 0;
    if (want != cl->want_out && cl->c->l) {
        evloop_mod_fd(cl->c->l, cl->fd, want ? EPOLLOUT : EPOLLIN);
        cl->want_out = want;
    }
    return true;
}

static bool client_send(struct client *cl, json_t *answer)
{
    char *text = json_dumps(answer, JSON_COMPACT | JSON_REAL_PRECISION(6));
    json_decref(answer);
    if (!text)
        return true;
    size_t n = strlen(text);
    if (cl->outlen + n + 1 > OUT_MAX) {
        free(text);
        vwarn("control client not reading its answers: dropped");
        client_free(cl);
        return false;
    }
    if (cl->outlen + n + 1 > cl->outcap) {
        size_t cap = cl->outcap ? cl->outcap : 1024;
        while (cap < cl->outlen + n + 1)
            cap *= 2;
        char *p = realloc(cl->out, cap);
        if (!p) {
            free(text);
            client_free(cl);
            return false;
        }
        cl->out = p;
        cl->outcap = cap;
    }
    memcpy(cl->out + cl->outlen, text, n);
    cl->out[cl->outlen + n] = '\n';
    cl->outlen += n + 1;
    free(text);
    return client_flush(cl);
}

static json_t *handle_line(struct control *c, const char *line, size_t len)
{
    json_error_t jerr;
    json_t *req = json_loadb(line, len, 0, &jerr);
    if (!req)
        return control_error("request is not valid JSON: %s", jerr.text);
    if (!json_is_object(req)) {
        json_decref(req);
        return control_error("request must be a JSON object such as {\"op\": \"status\"}");
    }
    json_t *op = json_object_get(req, "op");
    if (!json_is_string(op)) {
        json_decref(req);
        return control_error("request has no \"op\" string");
    }
    json_t *answer = c->handler ? c->handler(c->opaque, json_string_value(op), req)
                                : control_error("the VM is not running");
    json_decref(req);
    return answer;
}

/* Answer the complete lines buffered. Returns false if the client is gone. */
static bool process_lines(struct client *cl)
{
    for (;;) {
        /* While answers wait for the client to read them, stop: the rest is
         * handled after they are flushed. */
        if (cl->want_out || cl->closing)
            return true;
        char *nl = memchr(cl->in, '\n', cl->inlen);
        if (!nl) {
            if (cl->inlen >= sizeof(cl->in)) {
                cl->closing = true;
                cl->inlen = 0;
                return client_send(cl, control_error("request line longer than %d bytes: closing the connection",
                                                     CONTROL_MAX_LINE));
            }
            return true;
        }
        size_t len = (size_t)(nl - cl->in);
        size_t skip = len + 1;
        if (len && cl->in[len - 1] == '\r')
            len--;
        bool blank = true;
        for (size_t i = 0; i < len; i++)
            if (cl->in[i] != ' ' && cl->in[i] != '\t')
                blank = false;
        json_t *answer = blank ? NULL : handle_line(cl->c, cl->in, len);
        memmove(cl->in, cl->in + skip, cl->inlen - skip);
        cl->inlen -= skip;
        if (answer && !client_send(cl, answer))
            return false;
    }
}

static void client_event(void *opaque, int fd, uint32_t events)
{
    struct client *cl = opaque;
    (void)fd;
    if (events & EPOLLOUT) {
        if (!client_flush(cl) || !process_lines(cl))
            return;
    }
    /* The peer hung up while answers wait for room it will never make (its
     * reading side is shut): they cannot be delivered, and the hang-up,
     * level-triggered, would be reported again at once, forever. */
    if ((events & (EPOLLHUP | EPOLLERR)) && cl->want_out) {
        client_free(cl);
        return;
    }
    if (cl->draining) {
        char junk[4096];
        ssize_t r = recv(cl->fd, junk, sizeof(junk), MSG_DONTWAIT);
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        if (r <= 0 || (cl->drained += (size_t)r) > (1u << 20))
            client_free(cl);
        return;
    }
    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)) || cl->closing || cl->want_out)
        return;
    ssize_t r = recv(cl->fd, cl->in + cl->inlen, sizeof(cl->in) - cl->inlen, MSG_DONTWAIT);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (r <= 0) {
        client_free(cl);
        return;
    }
    cl->inlen += (size_t)r;
    process_lines(cl);
}

static void accept_event(void *opaque, int fd, uint32_t events)
{
    struct control *c = opaque;
    (void)fd, (void)events;
    for (;;) {
        int cfd = acceptor_next(&c->acc, NULL, NULL);
        if (cfd < 0)
            return;
        unsigned slot = CONTROL_MAX_CLIENTS;
        for (unsigned i = 0; i < CONTROL_MAX_CLIENTS; i++)
            if (!c->clients[i]) {
                slot = i;
                break;
            }
        struct client *cl = slot < CONTROL_MAX_CLIENTS ? calloc(1, sizeof(*cl)) : NULL;
        if (!cl) {
            static const char msg[] = "{\"ok\":false,\"error\":\"too many control clients\"}\n";
            if (send(cfd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
                /* nothing more to do */
            }
            close(cfd);
            continue;
        }
        cl->c = c;
        cl->fd = cfd;
        if (evloop_add_fd(c->l, cfd, EPOLLIN, client_event, cl) < 0) {
            close(cfd);
            free(cl);
            continue;
        }
        c->clients[slot] = cl;
    }
}

void control_attach(struct control *c, struct evloop *l, control_handler h, void *opaque)
{
    c->l = l;
    c->handler = h;
    c->opaque = opaque;
    acceptor_init(&c->acc, l, c->fd, c->path);
    if (evloop_add_fd(l, c->fd, EPOLLIN, accept_event, c) < 0)
        vwarn("cannot serve the control socket '%s'", c->path);
}

void control_detach(struct control *c)
{
    if (!c || !c->l)
        return;
    for (unsigned i = 0; i < CONTROL_MAX_CLIENTS; i++) {
        struct client *cl = c->clients[i];
        if (!cl)
            continue;
        /* a last try at answers still pending (a poweroff's "ok") */
        if (cl->outlen && send(cl->fd, cl->out, cl->outlen, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
            /* the client is gone or full: nothing to do */
        }
        client_free(cl);
    }
    acceptor_cancel(&c->acc);
    evloop_del_fd(c->l, c->fd);
    c->l = NULL;
    c->handler = NULL;
}

void control_close(struct control *c)
{
    if (!c)
        return;
    control_detach(c);
    close(c->fd);
    unlink(c->path);
    free(c);
}
