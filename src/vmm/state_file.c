#include "vmm/state_file.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"

const char *state_file_reason(int status)
{
    switch (status) {
    case 0: return "poweroff";
    case 3: return "guest-fault";
    default: return "error";
    }
}

static int write_atomic(const char *path, const char *text)
{
    char tmp[4200];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp)) {
        verror("state file '%s': path too long", path);
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        verror("cannot write the state file '%s': %s", tmp, strerror(errno));
        return -1;
    }
    size_t len = strlen(text), off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            verror("cannot write the state file '%s': %s", tmp, strerror(errno));
            close(fd);
            unlink(tmp);
            return -1;
        }
        off += (size_t)w;
    }
    if (fsync(fd) < 0 || close(fd) < 0) {
        verror("cannot write the state file '%s': %s", tmp, strerror(errno));
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) < 0) {
        verror("cannot replace the state file '%s': %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    char dir[4200];
    snprintf(dir, sizeof(dir), "%s", path);
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

static int write_json(const char *path, json_t *o)
{
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!text) {
        verror("state file '%s': out of memory", path);
        return -1;
    }
    size_t n = strlen(text);
    char *line = malloc(n + 2);
    if (!line) {
        free(text);
        return -1;
    }
    memcpy(line, text, n);
    line[n] = '\n';
    line[n + 1] = 0;
    free(text);
    int r = write_atomic(path, line);
    free(line);
    return r;
}

static json_t *base(pid_t pid, uint64_t started_ns, const char *name, const char *state)
{
    json_t *o = json_object();
    json_object_set_new(o, "pid", json_integer(pid));
    json_object_set_new(o, "started", json_integer((json_int_t)started_ns));
    json_object_set_new(o, "state", json_string(state));
    if (name)
        json_object_set_new(o, "name", json_string(name));
    return o;
}

int state_file_write_running(const char *path, pid_t pid, uint64_t started_ns, const char *name)
{
    return write_json(path, base(pid, started_ns, name, "running"));
}

int state_file_write_stopped(const char *path, pid_t pid, uint64_t started_ns, const char *name, int status,
                             const char *reason)
{
    json_t *o = base(pid, started_ns, name, "stopped");
    json_t *e = json_object();
    json_object_set_new(e, "status", json_integer(status));
    json_object_set_new(e, "reason", json_string(reason ? reason : state_file_reason(status)));
    json_object_set_new(o, "exit", e);
    return write_json(path, o);
}
