#include "net/hub_status.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/client.h"
#include "net/rundir.h"

#define REPORT_MAX (1u << 20)   /* 64 ports' worth is ~20 KiB */

static json_t *port_json(const struct hub_status_port *sp)
{
    const struct net_port *p = sp->port;
    char mac[18];
    if (sp->mac)
        snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", sp->mac[0], sp->mac[1], sp->mac[2], sp->mac[3],
                 sp->mac[4], sp->mac[5]);
    return json_pack("{s:s, s:o, s:o, s:i, s:b, s:I, s:I, s:I, s:I, s:I, s:I}",
                     "name", p->name, "client", sp->client ? json_string(sp->client) : json_null(),
                     "mac", sp->mac ? json_string(mac) : json_null(), "vlan", (int)p->vlan.vid,
                     "trunk", p->vlan.trunk,
                     "rx_frames", (json_int_t)p->stats.rx_frames, "rx_bytes", (json_int_t)p->stats.rx_bytes,
                     "tx_frames", (json_int_t)p->stats.tx_frames, "tx_bytes", (json_int_t)p->stats.tx_bytes,
                     "rx_dropped", (json_int_t)p->stats.rx_dropped, "tx_dropped", (json_int_t)p->stats.tx_dropped);
}

char *hub_status_build(enum hub_kind kind, const char *name, unsigned mtu, const struct net_switch *sw,
                       const struct hub_status_port *ports, size_t nports)
{
    const struct net_switch_stats *s = net_switch_stats(sw);
    json_t *list = json_array();
    for (size_t i = 0; list && i < nports; i++)
        if (json_array_append_new(list, port_json(&ports[i])) < 0) {
            json_decref(list);
            list = NULL;
        }
    if (!list)
        return NULL;
    json_t *o = json_pack("{s:s, s:s, s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
                          "kind", hub_kind_name(kind), "name", name, "pid", (int)getpid(), "mtu", (int)mtu,
                          "frames", (json_int_t)s->frames, "flooded", (json_int_t)s->flooded,
                          "dropped_vlan", (json_int_t)s->dropped_vlan, "dropped_bad", (json_int_t)s->dropped_bad,
                          "addresses", (json_int_t)net_switch_address_count(sw),
                          "learn_full", (json_int_t)s->learn_full, "ports", list);
    if (!o)
        return NULL;
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

int hub_status_query(enum hub_kind kind, const char *name, int timeout_ms, char **json, char *err, size_t errlen)
{
    /* The same connection a VM's adapter makes (with its socket buffers, big
     * enough for a whole report); only the hello differs. */
    int fd = net_client_connect(kind, name);
    if (fd < 0) {
        if (errno == EAGAIN)
            snprintf(err, errlen, "the switch of %s '%s' is busy: its queue of new connections is full",
                     hub_kind_name(kind), name);
        else
            snprintf(err, errlen, "%s '%s' has no running switch (%s)", hub_kind_name(kind), name, strerror(errno));
        return -1;
    }
    struct hub_hello hello = { .version = HUB_VERSION, .flags = HUB_HELLO_STATUS };
    memcpy(hello.magic, HUB_MAGIC, 8);
    snprintf(hello.client, sizeof(hello.client), "status query");
    char *buf = malloc(REPORT_MAX + 1);
    ssize_t n = -1;
    struct pollfd p = { fd, POLLIN, 0 };
    if (buf && send(fd, &hello, sizeof(hello), MSG_NOSIGNAL) == (ssize_t)sizeof(hello) &&
        poll(&p, 1, timeout_ms) == 1)
        n = recv(fd, buf, REPORT_MAX, MSG_TRUNC);
    close(fd);
    struct hub_welcome w;
    if (n < (ssize_t)sizeof(w) || n > (ssize_t)REPORT_MAX) {
        snprintf(err, errlen, "the switch of %s '%s' gave no status report", hub_kind_name(kind), name);
        free(buf);
        return -1;
    }
    memcpy(&w, buf, sizeof(w));
    if (memcmp(w.magic, HUB_MAGIC, 8) || w.version != HUB_VERSION || w.status != 0) {
        w.message[sizeof(w.message) - 1] = 0;
        snprintf(err, errlen, "the switch of %s '%s' refused the status query: %s", hub_kind_name(kind), name,
                 w.status && w.message[0] ? w.message : "protocol version mismatch");
        free(buf);
        return -1;
    }
    size_t len = (size_t)n - sizeof(w);
    memmove(buf, buf + sizeof(w), len);
    buf[len] = 0;
    *json = buf;
    return 0;
}
