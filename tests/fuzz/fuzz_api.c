/* Fuzz target: the request handling of vireod's HTTP+JSON API
 * (src/mgmt/api.c) without a socket, through api_handle_request: the same
 * routing, body parsing and store calls the HTTP handler makes.
 *
 * Input: up to 8 requests separated by a line "%%"; each is a first line
 * "METHOD URL" (up to the first space; no space: all of it is the method
 * and the URL is empty) and the rest, after that line's newline, is the
 * body (none if empty). A NUL in the method or URL ends it, as it would in
 * the C strings libmicrohttpd hands over.
 *
 * The api has no supervisor (api_start is never called): every VM is
 * stopped, starting one fails with 500 and nothing is ever spawned, so the
 * routes that would talk to a VM process (stop, pause, resume, stats,
 * live PATCH) are reached only up to their state checks. The store lives
 * in a temporary data directory made once (under /dev/shm when there is
 * one), and is emptied after every input so inputs do not depend on each
 * other.
 *
 * Invariants: every answer is JSON that serialises (as the handler sends
 * it) and parses back; its status is one docs/api.md lists (200 201 400
 * 404 405 409 413 422 500); an error (4xx/5xx) is an object with a
 * non-empty "error" string; a success is an object or array; only GET
 * /v1/events gets no immediate answer. A 201 VM or network is then in the
 * store under its name. */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "mgmt/api.h"
#include "mgmt/paths.h"
#include "mgmt/store.h"

#include "fuzz_util.h"

#define MAX_REQUESTS 8

static char data_dir[256];
static struct store *st;
static struct api *api;
static const struct store_host host = { .cpus = 4, .memory = 8ull << 30 };

static void cleanup(void)
{
    api_free(api);
    store_close(st);
    fuzz_rmtree(data_dir);
}

static void setup(void)
{
    vlog_set_level(VLOG_ERROR);
    fuzz_mkdtemp("vireo-fuzz-api", data_dir, sizeof(data_dir));
    char err[512];
    if (mgmt_make_dirs(data_dir, err, sizeof(err)) < 0)
        abort();
    atexit(cleanup);
    st = store_open(data_dir, &host, err, sizeof(err));
    api = st ? api_new(st, &host) : NULL;
    if (!api)
        abort();
}

/* Empty the store: VMs first (a network in use cannot go). */
static void reset(void)
{
    char err[512];
    while (store_vm_count(st)) {
        const char *name = json_string_value(json_object_get(store_vm_at(st, 0), "name"));
        if (store_vm_delete(st, name, err, sizeof(err)) != STORE_OK)
            abort();
    }
    while (store_net_count(st)) {
        const char *name = json_string_value(json_object_get(store_net_at(st, 0), "name"));
        if (store_net_delete(st, name, err, sizeof(err)) != STORE_OK)
            abort();
    }
}

static bool status_documented(unsigned s)
{
    static const unsigned ok[] = { 200, 201, 400, 404, 405, 409, 413, 422, 500 };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (s == ok[i])
            return true;
    return false;
}

static void check_answer(const char *method, const char *url, unsigned status, json_t *resp)
{
    if (!resp) {
        /* Only the event stream is answered later (no supervisor: no
         * worker ever runs). */
        if (status != 0 || strcmp(method, "GET") != 0 || !strstr(url, "events"))
            abort();
        return;
    }
    if (!status_documented(status))
        abort();
    char *text = json_dumps(resp, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(6));
    if (!text)
        abort();   /* the handler would drop the connection without an answer */
    json_t *back = json_loads(text, JSON_DECODE_ANY, NULL);
    free(text);
    if (!back || !json_equal(back, resp))
        abort();
    json_decref(back);
    if (status >= 400) {
        const char *e = json_string_value(json_object_get(resp, "error"));
        if (!json_is_object(resp) || !e || !e[0])
            abort();
    } else if (!json_is_object(resp) && !json_is_array(resp)) {
        abort();
    }
    if (status == 201) {
        const char *name = json_string_value(json_object_get(resp, "name"));
        if (!name || (!store_vm_get(st, name) && !store_net_get(st, name)))
            abort();
    }
}

static void one_request(const char *req, size_t len)
{
    const char *nl = memchr(req, '\n', len);
    size_t line = nl ? (size_t)(nl - req) : len;
    const char *sp = memchr(req, ' ', line);
    size_t mlen = sp ? (size_t)(sp - req) : line;
    char method[64], url[2048];
    snprintf(method, sizeof(method), "%.*s", (int)(mlen < sizeof(method) ? mlen : sizeof(method) - 1), req);
    if (sp) {
        size_t ulen = line - mlen - 1;
        snprintf(url, sizeof(url), "%.*s", (int)(ulen < sizeof(url) ? ulen : sizeof(url) - 1), sp + 1);
    } else {
        url[0] = 0;
    }
    const char *body = nl ? nl + 1 : req + len;
    size_t blen = (size_t)(req + len - body);
    /* An exact-size copy of the body, so a read past it is ASan's. */
    char *copy = blen ? malloc(blen) : NULL;
    if (blen && !copy)
        abort();
    if (blen)
        memcpy(copy, body, blen);
    unsigned status = 0;
    json_t *resp = api_handle_request(api, method, url, copy, blen, &status);
    check_answer(method, url, status, resp);
    json_decref(resp);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!api)
        setup();
    const char *p = (const char *)data, *end = p + size;
    for (int n = 0; n < MAX_REQUESTS && p <= end; n++) {
        const char *sep = memmem(p, (size_t)(end - p), "\n%%\n", 4);
        const char *stop = sep ? sep : end;
        one_request(p, (size_t)(stop - p));
        if (!sep)
            break;
        p = sep + 4;
    }
    reset();
    return 0;
}
