/* src/mgmt/store.c and paths.c: definitions on disk, validation, atomicity. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mgmt/paths.h"
#include "mgmt/store.h"

static char dir[256];
static struct store_host host = { .cpus = 4, .memory = 4ull << 30 };

static int setup(void **st)
{
    (void)st;
    char err[256];
    snprintf(dir, sizeof(dir), "/tmp/vireo-store-XXXXXX");
    assert_non_null(mkdtemp(dir));
    assert_int_equal(mgmt_make_dirs(dir, err, sizeof(err)), 0);
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = 0;
    fclose(f);
    return strdup(buf);
}

/* Files in dir/sub (hidden ones included). */
static int count_files(const char *sub)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", dir, sub);
    DIR *d = opendir(p);
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            n++;
    if (d)
        closedir(d);
    return n;
}

static enum store_err create(struct store *s, const char *json, char *err)
{
    json_error_t je;
    json_t *v = json_loads(json, 0, &je);
    assert_non_null(v);
    enum store_err r = store_vm_create(s, v, NULL, err, 256);
    json_decref(v);
    return r;
}

static void test_names(void **st)
{
    (void)st;
    assert_true(mgmt_name_valid("web"));
    assert_true(mgmt_name_valid("a.b_c-9"));
    assert_true(mgmt_name_valid("x23456789012345678901234567890123456789012345678"));
    assert_false(mgmt_name_valid("x234567890123456789012345678901234567890123456789"));
    assert_false(mgmt_name_valid(""));
    assert_false(mgmt_name_valid(".hidden"));
    assert_false(mgmt_name_valid("-opt"));
    assert_false(mgmt_name_valid("a/b"));
    assert_false(mgmt_name_valid("../x"));
    assert_false(mgmt_name_valid("a\nb"));
    assert_false(mgmt_name_valid("a b"));
    char p[256], err[128];
    assert_int_equal(mgmt_path(p, sizeof(p), "/d", MGMT_VM_STATE, "web"), 0);
    assert_string_equal(p, "/d/run/vms/web.state");
    assert_int_equal(mgmt_path(p, sizeof(p), "/d", MGMT_API_SOCK, NULL), 0);
    assert_string_equal(p, "/d/run/api.sock");
    assert_int_equal(mgmt_data_dir("/x", p, sizeof(p), err, sizeof(err)), 0);
    assert_string_equal(p, "/x");
    setenv("VIREO_HOME", "/vh", 1);
    assert_int_equal(mgmt_data_dir(NULL, p, sizeof(p), err, sizeof(err)), 0);
    assert_string_equal(p, "/vh");
    unsetenv("VIREO_HOME");
    if (geteuid() != 0) {
        setenv("XDG_DATA_HOME", "/xdg", 1);
        assert_int_equal(mgmt_data_dir(NULL, p, sizeof(p), err, sizeof(err)), 0);
        assert_string_equal(p, "/xdg/vireo");
    }
}

static void test_create_load_update_delete(void **st)
{
    (void)st;
    char err[256], path[512];
    struct store *s = store_open(dir, &host, err, sizeof(err));
    assert_non_null(s);
    assert_int_equal(create(s, "{\"name\": \"web\", \"cpus\": 2, \"memory\": 134217728, "
                               "\"disks\": [{\"path\": \"/tmp/web.img\"}], "
                               "\"nics\": [{\"spec\": \"nat\", \"natpf\": [\"ssh,tcp,,2222,,22\"]}]}",
                            err),
                     STORE_OK);
    json_t *vm = store_vm_get(s, "web");
    assert_non_null(vm);
    assert_int_equal(json_integer_value(json_object_get(vm, "cpus")), 2);
    assert_int_equal(json_string_length(json_object_get(vm, "uuid")), 36);
    const char *spec = json_string_value(json_object_get(json_array_get(json_object_get(vm, "nics"), 0), "spec"));
    assert_non_null(strstr(spec, "nat,mac=")); /* a MAC was assigned */
    char mac_spec[128];
    snprintf(mac_spec, sizeof(mac_spec), "%s", spec);
    assert_int_equal(json_integer_value(json_object_get(vm, "cpu_cap")), 100);
    assert_false(json_is_true(json_object_get(json_array_get(json_object_get(vm, "disks"), 0), "readonly")));
    /* defaults: one nat nic */
    assert_int_equal(create(s, "{\"name\": \"db\"}", err), STORE_OK);
    assert_int_equal(json_array_size(json_object_get(store_vm_get(s, "db"), "nics")), 1);
    assert_int_equal(create(s, "{\"name\": \"nonet\", \"nics\": []}", err), STORE_OK);
    assert_int_equal(store_vm_count(s), 3);
    store_close(s);

    /* load */
    s = store_open(dir, &host, err, sizeof(err));
    assert_non_null(s);
    assert_int_equal(store_vm_count(s), 3);
    vm = store_vm_get(s, "web");
    assert_non_null(vm);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(vm, "nics"), 0), "spec")), mac_spec);

    /* update */
    json_t *p = json_pack("{s:i, s:[i]}", "cpu_cap", 50, "cpu_affinity", 1);
    assert_int_equal(store_vm_update(s, "web", p, NULL, err, sizeof(err)), STORE_OK);
    json_decref(p);
    assert_int_equal(json_integer_value(json_object_get(store_vm_get(s, "web"), "cpu_cap")), 50);
    mgmt_path(path, sizeof(path), dir, MGMT_VM_DEF, "web");
    char *text = slurp(path);
    assert_non_null(strstr(text, "\"cpu_cap\": 50"));
    free(text);
    p = json_pack("{s:s}", "name", "other");
    assert_int_equal(store_vm_update(s, "web", p, NULL, err, sizeof(err)), STORE_INVALID);
    json_decref(p);
    p = json_pack("{s:i}", "cpus", 1);
    assert_int_equal(store_vm_update(s, "nosuch", p, NULL, err, sizeof(err)), STORE_NOTFOUND);
    json_decref(p);

    /* delete */
    assert_int_equal(store_vm_delete(s, "db", err, sizeof(err)), STORE_OK);
    assert_int_equal(store_vm_delete(s, "db", err, sizeof(err)), STORE_NOTFOUND);
    assert_int_equal(store_vm_count(s), 2);
    assert_int_equal(count_files("vms"), 2);
    store_close(s);
}

/* A failed update leaves the file and the memory unchanged; a crash between
 * write and rename (a left-over temp file) leaves the old file standing. */
static void test_atomic(void **st)
{
    (void)st;
    char err[256], path[512];
    struct store *s = store_open(dir, &host, err, sizeof(err));
    assert_int_equal(create(s, "{\"name\": \"a\"}", err), STORE_OK);
    mgmt_path(path, sizeof(path), dir, MGMT_VM_DEF, "a");
    char *before = slurp(path);
    json_t *mem_before = json_deep_copy(store_vm_get(s, "a"));

    const char *bad[] = {
        "{\"cpus\": 99}", "{\"cpus\": 0}", "{\"cpus\": \"2\"}", "{\"memory\": 1024}",
        "{\"memory\": 1099511627776}", "{\"memory\": 16777217}", "{\"cpu_cap\": 0}", "{\"cpu_cap\": 101}",
        "{\"cpu_affinity\": [9]}", "{\"cpu_affinity\": [1, 1]}", "{\"colour\": \"red\"}",
        "{\"nics\": [{\"spec\": \"warp\"}]}", "{\"nics\": [{\"spec\": \"nat\", \"natpf\": [\"x\"]}]}",
        "{\"nics\": [{\"spec\": \"nat\", \"speed\": 10}]}", "{\"disks\": [{\"path\": \"rel.img\"}]}",
        "{\"disks\": [{\"path\": \"/a\\nb\"}]}", "{\"kernel\": 5}", "{\"append\": \"a\\u0001\"}",
        "{\"uuid\": \"00000000-0000-4000-8000-000000000000\"}", "{\"name\": \"b\"}",
        "{\"disks\": [{\"path\":\"/1\"},{\"path\":\"/2\"},{\"path\":\"/3\"},{\"path\":\"/4\"},{\"path\":\"/5\"},"
        "{\"path\":\"/6\"},{\"path\":\"/7\"}]}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *p = json_loads(bad[i], 0, NULL);
        assert_non_null(p);
        err[0] = 0;
        enum store_err r = store_vm_update(s, "a", p, NULL, err, sizeof(err));
        if (r == STORE_OK)
            fail_msg("update %s was accepted", bad[i]);
        assert_int_equal(r, STORE_INVALID);
        assert_true(strlen(err) > 5);
        json_decref(p);
        char *now = slurp(path);
        assert_string_equal(now, before);
        free(now);
        assert_true(json_equal(store_vm_get(s, "a"), mem_before));
        assert_int_equal(count_files("vms"), 1); /* no temp file left */
    }
    /* a crash between write and rename */
    char tmp[600];
    snprintf(tmp, sizeof(tmp), "%s/vms/.a.json.tmp.XyZ123", dir);
    FILE *f = fopen(tmp, "w");
    fputs("{\"name\": \"a\", \"half", f);
    fclose(f);
    store_close(s);
    s = store_open(dir, &host, err, sizeof(err));
    assert_non_null(s);
    assert_true(json_equal(store_vm_get(s, "a"), mem_before));
    assert_int_equal(access(tmp, F_OK), -1); /* cleaned */
    json_decref(mem_before);
    free(before);
    store_close(s);
}

static void test_bad_create(void **st)
{
    (void)st;
    char err[256];
    struct store *s = store_open(dir, &host, err, sizeof(err));
    assert_int_equal(create(s, "{\"name\": \"ok\"}", err), STORE_OK);
    struct {
        const char *json;
        enum store_err r;
        const char *word; /* the error names this */
    } cases[] = {
        { "{\"name\": \"a/b\"}", STORE_INVALID, "name" },
        { "{\"name\": \"../etc\"}", STORE_INVALID, "name" },
        { "{\"name\": \"a\\nb\"}", STORE_INVALID, "name" },
        { "{\"name\": \"a\\u0000b\"}", STORE_INVALID, "name" },
        { "{\"name\": \".x\"}", STORE_INVALID, "name" },
        { "{\"name\": \"\"}", STORE_INVALID, "name" },
        { "{\"name\": 7}", STORE_INVALID, "name" },
        { "{}", STORE_INVALID, "name" },
        { "{\"name\": \"ok\"}", STORE_EXISTS, "ok" },
        { "{\"name\": \"n\", \"bogus\": 1}", STORE_INVALID, "bogus" },
        { "{\"name\": \"n\", \"cpus\": 5}", STORE_INVALID, "4" },
        { "{\"name\": \"n\", \"memory\": 8589934592}", STORE_INVALID, "memory" },
        { "{\"name\": \"n\", \"created\": \"x\"}", STORE_INVALID, "created" },
        { "{\"name\": \"n\", \"cpu_affinity\": [\"0\"]}", STORE_INVALID, "cpu_affinity" },
        { "{\"name\": \"n\", \"nics\": {}}", STORE_INVALID, "nics" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *v = json_loads(cases[i].json, JSON_ALLOW_NUL, NULL);
        assert_non_null(v);
        err[0] = 0;
        enum store_err r = store_vm_create(s, v, NULL, err, sizeof(err));
        json_decref(v);
        if (r != cases[i].r || !strstr(err, cases[i].word))
            fail_msg("%s: got %d '%s'", cases[i].json, r, err);
    }
    assert_int_equal(store_vm_count(s), 1);
    assert_int_equal(count_files("vms"), 1);
    store_close(s);

    /* malformed or foreign files on disk are skipped */
    char p[600];
    snprintf(p, sizeof(p), "%s/vms/broken.json", dir);
    FILE *f = fopen(p, "w");
    fputs("{\"name\": ", f);
    fclose(f);
    snprintf(p, sizeof(p), "%s/vms/liar.json", dir);
    f = fopen(p, "w");
    fputs("{\"name\": \"ok\"}", f);
    fclose(f);
    s = store_open(dir, &host, err, sizeof(err));
    assert_int_equal(store_vm_count(s), 1);
    store_close(s);
}

static void test_networks(void **st)
{
    (void)st;
    char err[256];
    struct store *s = store_open(dir, &host, err, sizeof(err));
    json_t *v = json_pack("{s:s, s:s, s:s, s:[s]}", "name", "lab", "kind", "natnetwork", "cidr", "10.9.0.0/24",
                          "natpf", "web,tcp,,8080,10.9.0.15,80");
    assert_int_equal(store_net_create(s, v, NULL, err, sizeof(err)), STORE_OK);
    assert_int_equal(store_net_create(s, v, NULL, err, sizeof(err)), STORE_EXISTS);
    json_decref(v);
    assert_int_equal(json_integer_value(json_object_get(store_net_get(s, "lab"), "mtu")), 1500);
    const char *bad[] = {
        "{\"name\": \"x\", \"kind\": \"warp\"}",
        "{\"name\": \"x\"}",
        "{\"name\": \"x\", \"kind\": \"intnet\", \"cidr\": \"10.0.0.0/24\"}",
        "{\"name\": \"x\", \"kind\": \"natnetwork\", \"cidr\": \"10.0.0.0/33\"}",
        "{\"name\": \"x\", \"kind\": \"intnet\", \"mtu\": 100}",
        "{\"name\": \"x\", \"kind\": \"intnet\", \"natpf\": [\"a,tcp,,1,10.0.0.2,1\"]}",
        "{\"name\": \"x\", \"kind\": \"intnet\", \"uplinks\": [\"warp\"]}",
        "{\"name\": \"x\", \"kind\": \"intnet\", \"extra\": 1}",
        "{\"name\": \"x/y\", \"kind\": \"intnet\"}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *b = json_loads(bad[i], 0, NULL);
        assert_non_null(b);
        if (store_net_create(s, b, NULL, err, sizeof(err)) != STORE_INVALID)
            fail_msg("%s accepted", bad[i]);
        json_decref(b);
    }
    /* unknown networks */
    assert_int_equal(create(s, "{\"name\": \"n1\", \"nics\": [{\"spec\": \"hostonly=nowhere\"}]}", err),
                     STORE_INVALID);
    assert_non_null(strstr(err, "nowhere"));
    assert_int_equal(create(s, "{\"name\": \"n2\", \"nics\": [{\"spec\": \"intnet=lab\"}]}", err),
                     STORE_INVALID); /* lab is a natnetwork */
    assert_int_equal(create(s, "{\"name\": \"n3\", \"nics\": [{\"spec\": \"bridged=nosuchif0\"}]}", err),
                     STORE_INVALID);
    assert_int_equal(create(s, "{\"name\": \"n4\", \"nics\": [{\"spec\": \"bridged=lo\"}]}", err), STORE_OK);
    assert_int_equal(store_vm_delete(s, "n4", err, sizeof(err)), STORE_OK);
    /* in use */
    assert_int_equal(create(s, "{\"name\": \"onlab\", \"nics\": [{\"spec\": \"natnetwork=lab\"}]}", err), STORE_OK);
    assert_int_equal(store_net_delete(s, "lab", err, sizeof(err)), STORE_EXISTS);
    assert_int_equal(store_vm_delete(s, "onlab", err, sizeof(err)), STORE_OK);
    assert_int_equal(store_net_delete(s, "lab", err, sizeof(err)), STORE_OK);
    assert_int_equal(store_net_count(s), 0);
    assert_int_equal(count_files("networks"), 0);
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test_setup_teardown(test_create_load_update_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_atomic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_create, setup, teardown),
        cmocka_unit_test_setup_teardown(test_networks, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
