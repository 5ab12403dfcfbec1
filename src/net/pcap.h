/* Writing frames to a pcap file (the classic format: LINKTYPE_ETHERNET,
 * microsecond timestamps) that tcpdump, tshark and Wireshark read. */
#ifndef VIREO_NET_PCAP_H
#define VIREO_NET_PCAP_H

#include <stddef.h>
#include <stdint.h>

#include "net/pkt.h"

struct net_pcap;

/* Create (truncate) path and write the file header. On error returns NULL
 * and puts a message naming the file into err. */
struct net_pcap *net_pcap_open(const char *path, char *err, size_t errlen);
/* Append one frame as it is on the wire, with an 802.1Q tag for tag_vid
 * when it is not 0. Frames above the snap length are cut (orig_len keeps
 * the size). Write errors are counted, never fatal. */
void net_pcap_write(struct net_pcap *pc, const struct net_pkt *pkt, uint16_t tag_vid, uint64_t realtime_ns);
/* How many frames could not be written (disk full, reader gone). */
uint64_t net_pcap_errors(const struct net_pcap *pc);
void net_pcap_close(struct net_pcap *pc);

#endif
