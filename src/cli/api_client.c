#include "cli/api_client.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mgmt/paths.h"

#define ANSWER_MAX (16u << 20)

extern char **environ;

int api_client_init(struct api_client *c, const char *opt_data_dir)
{
    memset(c, 0, sizeof(*c));
    if (mgmt_data_dir(opt_data_dir, c->data_dir, sizeof(c->data_dir), c->err, sizeof(c->err)) < 0)
        return -1;
    if (mgmt_path(c->sock, sizeof(c->sock), c->data_dir, MGMT_API_SOCK, NULL) < 0) {
        snprintf(c->err, sizeof(c->err), "the data directory path %.300s... is too long", c->data_dir);
        return -1;
    }
    return 0;
}

static bool socket_answers(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    size_t n = strlen(path);
    bool ok = n < sizeof(a.sun_path);
    if (ok) {
        memcpy(a.sun_path, path, n + 1);
        ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    }
    close(fd);
    return ok;
}

/* vireod lives next to vireo (build/vireod, or the install's bindir). */
static int start_daemon(struct api_client *c)
{
    char self[PATH_MAX], exe[PATH_MAX + 16];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0) {
        snprintf(c->err, sizeof(c->err), "cannot find the vireo program: %s", strerror(errno));
        return -1;
    }
    self[n] = 0;
    char *slash = strrchr(self, '/');
    if (slash)
        *slash = 0;
    snprintf(exe, sizeof(exe), "%s/vireod", self);
    char *argv[] = { exe, "--data-dir", c->data_dir, NULL };
    pid_t pid;
    int e = posix_spawn(&pid, exe, NULL, NULL, argv, environ);
    if (e) {
        snprintf(c->err, sizeof(c->err), "cannot start the daemon %.300s: %s", exe, strerror(e));
        return -1;
    }
    int status;
    waitpid(pid, &status, 0); /* it daemonizes: the starter returns at once */
    for (int i = 0; i < 100; i++) {
        if (socket_answers(c->sock))
            return 0;
        struct timespec ts = { 0, 50 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    snprintf(c->err, sizeof(c->err), "the daemon did not come up on %s (see its log)", c->sock);
    return -1;
}

struct buf {
    char *p;
    size_t len;
    bool too_big;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *opaque)
{
    struct buf *b = opaque;
    size_t n = size * nmemb;
    if (b->len + n > ANSWER_MAX) {
        b->too_big = true;
        return 0;
    }
    char *q = realloc(b->p, b->len + n + 1);
    if (!q)
        return 0;
    memcpy(q + b->len, ptr, n);
    b->p = q;
    b->len += n;
    b->p[b->len] = 0;
    return n;
}

long api_call(struct api_client *c, const char *method, const char *path, json_t *body, json_t **out)
{
    if (out)
        *out = NULL;
    if (!socket_answers(c->sock) && start_daemon(c) < 0)
        return -1;
    CURL *h = curl_easy_init();
    if (!h) {
        snprintf(c->err, sizeof(c->err), "cannot initialise libcurl");
        return -1;
    }
    char url[1024];
    snprintf(url, sizeof(url), "http://vireod%s", path);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    struct buf b = { 0 };
    curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, c->sock);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (text) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(text));
    } else if (!strcmp(method, "POST")) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
    }
    CURLcode rc = curl_easy_perform(h);
    long status = -1;
    if (rc != CURLE_OK) {
        snprintf(c->err, sizeof(c->err), "%s", b.too_big ? "the daemon's answer is too large" : curl_easy_strerror(rc));
    } else {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        if (out && b.len) {
            json_error_t je;
            *out = json_loadb(b.p, b.len, 0, &je);
        }
    }
    free(b.p);
    free(text);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return status;
}

const char *api_error_text(json_t *answer, long status)
{
    const char *e = json_string_value(json_object_get(answer, "error"));
    if (e)
        return e;
    return status == 404 ? "not found" : "the daemon refused the request";
}

struct events_ctx {
    bool (*cb)(json_t *, void *);
    void *opaque;
    char line[65536];
    size_t len;
    bool stop;
};

static size_t on_events(char *ptr, size_t size, size_t nmemb, void *opaque)
{
    struct events_ctx *e = opaque;
    size_t n = size * nmemb;
    for (size_t i = 0; i < n; i++) {
        char ch = ptr[i];
        if (ch != '\n') {
            if (e->len < sizeof(e->line) - 1)
                e->line[e->len++] = ch;
            continue;
        }
        e->line[e->len] = 0;
        e->len = 0;
        json_error_t je;
        json_t *ev = json_loads(e->line, 0, &je);
        if (!ev)
            continue;
        bool more = e->cb(ev, e->opaque);
        json_decref(ev);
        if (!more) {
            e->stop = true;
            return 0;
        }
    }
    return n;
}

int api_events(struct api_client *c, bool (*cb)(json_t *ev, void *opaque), void *opaque)
{
    if (!socket_answers(c->sock) && start_daemon(c) < 0)
        return -1;
    CURL *h = curl_easy_init();
    if (!h)
        return -1;
    struct events_ctx *e = calloc(1, sizeof(*e));
    if (!e) {
        curl_easy_cleanup(h);
        return -1;
    }
    e->cb = cb;
    e->opaque = opaque;
    curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, c->sock);
    curl_easy_setopt(h, CURLOPT_URL, "http://vireod/v1/events");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_events);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, e);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(h);
    int r = (rc == CURLE_OK || e->stop) ? 0 : -1;
    if (r < 0)
        snprintf(c->err, sizeof(c->err), "%s", curl_easy_strerror(rc));
    free(e);
    curl_easy_cleanup(h);
    return r;
}
