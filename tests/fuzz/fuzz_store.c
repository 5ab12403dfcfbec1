/* Fuzz target: the VM and network definition validator and loader
 * (src/mgmt/store.c). The input is one JSON text (or any bytes), which goes
 * everywhere a definition does:
 *
 * - as a file found at start: parsed as store_open parses the files in <data>/vms
 *   (duplicate keys refused) and validated with for_file (no host limits),
 *   as a VM and as a network;
 * - as the file itself: the raw bytes are written as <name>.json (the
 *   input's "name" when that is a valid name, else fz.json) into the vms/
 *   and networks/ directories of a second data directory, which a fresh
 *   store_open then loads;
 * - as API input: store_net_create, store_vm_create (defaults, uuid,
 *   created, MACs filled in) and store_vm_update as a patch of a VM
 *   defined once at start, into a store in a temporary data directory
 *   (under /dev/shm when there is one: the store fsyncs every write). Three
 *   networks (one natnetwork, hostonly, bridged) are defined there too, so
 *   nics that name them get past the "no such network" check.
 *
 * Invariants: store_open loads the file exactly when the input parses and
 * validates (for a file) with the name of its file, as the same value; a
 * definition that is accepted re-serialises (as the store
 * writes it) and re-loads to an equal JSON value that is accepted again;
 * one created or updated through the store is found equal by a fresh
 * store_open of the data directory; a rejected one has an error message
 * that is non-empty and one line (it goes to the log for files). After each
 * input the store is back to its starting state. */
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
#include "mgmt/paths.h"
#include "mgmt/store.h"

#include "fuzz_util.h"

static char data_dir[256], load_dir[256];
static struct store *st;
static const struct store_host host = { .cpus = 4, .memory = 8ull << 30 };
static json_t *base_vm;   /* the starting definition of VM "base" */

static void cleanup(void)
{
    store_close(st);
    json_decref(base_vm);
    fuzz_rmtree(data_dir);
    fuzz_rmtree(load_dir);
}

static void setup(void)
{
    vlog_set_level(VLOG_ERROR);   /* skipped files are the point, not news */
    fuzz_mkdtemp("vireo-fuzz-store", data_dir, sizeof(data_dir));
    fuzz_mkdtemp("vireo-fuzz-load", load_dir, sizeof(load_dir));
    char err[512];
    if (mgmt_make_dirs(data_dir, err, sizeof(err)) < 0)
        abort();
    if (mgmt_make_dirs(load_dir, err, sizeof(err)) < 0)
        abort();
    atexit(cleanup);
    st = store_open(data_dir, &host, err, sizeof(err));
    if (!st)
        abort();
    static const char *const nets[] = {
        "{\"name\":\"lab\",\"kind\":\"natnetwork\",\"cidr\":\"10.9.0.0/24\",\"natpf\":[\"web,tcp,,8080,,80\"]}",
        "{\"name\":\"host0\",\"kind\":\"hostonly\"}",
        "{\"name\":\"br0\",\"kind\":\"bridged\"}",
    };
    for (size_t i = 0; i < sizeof(nets) / sizeof(nets[0]); i++) {
        json_t *v = json_loads(nets[i], 0, NULL);
        if (!v || store_net_create(st, v, NULL, err, sizeof(err)) != STORE_OK)
            abort();
        json_decref(v);
    }
    json_t *vm = json_loads("{\"name\":\"base\",\"cpus\":2,\"disks\":[{\"path\":\"/srv/base.img\"}],"
                            "\"nics\":[{\"spec\":\"nat,mac=02:00:00:00:00:01\",\"natpf\":[\"ssh,tcp,,2222,,22\"]}]}",
                            0, NULL);
    json_t *out;
    if (!vm || store_vm_create(st, vm, &out, err, sizeof(err)) != STORE_OK)
        abort();
    base_vm = json_deep_copy(out);
    json_decref(vm);
}

static void check_message(const char *err)
{
    if (!err[0] || strchr(err, '\n') || strchr(err, '\r'))
        abort();
}

/* Serialise v as store_write_atomic does and load it back as load_dir
 * does: the same value. */
static json_t *round_trip(json_t *v)
{
    char *text = json_dumps(v, JSON_INDENT(2));
    if (!text)
        abort();
    json_error_t je;
    json_t *back = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    free(text);
    if (!back || !json_equal(back, v))
        abort();
    return back;
}

static void check_validators(json_t *v)
{
    char err[512];
    for (int for_file = 0; for_file < 2; for_file++) {
        err[0] = 0;
        if (store_vm_validate(&host, v, for_file, err, sizeof(err)) == 0) {
            json_t *back = round_trip(v);
            if (store_vm_validate(&host, back, for_file, err, sizeof(err)) != 0)
                abort();
            /* What the API accepts a file must accept too. */
            if (!for_file && store_vm_validate(&host, back, true, err, sizeof(err)) != 0)
                abort();
            json_decref(back);
        } else {
            check_message(err);
        }
    }
    err[0] = 0;
    if (store_net_validate(v, err, sizeof(err)) == 0) {
        json_t *back = round_trip(v);
        if (store_net_validate(back, err, sizeof(err)) != 0)
            abort();
        json_decref(back);
    } else {
        check_message(err);
    }
}

/* A fresh store_open of the data directory finds `name` equal to def
 * (vms: VM definitions, else networks). */
static void check_reloaded(const char *name, json_t *def, bool vms)
{
    char err[512];
    struct store *s2 = store_open(data_dir, &host, err, sizeof(err));
    if (!s2)
        abort();
    json_t *got = vms ? store_vm_get(s2, name) : store_net_get(s2, name);
    if (!got || !json_equal(got, def))
        abort();
    store_close(s2);
}

static const char *name_of(json_t *def) { return json_string_value(json_object_get(def, "name")); }

static void check_store(json_t *v)
{
    char err[512], name[MGMT_NAME_MAX + 1];
    json_t *out = NULL;

    err[0] = 0;
    enum store_err e = store_net_create(st, v, &out, err, sizeof(err));
    char net_name[MGMT_NAME_MAX + 1] = "";
    if (e == STORE_OK) {
        if (store_net_validate(out, err, sizeof(err)) != 0)
            abort();
        json_decref(round_trip(out));
        snprintf(net_name, sizeof(net_name), "%s", name_of(out));
        check_reloaded(net_name, out, false);
    } else {
        check_message(err);
    }

    err[0] = 0;
    e = store_vm_create(st, v, &out, err, sizeof(err));
    if (e == STORE_OK) {
        if (store_vm_validate(&host, out, false, err, sizeof(err)) != 0 ||
            store_vm_validate(&host, out, true, err, sizeof(err)) != 0)
            abort();
        json_decref(round_trip(out));
        snprintf(name, sizeof(name), "%s", name_of(out));
        check_reloaded(name, out, true);
        if (store_vm_delete(st, name, err, sizeof(err)) != STORE_OK || store_vm_get(st, name))
            abort();
    } else {
        check_message(err);
    }

    err[0] = 0;
    e = store_vm_update(st, "base", v, &out, err, sizeof(err));
    if (e == STORE_OK) {
        if (store_vm_validate(&host, out, false, err, sizeof(err)) != 0)
            abort();
        check_reloaded("base", out, true);
        /* Put it back: every field of the original, same name/uuid/created. */
        if (store_vm_update(st, "base", base_vm, &out, err, sizeof(err)) != STORE_OK ||
            !json_equal(out, base_vm))
            abort();
    } else {
        check_message(err);
    }

    if (net_name[0] && store_net_delete(st, net_name, err, sizeof(err)) != STORE_OK)
        abort();
    if (store_vm_count(st) != 1 || store_net_count(st) != 3)
        abort();
}

static void write_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
}

/* The input as a definition file found at start (v: the input parsed, or
 * NULL). */
static void check_loader(const uint8_t *data, size_t size, json_t *v)
{
    const char *name = json_string_value(json_object_get(v, "name"));
    char file[MGMT_NAME_MAX + 1] = "fz", vm_path[512], net_path[512], err[512];
    if (name && mgmt_name_valid(name))
        snprintf(file, sizeof(file), "%s", name);
    snprintf(vm_path, sizeof(vm_path), "%s/vms/%s.json", load_dir, file);
    snprintf(net_path, sizeof(net_path), "%s/networks/%s.json", load_dir, file);
    write_file(vm_path, data, size);
    write_file(net_path, data, size);
    struct store *s2 = store_open(load_dir, &host, err, sizeof(err));
    if (!s2)
        abort();
    bool named = name && !strcmp(name, file);
    bool vm_ok = v && named && store_vm_validate(&host, v, true, err, sizeof(err)) == 0;
    bool net_ok = v && named && store_net_validate(v, err, sizeof(err)) == 0;
    json_t *vm = store_vm_get(s2, file), *net = store_net_get(s2, file);
    if (!!vm != vm_ok || !!net != net_ok || (vm && !json_equal(vm, v)) || (net && !json_equal(net, v)))
        abort();
    if (store_vm_count(s2) != vm_ok || store_net_count(s2) != net_ok)
        abort();
    store_close(s2);
    unlink(vm_path);
    unlink(net_path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!st)
        setup();
    json_error_t je;
    /* As load_dir and the API parse: duplicate keys are an error. */
    json_t *v = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
    check_loader(data, size, v);
    if (!v)
        return 0;
    check_validators(v);
    check_store(v);
    json_decref(v);
    return 0;
}
