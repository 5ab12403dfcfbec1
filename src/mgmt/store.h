/* VM and network definitions (docs/management.md "Definitions"): JSON files
 * under the data directory, validated strictly, written atomically (temp
 * file in the same directory, fsync, rename, fsync the directory), all
 * loaded at start. A failed create/update/delete changes nothing, on disk or
 * in memory. Not thread-safe: the caller serialises. */
#ifndef VIREO_MGMT_STORE_H
#define VIREO_MGMT_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum store_err {
    STORE_OK = 0,
    STORE_INVALID,   /* valid JSON, invalid values (HTTP 422) */
    STORE_EXISTS,    /* duplicate name (409) */
    STORE_NOTFOUND,  /* no such VM/network (404) */
    STORE_IO,        /* the disk said no (500) */
};

struct store_host {
    unsigned cpus;     /* logical CPUs */
    uint64_t memory;   /* bytes of RAM */
};

/* The host's CPUs and RAM (sysconf). */
void store_host_probe(struct store_host *h);

struct store;

/* Load every definition under data (which must exist with its vms/ and
 * networks/ subdirectories). Definitions that fail validation are reported
 * with vwarn and skipped; stale temp files are removed. */
struct store *store_open(const char *data, const struct store_host *host, char *err, size_t errlen);
void store_close(struct store *s);

/* VMs: the definitions are owned by the store (borrowed references). */
size_t store_vm_count(const struct store *s);
json_t *store_vm_at(const struct store *s, size_t i);
json_t *store_vm_get(const struct store *s, const char *name);

/* Create from a user's definition (uuid and created are assigned, omitted
 * fields get their defaults, each nic gets a MAC). A nic that names a
 * network (natnetwork/intnet/hostonly=NAME) needs a defined network of
 * that kind; bridged=NAME a bridged network or a host interface. *out
 * (borrowed) is the stored definition. */
enum store_err store_vm_create(struct store *s, json_t *def, json_t **out, char *err, size_t errlen);
/* Merge patch (an object of top-level fields) into the definition and
 * validate the result; name, uuid and created cannot change. */
enum store_err store_vm_update(struct store *s, const char *name, json_t *patch, json_t **out, char *err,
                               size_t errlen);
enum store_err store_vm_delete(struct store *s, const char *name, char *err, size_t errlen);

size_t store_net_count(const struct store *s);
json_t *store_net_at(const struct store *s, size_t i);
json_t *store_net_get(const struct store *s, const char *name);
enum store_err store_net_create(struct store *s, json_t *def, json_t **out, char *err, size_t errlen);
enum store_err store_net_delete(struct store *s, const char *name, char *err, size_t errlen);

/* Validation alone (used by the store; exposed for tests). for_file: the
 * definition comes from disk (uuid/created present, host limits not
 * applied). */
int store_vm_validate(const struct store_host *host, json_t *def, bool for_file, char *err, size_t errlen);
int store_net_validate(json_t *def, char *err, size_t errlen);

/* Write v to path atomically (0600). 0 or -1 with a message. */
int store_write_atomic(const char *path, json_t *v, char *err, size_t errlen);

#endif
