#include "cli/switch_status.h"

static unsigned long long num(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_integer(v) && json_integer_value(v) > 0 ? (unsigned long long)json_integer_value(v) : 0;
}

static const char *str(const json_t *o, const char *key, const char *none)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : none;
}

void print_switch_status(FILE *f, const json_t *r)
{
    const json_t *ports = json_object_get(r, "ports");
    fprintf(f, "switch: pid %llu, MTU %llu, %zu ports, %llu addresses learned\n", num(r, "pid"), num(r, "mtu"),
            json_array_size(ports), num(r, "addresses"));
    fprintf(f, "frames: %llu switched, %llu flooded, %llu dropped (VLAN not allowed), %llu dropped (malformed)\n",
            num(r, "frames"), num(r, "flooded"), num(r, "dropped_vlan"), num(r, "dropped_bad"));
    if (!json_array_size(ports))
        return;
    fprintf(f, "%-24s %-17s %-6s %10s %12s %10s %12s %8s %8s\n", "PORT", "MAC", "VLAN", "IN FRAMES", "IN BYTES",
            "OUT FRAMES", "OUT BYTES", "IN DROP", "OUT DROP");
    size_t i;
    const json_t *p;
    json_array_foreach(ports, i, p) {
        char vlan[16];
        if (json_is_true(json_object_get(p, "trunk")))
            snprintf(vlan, sizeof(vlan), "trunk");
        else
            snprintf(vlan, sizeof(vlan), "%llu", num(p, "vlan"));
        fprintf(f, "%-24.24s %-17s %-6s %10llu %12llu %10llu %12llu %8llu %8llu\n",
                str(p, "client", str(p, "name", "?")), str(p, "mac", "-"), vlan, num(p, "rx_frames"),
                num(p, "rx_bytes"), num(p, "tx_frames"), num(p, "tx_bytes"), num(p, "rx_dropped"),
                num(p, "tx_dropped"));
    }
}
