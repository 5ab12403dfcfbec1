/* Goldfish RTC: wall-clock time in nanoseconds since the epoch, with an
 * alarm (Linux's rtc-goldfish driver). */
#ifndef VIREO_MACHINE_RTC_H
#define VIREO_MACHINE_RTC_H

#include "machine/mmio.h"

#define RTC_BASE 0x00101000ull
#define RTC_SIZE 0x1000ull
#define RTC_IRQ 11

struct goldfish_rtc;
struct plic;
struct evloop;

struct goldfish_rtc *goldfish_rtc_new(struct plic *plic, unsigned irq);
void goldfish_rtc_free(struct goldfish_rtc *r);
/* Fire a due alarm; the VM's I/O thread calls this when the alarm is due. */
uint64_t goldfish_rtc_alarm_ns(struct goldfish_rtc *r); /* 0 = none armed */
void goldfish_rtc_poll(struct goldfish_rtc *r);
extern const struct mmio_ops goldfish_rtc_mmio_ops;

#endif
