/* The HTTP+JSON API of vireod: see api.h and docs/api.md. */
#include "mgmt/api.h"

#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "mgmt/paths.h"
#include "net/hub_status.h"
#include "net/rundir.h"

#define SUB_BUF_MAX (1 << 20)   /* an event stream client this far behind is dropped */

struct sub {
    struct api *a;
    struct MHD_Connection *conn;
    char *buf;
    size_t len, off;
    bool suspended, closed;
    struct sub *next;
};

struct api {
    struct store *st;
    struct store_host host;
    struct sup *sup;
    struct MHD_Daemon *mhd;
    pthread_mutex_t ev_lock;   /* subs, stopping, njobs */
    pthread_cond_t jobs_done;
    struct sub *subs;
    unsigned njobs;
    bool stopping;
};

enum job_kind { JOB_START, JOB_STOP, JOB_POWEROFF, JOB_PAUSE, JOB_RESUME, JOB_STATS, JOB_SET };

struct req {
    struct api *a;
    struct MHD_Connection *conn;
    char *body;
    size_t len;
    bool too_big;
    /* a worker's answer */
    bool pending, done;
    unsigned status;
    json_t *resp;
    /* the worker's input */
    enum job_kind kind;
    char name[MGMT_NAME_MAX + 1];
    int timeout;
    json_t *arg;
    json_t *undo;   /* JOB_SET: the fields to restore if the VM refuses */
};

/* ---- responses ---- */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, json_t *body)
{
    char *s = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(6));
    json_decref(body);
    if (!s)
        return MHD_NO;
    size_t n = strlen(s);
    char *t = realloc(s, n + 2);
    if (!t) {
        free(s);
        return MHD_NO;
    }
    t[n] = '\n';
    t[n + 1] = 0;
    struct MHD_Response *r = MHD_create_response_from_buffer(n + 1, t, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(t);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* Make s valid UTF-8 in place: bytes that do not start a well-formed
 * sequence (RFC 3629: no overlong forms, surrogates or code points past
 * U+10FFFF) become '?'. */
static void utf8_scrub(char *s)
{
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        size_t n = 0;
        unsigned lo = 0x80, hi = 0xbf;   /* range of the second byte */
        if (*p < 0x80)
            n = 1;
        else if (*p >= 0xc2 && *p <= 0xdf)
            n = 2;
        else if (*p >= 0xe0 && *p <= 0xef)
            n = 3, lo = *p == 0xe0 ? 0xa0 : 0x80, hi = *p == 0xed ? 0x9f : 0xbf;
        else if (*p >= 0xf0 && *p <= 0xf4)
            n = 4, lo = *p == 0xf0 ? 0x90 : 0x80, hi = *p == 0xf4 ? 0x8f : 0xbf;
        bool ok = n > 0;
        for (size_t i = 1; ok && i < n; i++)
            ok = p[i] >= (i == 1 ? lo : 0x80) && p[i] <= (i == 1 ? hi : 0xbf);
        if (!ok) {
            *p++ = '?';
            continue;
        }
        p += n;
    }
}

static json_t *err_obj(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static json_t *err_obj(const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* A message quotes the request (its URL, which libmicrohttpd has
     * %-decoded into any bytes, or a value cut short mid-character by a
     * buffer's end): jansson takes only valid UTF-8, and a NULL here would
     * leave the client without an answer (the connection just closes). */
    utf8_scrub(msg);
    return json_pack("{s:s}", "error", msg);
}

static unsigned store_status(enum store_err e)
{
    switch (e) {
    case STORE_OK: return 200;
    case STORE_INVALID: return 422;
    case STORE_EXISTS: return 409;
    case STORE_NOTFOUND: return 404;
    case STORE_IO: break;
    }
    return 500;
}

/* ---- the supervisor, or none ----
 *
 * An api that was never started (api_handle_request alone, as the tests and
 * the fuzzer use it) has no supervisor: every VM and network is stopped,
 * and nothing is ever spawned. */

static const char *vm_state(struct api *a, const char *name, pid_t *pid)
{
    if (!a->sup) {
        if (pid)
            *pid = 0;
        return "stopped";
    }
    return sup_vm_state(a->sup, name, pid);
}

static const char *net_state(struct api *a, const char *name, pid_t *pid)
{
    if (!a->sup) {
        if (pid)
            *pid = 0;
        return "stopped";
    }
    return sup_net_state(a->sup, name, pid);
}

static void totals(struct api *a, unsigned *vms, unsigned *vcpus)
{
    if (!a->sup) {
        *vms = *vcpus = 0;
        return;
    }
    sup_totals(a->sup, vms, vcpus);
}

/* Locked: a VM as the API shows it. */
static json_t *vm_obj(struct api *a, json_t *def)
{
    json_t *o = json_deep_copy(def);
    pid_t pid = 0;
    const char *state = vm_state(a, json_string_value(json_object_get(def, "name")), &pid);
    json_object_set_new(o, "state", json_string(state));
    if (pid > 0)
        json_object_set_new(o, "pid", json_integer(pid));
    return o;
}

/* How long GET /v1/networks/NAME waits for the switch's report (the API
 * thread waits: a switch never blocks, so this only bounds a wedged one). */
#define SWITCH_REPORT_MS 1000

static json_t *net_obj(struct api *a, json_t *def)
{
    json_t *o = json_deep_copy(def);
    pid_t pid = 0;
    json_object_set_new(o, "state",
                        json_string(net_state(a, json_string_value(json_object_get(def, "name")), &pid)));
    if (pid > 0)
        json_object_set_new(o, "pid", json_integer(pid));
    return o;
}

/* One network in detail: with its running switch's ports and counters
 * (net/hub_status.h) as "switch", or why not as "switch_error". */
static json_t *net_detail(struct api *a, json_t *def)
{
    json_t *o = net_obj(a, def);
    enum hub_kind kind;
    char err[512], *text = NULL;
    if (strcmp(json_string_value(json_object_get(o, "state")), "running") ||
        hub_kind_parse(json_string_value(json_object_get(def, "kind")), &kind) < 0)
        return o;
    if (hub_status_query(kind, json_string_value(json_object_get(def, "name")), SWITCH_REPORT_MS, &text, err,
                         sizeof(err)) < 0) {
        json_object_set_new(o, "switch_error", json_string(err));
        return o;
    }
    json_t *rep = json_loads(text, 0, NULL);
    free(text);
    if (json_is_object(rep))
        json_object_set_new(o, "switch", rep);
    else
        json_decref(rep);
    return o;
}

/* ---- events ---- */

void api_event(void *api, json_t *ev)
{
    struct api *a = api;
    char *s = json_dumps(ev, JSON_COMPACT);
    if (!s)
        return;
    size_t n = strlen(s);
    pthread_mutex_lock(&a->ev_lock);
    for (struct sub *u = a->subs; u; u = u->next) {
        if (u->closed)
            continue;
        if (u->len - u->off + n + 1 > SUB_BUF_MAX) {
            u->closed = true;   /* too far behind */
        } else {
            if (u->off) {
                memmove(u->buf, u->buf + u->off, u->len - u->off);
                u->len -= u->off;
                u->off = 0;
            }
            char *nb = realloc(u->buf, u->len + n + 1);
            if (!nb) {
                u->closed = true;
            } else {
                u->buf = nb;
                memcpy(u->buf + u->len, s, n);
                u->buf[u->len + n] = '\n';
                u->len += n + 1;
            }
        }
        if (u->suspended) {
            u->suspended = false;
            MHD_resume_connection(u->conn);
        }
    }
    pthread_mutex_unlock(&a->ev_lock);
    free(s);
}

static ssize_t sub_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct sub *u = cls;
    struct api *a = u->a;
    ssize_t n = 0;
    pthread_mutex_lock(&a->ev_lock);
    if (a->stopping || u->closed) {
        n = MHD_CONTENT_READER_END_OF_STREAM;
    } else if (u->len > u->off) {
        size_t k = u->len - u->off < max ? u->len - u->off : max;
        memcpy(buf, u->buf + u->off, k);
        u->off += k;
        if (u->off == u->len)
            u->off = u->len = 0;
        n = (ssize_t)k;
    } else {
        u->suspended = true;   /* api_event resumes us */
        MHD_suspend_connection(u->conn);
    }
    pthread_mutex_unlock(&a->ev_lock);
    return n;
}

static void sub_free(void *cls)
{
    struct sub *u = cls;
    struct api *a = u->a;
    pthread_mutex_lock(&a->ev_lock);
    for (struct sub **p = &a->subs; *p; p = &(*p)->next)
        if (*p == u) {
            *p = u->next;
            break;
        }
    pthread_mutex_unlock(&a->ev_lock);
    free(u->buf);
    free(u);
}

static enum MHD_Result serve_events(struct api *a, struct MHD_Connection *c)
{
    struct sub *u = calloc(1, sizeof(*u));
    if (!u)
        return reply(c, 500, err_obj("out of memory"));
    u->a = a;
    u->conn = c;
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, sub_read, u, sub_free);
    if (!r) {
        free(u);
        return MHD_NO;
    }
    pthread_mutex_lock(&a->ev_lock);
    u->next = a->subs;
    a->subs = u;
    pthread_mutex_unlock(&a->ev_lock);
    MHD_add_response_header(r, "Content-Type", "application/x-ndjson");
    enum MHD_Result ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
}

/* ---- workers: requests that talk to a VM process ---- */

/* What a stop did, in one sentence for people (the CLI prints it). */
static const char *stop_message(struct req *r, json_t *stop)
{
    static __thread char msg[400];
    const char *how = json_string_value(json_object_get(stop, "how"));
    double secs = json_real_value(json_object_get(stop, "seconds"));
    const char *button = json_string_value(json_object_get(stop, "power_button_error"));
    if (!how)
        how = "";
    if (!strcmp(how, "guest-shutdown"))
        snprintf(msg, sizeof(msg), "VM '%s': the guest shut down (%.1f s)", r->name, secs);
    else if (!strcmp(how, "poweroff-after-timeout"))
        snprintf(msg, sizeof(msg), "VM '%s': the guest did not shut down within %d s; powered off", r->name,
                 r->timeout);
    else if (!strcmp(how, "killed"))
        snprintf(msg, sizeof(msg), "VM '%s': the VM process did not stop; killed", r->name);
    else if (button)
        snprintf(msg, sizeof(msg), "VM '%s': powered off (the power button did not work: %s)", r->name, button);
    else
        snprintf(msg, sizeof(msg), "VM '%s': powered off", r->name);
    return msg;
}

static void *job_main(void *p)
{
    struct req *r = p;
    struct api *a = r->a;
    char err[512] = "";
    json_t *res = NULL, *extra = NULL;
    unsigned status = 200;
    switch (r->kind) {
    case JOB_START:
        if (sup_vm_wait_ready(a->sup, r->name, 15000, err, sizeof(err)) < 0)
            status = 500;
        break;
    case JOB_STOP:
    case JOB_POWEROFF:
        extra = sup_vm_stop(a->sup, r->name, r->kind == JOB_STOP ? r->timeout : -1, err, sizeof(err));
        if (!extra)
            status = 500;
        break;
    case JOB_PAUSE:
    case JOB_RESUME:
    case JOB_SET:
    case JOB_STATS: {
        json_t *q = r->kind == JOB_SET ? json_incref(r->arg)
                                       : json_pack("{s:s}", "op", r->kind == JOB_PAUSE    ? "pause"
                                                              : r->kind == JOB_RESUME ? "resume"
                                                                                      : "stats");
        res = sup_vm_control(a->sup, r->name, q, err, sizeof(err));
        json_decref(q);
        if (!res)
            status = 500;
        break;
    }
    }
    json_t *out;
    sup_lock(a->sup);
    if (status != 200 && r->kind == JOB_SET && r->undo) {
        char e2[256];
        if (store_vm_update(a->st, r->name, r->undo, NULL, e2, sizeof(e2)) != STORE_OK)
            vwarn("VM '%s': cannot restore cpu_cap/cpu_affinity/balloon: %s", r->name, e2);
    }
    json_t *def = store_vm_get(a->st, r->name);
    if (status != 200) {
        out = err_obj("VM '%s': %s", r->name, err);
    } else if (r->kind == JOB_STATS) {
        json_object_del(res, "ok");
        json_object_set_new(res, "name", json_string(r->name));
        out = json_incref(res);
    } else {
        if (r->kind == JOB_PAUSE || r->kind == JOB_RESUME)
            sup_vm_set_paused(a->sup, r->name, r->kind == JOB_PAUSE);
        out = def ? vm_obj(a, def) : json_object();
        if (extra) {
            json_object_set(out, "stop", extra);
            json_object_set_new(out, "message", json_string(stop_message(r, extra)));
        }
    }
    sup_unlock(a->sup);
    json_decref(res);
    json_decref(extra);
    pthread_mutex_lock(&a->ev_lock);
    r->status = status;
    r->resp = out;
    r->done = true;
    MHD_resume_connection(r->conn);
    a->njobs--;
    pthread_cond_broadcast(&a->jobs_done);
    pthread_mutex_unlock(&a->ev_lock);
    return NULL;
}

/* Start the worker of r (r->kind, r->name: see job()). */
static enum MHD_Result run_job(struct api *a, struct req *r)
{
    r->pending = true;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    pthread_mutex_lock(&a->ev_lock);
    a->njobs++;
    MHD_suspend_connection(r->conn);
    int e = pthread_create(&t, &at, job_main, r);
    if (e) {
        a->njobs--;
        r->pending = false;
        MHD_resume_connection(r->conn);
    }
    pthread_mutex_unlock(&a->ev_lock);
    pthread_attr_destroy(&at);
    if (e)
        return reply(r->conn, 500, err_obj("cannot start a thread: %s", strerror(e)));
    return MHD_YES;
}

/* ---- routes ----
 *
 * route() decides the answer of a request without touching the
 * connection: an immediate answer (r->status, r->resp), the event stream,
 * or a worker to run (r->kind, r->name). The HTTP handler and
 * api_handle_request act on that. */

enum outcome { OUT_REPLY, OUT_EVENTS, OUT_JOB };

static enum outcome answer(struct req *r, unsigned status, json_t *body)
{
    json_decref(r->resp);
    r->status = status;
    r->resp = body;
    return OUT_REPLY;
}

static enum outcome job(struct req *r, enum job_kind kind, const char *name)
{
    r->kind = kind;
    snprintf(r->name, sizeof(r->name), "%s", name);
    return OUT_JOB;
}

static bool is_running(const char *state)
{
    return !strcmp(state, "running") || !strcmp(state, "paused");
}

static enum outcome vm_action(struct api *a, struct req *r, const char *name, const char *action,
                                 json_t *body)
{
    json_t *def = store_vm_get(a->st, name);
    if (!def)
        return answer(r, 404, err_obj("no VM named '%s'", name));
    const char *state = vm_state(a, name, NULL);
    if (!strcmp(action, "start")) {
        if (is_running(state))
            return answer(r, 409, err_obj("VM '%s' is already %s", name, state));
        char err[512] = "no supervisor: only vireod starts VMs";
        if (!a->sup || sup_vm_spawn(a->sup, def, err, sizeof(err)) < 0)
            return answer(r, 500, err_obj("VM '%s' did not start: %s", name, err));
        return job(r, JOB_START, name);
    }
    if (!strcmp(action, "stop") || !strcmp(action, "poweroff")) {
        if (!is_running(state))
            return answer(r, 409, err_obj("VM '%s' is %s, not running", name, state));
        r->timeout = 60;
        if (body && !strcmp(action, "stop")) {
            json_t *t = json_object_get(body, "timeout");
            const char *k;
            json_t *v;
            json_object_foreach(body, k, v) {
                if (strcmp(k, "timeout"))
                    return answer(r, 422, err_obj("'%s': unknown field (stop takes only \"timeout\")", k));
            }
            if (t && (!json_is_integer(t) || json_integer_value(t) < 0 || json_integer_value(t) > 3600))
                return answer(r, 422, err_obj("timeout: expected whole seconds from 0 to 3600"));
            if (t)
                r->timeout = (int)json_integer_value(t);
        }
        return job(r, !strcmp(action, "stop") ? JOB_STOP : JOB_POWEROFF, name);
    }
    if (!strcmp(action, "pause")) {
        if (strcmp(state, "running"))
            return answer(r, 409, err_obj("VM '%s' is %s, not running", name, state));
        return job(r, JOB_PAUSE, name);
    }
    if (!strcmp(action, "resume")) {
        if (strcmp(state, "paused"))
            return answer(r, 409, err_obj("VM '%s' is %s, not paused", name, state));
        return job(r, JOB_RESUME, name);
    }
    return answer(r, 404, err_obj("no such action '%s' (start, stop, poweroff, pause, resume)", action));
}

static enum outcome vm_patch(struct api *a, struct req *r, const char *name, json_t *body)
{
    if (!store_vm_get(a->st, name))
        return answer(r, 404, err_obj("no VM named '%s'", name));
    if (!body)
        return answer(r, 400, err_obj("PATCH needs a body: a JSON object of the fields to change"));
    if (!json_is_object(body))
        return answer(r, 422, err_obj("a change is a JSON object of the fields to change"));
    const char *state = vm_state(a, name, NULL);
    bool live = is_running(state);
    json_t *def = store_vm_get(a->st, name);
    /* Absent in definitions from before the balloon: none. */
    json_t *balloon_was = json_object_get(def, "balloon") ? json_object_get(def, "balloon") : json_null();
    if (live) {
        const char *k;
        json_t *v;
        json_object_foreach(body, k, v) {
            if (!strcmp(k, "balloon")) {
                /* Its size changes while running; whether there is one at
                 * all only at the next start. */
                if (json_is_null(balloon_was) || json_is_null(v))
                    return answer(r, 409, err_obj("VM '%s' is %s: a balloon can be %s only while it is stopped; "
                                                 "its size changes at any time", name, state,
                                                 json_is_null(v) ? "removed" : "added"));
            } else if (strcmp(k, "cpu_cap") && strcmp(k, "cpu_affinity")) {
                return answer(r, 409, err_obj("VM '%s' is %s: only cpu_cap, cpu_affinity and the balloon's size "
                                             "can change now ('%s' cannot)", name, state, k));
            }
        }
    }
    char err[512];
    json_t *out = NULL;
    json_t *undo = json_pack("{s:O, s:O, s:O}", "cpu_cap", json_object_get(def, "cpu_cap"), "cpu_affinity",
                             json_object_get(def, "cpu_affinity"), "balloon", balloon_was);
    enum store_err e = store_vm_update(a->st, name, body, &out, err, sizeof(err));
    if (e != STORE_OK || !live)
        json_decref(undo);
    else
        r->undo = undo;
    if (e != STORE_OK)
        return answer(r, store_status(e), err_obj("%s", err));
    if (live && json_object_size(body)) {
        r->arg = json_pack("{s:s, s:O, s:O}", "op", "set", "cpu_cap", json_object_get(out, "cpu_cap"),
                           "cpu_affinity", json_object_get(out, "cpu_affinity"));
        if (json_is_integer(json_object_get(out, "balloon")))
            json_object_set(r->arg, "balloon", json_object_get(out, "balloon"));
        return job(r, JOB_SET, name);
    }
    return answer(r, 200, vm_obj(a, out));
}

static enum outcome route(struct api *a, struct req *r, const char *url, const char *method)
{
    char path[1024];
    if (strlen(url) >= sizeof(path))
        return answer(r, 404, err_obj("no such route"));
    snprintf(path, sizeof(path), "%s", url);
    char *seg[5];
    int n = 0;
    char *save = NULL;
    for (char *t = strtok_r(path, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
        if (n == 5)
            return answer(r, 404, err_obj("no such route: %s", url));
        seg[n++] = t;
    }
    if (n < 2 || strcmp(seg[0], "v1"))
        return answer(r, 404, err_obj("no such route: %s (routes start with /v1/)", url));
    bool get = !strcmp(method, "GET"), post = !strcmp(method, "POST"), del = !strcmp(method, "DELETE"),
         patch = !strcmp(method, "PATCH");

    json_t *body = NULL;
    if (r->len) {
        json_error_t je;
        body = json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES, &je);
        if (!body)
            return answer(r, 400, err_obj("malformed JSON at line %d, column %d: %s", je.line, je.column, je.text));
    }
    enum outcome ret;
    char err[512];
#define DONE(x) do { ret = (x); goto out; } while (0)
#define METHOD(cond, allowed) \
    do { if (!(cond)) DONE(answer(r, 405, err_obj("%s %s: method not allowed (use %s)", method, url, allowed))); } while (0)

    if (!strcmp(seg[1], "host") && n == 2) {
        METHOD(get, "GET");
        unsigned vms, vcpus;
        totals(a, &vms, &vcpus);
        DONE(answer(r, 200, json_pack("{s:I, s:I, s:I, s:I}", "cpus", (json_int_t)a->host.cpus, "memory",
                                     (json_int_t)a->host.memory, "vcpus_running", (json_int_t)vcpus,
                                     "vms_running", (json_int_t)vms)));
    }
    if (!strcmp(seg[1], "events") && n == 2) {
        METHOD(get, "GET");
        DONE(OUT_EVENTS);
    }
    if (!strcmp(seg[1], "vms")) {
        if (n == 2) {
            METHOD(get || post, "GET or POST");
            if (get) {
                json_t *arr = json_array();
                for (size_t i = 0; i < store_vm_count(a->st); i++)
                    json_array_append_new(arr, vm_obj(a, store_vm_at(a->st, i)));
                DONE(answer(r, 200, arr));
            }
            if (!body)
                DONE(answer(r, 400, err_obj("POST /v1/vms needs a VM definition (a JSON object)")));
            json_t *out;
            enum store_err e = store_vm_create(a->st, body, &out, err, sizeof(err));
            if (e != STORE_OK)
                DONE(answer(r, store_status(e), err_obj("%s", err)));
            DONE(answer(r, 201, vm_obj(a, out)));
        }
        const char *name = seg[2];
        if (!mgmt_name_valid(name) || !store_vm_get(a->st, name))
            DONE(answer(r, 404, err_obj("no VM named '%s'", name)));
        if (n == 3) {
            METHOD(get || patch || del, "GET, PATCH or DELETE");
            if (get)
                DONE(answer(r, 200, vm_obj(a, store_vm_get(a->st, name))));
            if (patch)
                DONE(vm_patch(a, r, name, body));
            const char *state = vm_state(a, name, NULL);
            if (is_running(state))
                DONE(answer(r, 409, err_obj("VM '%s' is %s: stop it first", name, state)));
            enum store_err e = store_vm_delete(a->st, name, err, sizeof(err));
            if (e != STORE_OK)
                DONE(answer(r, store_status(e), err_obj("%s", err)));
            if (a->sup)
                sup_vm_forget(a->sup, name);
            DONE(answer(r, 200, json_pack("{s:s}", "deleted", name)));
        }
        if (n == 4 && !strcmp(seg[3], "stats")) {
            METHOD(get, "GET");
            const char *state = vm_state(a, name, NULL);
            if (!is_running(state))
                DONE(answer(r, 409, err_obj("VM '%s' is %s: statistics exist while it runs", name, state)));
            DONE(job(r, JOB_STATS, name));
        }
        if (n == 4) {
            METHOD(post, "POST");
            if (body && !json_is_object(body))
                DONE(answer(r, 422, err_obj("the body of %s is a JSON object", seg[3])));
            DONE(vm_action(a, r, name, seg[3], body));
        }
    }
    if (!strcmp(seg[1], "networks")) {
        if (n == 2) {
            METHOD(get || post, "GET or POST");
            if (get) {
                json_t *arr = json_array();
                for (size_t i = 0; i < store_net_count(a->st); i++)
                    json_array_append_new(arr, net_obj(a, store_net_at(a->st, i)));
                DONE(answer(r, 200, arr));
            }
            if (!body)
                DONE(answer(r, 400, err_obj("POST /v1/networks needs a network definition (a JSON object)")));
            json_t *out;
            enum store_err e = store_net_create(a->st, body, &out, err, sizeof(err));
            if (e != STORE_OK)
                DONE(answer(r, store_status(e), err_obj("%s", err)));
            if (a->sup)
                sup_net_start(a->sup, out);
            DONE(answer(r, 201, net_obj(a, out)));
        }
        const char *name = seg[2];
        if (n == 3) {
            if (!mgmt_name_valid(name) || !store_net_get(a->st, name))
                DONE(answer(r, 404, err_obj("no network named '%s'", name)));
            METHOD(get || del, "GET or DELETE");
            if (get)
                DONE(answer(r, 200, net_detail(a, store_net_get(a->st, name))));
            enum store_err e = store_net_delete(a->st, name, err, sizeof(err));
            if (e != STORE_OK)
                DONE(answer(r, store_status(e), err_obj("%s", err)));
            if (a->sup)
                sup_net_stop(a->sup, name);
            DONE(answer(r, 200, json_pack("{s:s}", "deleted", name)));
        }
    }
    ret = answer(r, 404, err_obj("no such route: %s %s", method, url));
out:
    json_decref(body);
    return ret;
#undef DONE
#undef METHOD
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *data, size_t *size, void **con_cls)
{
    (void)version;
    struct api *a = cls;
    struct req *r = *con_cls;
    if (!r) {
        r = calloc(1, sizeof(*r));
        if (!r)
            return MHD_NO;
        r->a = a;
        r->conn = c;
        *con_cls = r;
        return MHD_YES;
    }
    if (*size) {
        if (!r->too_big) {
            if (r->len + *size > API_BODY_MAX) {
                r->too_big = true;
            } else {
                char *nb = realloc(r->body, r->len + *size + 1);
                if (!nb)
                    return MHD_NO;
                r->body = nb;
                memcpy(r->body + r->len, data, *size);
                r->len += *size;
                r->body[r->len] = 0;
            }
        }
        *size = 0;
        return MHD_YES;
    }
    if (r->pending) {
        if (!r->done)
            return MHD_YES;   /* woken early: still working */
        r->pending = false;
        json_t *resp = r->resp;
        r->resp = NULL;
        return reply(c, r->status, resp);
    }
    if (r->too_big)
        return reply(c, 413, err_obj("the request body is larger than %d bytes", API_BODY_MAX));
    sup_lock(a->sup);
    enum MHD_Result ret;
    switch (route(a, r, url, method)) {
    case OUT_EVENTS:
        ret = serve_events(a, c);
        break;
    case OUT_JOB:
        ret = run_job(a, r);
        break;
    default: {
        json_t *resp = r->resp;
        r->resp = NULL;
        ret = reply(c, r->status, resp);
        break;
    }
    }
    sup_unlock(a->sup);
    return ret;
}

json_t *api_handle_request(struct api *a, const char *method, const char *url, const char *body, size_t len,
                           unsigned *status)
{
    struct req r = { .a = a, .body = (char *)body, .len = len };
    json_t *resp = NULL;
    *status = 0;
    if (len > API_BODY_MAX) {
        *status = 413;
        return err_obj("the request body is larger than %d bytes", API_BODY_MAX);
    }
    if (a->sup)
        sup_lock(a->sup);
    if (route(a, &r, url, method) == OUT_REPLY) {
        *status = r.status;
        resp = r.resp;
        r.resp = NULL;
    }
    if (a->sup)
        sup_unlock(a->sup);
    json_decref(r.resp);
    json_decref(r.arg);
    json_decref(r.undo);
    return resp;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    struct req *r = *con_cls;
    if (!r)
        return;
    free(r->body);
    json_decref(r->resp);
    json_decref(r->arg);
    json_decref(r->undo);
    free(r);
    *con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n')
        msg[--n] = 0;
    vdebug("http: %s", msg);
}

/* ---- life ---- */

int api_listen_unix(const char *path, gid_t gid, char *err, size_t errlen)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(sa.sun_path)) {
        snprintf(err, errlen, "%s: too long for a socket address (%zu bytes at most)", path,
                 sizeof(sa.sun_path) - 1);
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    unlink(path);   /* the caller holds the data directory's lock: a socket here is stale */
    mode_t old = umask(0177);
    int r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    umask(old);
    if (r < 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if ((gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) < 0) ||
        chmod(path, gid != (gid_t)-1 ? 0660 : 0600) < 0) {
        snprintf(err, errlen, "cannot set the owner or mode of %s: %s", sa.sun_path, strerror(errno));
        close(fd);
        unlink(path);
        return -1;
    }
    if (listen(fd, 512) < 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
        close(fd);
        unlink(path);
        return -1;
    }
    return fd;
}

struct api *api_new(struct store *st, const struct store_host *host)
{
    struct api *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->st = st;
    a->host = *host;
    pthread_mutex_init(&a->ev_lock, NULL);
    pthread_cond_init(&a->jobs_done, NULL);
    return a;
}

int api_start(struct api *a, int listen_fd, struct sup *sup, unsigned conn_limit, char *err, size_t errlen)
{
    a->sup = sup;
    a->mhd = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0,
                              NULL, NULL, handler, a, MHD_OPTION_LISTEN_SOCKET, listen_fd,
                              MHD_OPTION_CONNECTION_LIMIT, conn_limit ? conn_limit : API_CONN_LIMIT,
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)API_CONN_TIMEOUT,
                              MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32 * 1024,
                              MHD_OPTION_NOTIFY_COMPLETED, completed, a, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
                              a, MHD_OPTION_END);
    if (!a->mhd) {
        snprintf(err, errlen, "cannot start the HTTP server (libmicrohttpd)");
        return -1;
    }
    return 0;
}

void api_free(struct api *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->ev_lock);
    a->stopping = true;
    for (struct sub *u = a->subs; u; u = u->next)
        if (u->suspended) {
            u->suspended = false;
            MHD_resume_connection(u->conn);
        }
    while (a->njobs)
        pthread_cond_wait(&a->jobs_done, &a->ev_lock);
    pthread_mutex_unlock(&a->ev_lock);
    if (a->mhd) {
        /* let resumed connections finish their streams */
        struct timespec ts = { 0, 50 * 1000 * 1000 };
        nanosleep(&ts, NULL);
        MHD_stop_daemon(a->mhd);
    }
    pthread_mutex_destroy(&a->ev_lock);
    pthread_cond_destroy(&a->jobs_done);
    free(a);
}
