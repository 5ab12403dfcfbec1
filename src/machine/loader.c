/* Loading firmware, kernel and initrd into guest RAM, with every size and
 * offset in the files checked: a bad image gets one message naming the file
 * and what is wrong with it. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "machine/board.h"

#define MIB (1ull << 20)
#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((uint64_t)(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a) - 1))

static uint64_t ram_end(const struct board *b) { return RAM_BASE + b->cfg.ram_size; }

/* A descriptor of its own for the image: a copy of the one the VM keeps
 * open, or the path opened now. */
static int open_image(const char *what, const char *path, int kept, uint64_t *size, char *err, size_t errlen)
{
    int fd = kept >= 0 ? fcntl(kept, F_DUPFD_CLOEXEC, 0) : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return board_error(err, errlen, "%s '%s': %s", what, path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return board_error(err, errlen, "%s '%s': not a regular file", what, path);
    }
    *size = (uint64_t)st.st_size;
    return fd;
}

static int read_exact(int fd, void *dst, uint64_t len, uint64_t off)
{
    uint8_t *p = dst;
    while (len) {
        ssize_t r = pread(fd, p, len > (1u << 30) ? (1u << 30) : len, (off_t)off);
        if (r <= 0)
            return -1;
        p += r;
        off += (uint64_t)r;
        len -= (uint64_t)r;
    }
    return 0;
}

/* Copy [off, off+len) of the file to guest physical gpa, which must lie in
 * RAM below `limit`. */
static int load_range(struct board *b, const char *what, const char *path, int fd, uint64_t off, uint64_t len,
                      uint64_t gpa, uint64_t limit, char *err, size_t errlen)
{
    if (gpa < RAM_BASE || gpa > limit || len > limit - gpa)
        return board_error(err, errlen, "%s '%s' (%llu KiB at 0x%llx) does not fit in guest memory of %llu MiB; "
                    "give the VM more memory", what, path, (unsigned long long)(len >> 10),
                    (unsigned long long)gpa, (unsigned long long)(b->cfg.ram_size >> 20));
    if (read_exact(fd, b->ram + (gpa - RAM_BASE), len, off) < 0)
        return board_error(err, errlen, "%s '%s': read error: %s", what, path, strerror(errno ? errno : EIO));
    return 0;
}

/* ELF64 little-endian RISC-V executable: PT_LOAD segments at their
 * physical addresses. */
static int load_elf(struct board *b, const char *what, const char *path, int fd, uint64_t fsize, uint64_t limit,
                    uint64_t *entry, uint64_t *end, char *err, size_t errlen)
{
    Elf64_Ehdr eh;
    if (fsize < sizeof(eh) || read_exact(fd, &eh, sizeof(eh), 0) < 0)
        return board_error(err, errlen, "%s '%s': truncated ELF header", what, path);
    if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_RISCV)
        return board_error(err, errlen, "%s '%s': not a 64-bit little-endian RISC-V ELF file", what, path);
    if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > 64 ||
        eh.e_phoff > fsize || (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > fsize - eh.e_phoff)
        return board_error(err, errlen, "%s '%s': bad ELF program header table", what, path);
    uint64_t hi = 0;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        if (read_exact(fd, &ph, sizeof(ph), eh.e_phoff + i * sizeof(ph)) < 0)
            return board_error(err, errlen, "%s '%s': truncated program header", what, path);
        if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
            continue;
        if (ph.p_filesz > ph.p_memsz || ph.p_offset > fsize || ph.p_filesz > fsize - ph.p_offset)
            return board_error(err, errlen, "%s '%s': segment %u lies outside the file", what, path, i);
        if (ph.p_paddr < RAM_BASE || ph.p_paddr > limit || ph.p_memsz > limit - ph.p_paddr)
            return board_error(err, errlen, "%s '%s': segment %u (0x%llx, %llu bytes) is outside guest memory", what,
                        path, i, (unsigned long long)ph.p_paddr, (unsigned long long)ph.p_memsz);
        if (load_range(b, what, path, fd, ph.p_offset, ph.p_filesz, ph.p_paddr, limit, err, errlen) < 0)
            return -1;
        memset(b->ram + (ph.p_paddr - RAM_BASE) + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
        if (ph.p_paddr + ph.p_memsz > hi)
            hi = ph.p_paddr + ph.p_memsz;
    }
    if (!hi)
        return board_error(err, errlen, "%s '%s': no loadable segment", what, path);
    if ((eh.e_entry & 1) || eh.e_entry < RAM_BASE || eh.e_entry >= hi)
        return board_error(err, errlen, "%s '%s': entry point 0x%llx is not inside a loaded segment (or is odd)", what,
                    path, (unsigned long long)eh.e_entry);
    *entry = eh.e_entry;
    *end = hi;
    return 0;
}

static bool is_elf(int fd)
{
    unsigned char m[4];
    return read_exact(fd, m, 4, 0) == 0 && !memcmp(m, ELFMAG, 4);
}

int board_load_images(struct board *b, char *err, size_t errlen)
{
    const struct board_config *c = &b->cfg;
    uint64_t fsize, limit;
    int kept_fw = c->image_fds ? c->firmware_fd : -1, kept_kernel = c->image_fds ? c->kernel_fd : -1,
        kept_initrd = c->image_fds ? c->initrd_fd : -1;

    /* The device tree goes at the top of RAM (2 MiB-aligned, as QEMU does),
     * the fw_dynamic info page just below it; images must stay below. */
    b->fdt_addr = ALIGN_DOWN(ram_end(b) - 64 * 1024, 2 * MIB);
    if (b->fdt_addr < RAM_BASE + 4 * MIB)
        b->fdt_addr = ALIGN_DOWN(ram_end(b) - 64 * 1024, 4096);
    limit = b->fdt_addr - 4096;

    uint64_t fw_end = RAM_BASE;
    if (c->firmware) {
        int fd = open_image("firmware", c->firmware, kept_fw, &fsize, err, errlen);
        if (fd < 0)
            return -1;
        int r;
        if (is_elf(fd)) {
            r = load_elf(b, "firmware", c->firmware, fd, fsize, limit, &b->fw_entry, &fw_end, err, errlen);
        } else {
            b->fw_entry = RAM_BASE;
            fw_end = RAM_BASE + fsize;
            r = fsize == 0 ? board_error(err, errlen, "firmware '%s' is empty", c->firmware)
                           : load_range(b, "firmware", c->firmware, fd, 0, fsize, RAM_BASE, limit, err, errlen);
        }
        close(fd);
        if (r < 0)
            return -1;
    }

    b->kernel_addr = RAM_BASE + KERNEL_OFFSET;
    b->kernel_end = b->kernel_addr;
    if (c->kernel) {
        int fd = open_image("kernel", c->kernel, kept_kernel, &fsize, err, errlen);
        if (fd < 0)
            return -1;
        int r;
        if (is_elf(fd)) {
            uint64_t entry;
            r = load_elf(b, "kernel", c->kernel, fd, fsize, limit, &entry, &b->kernel_end, err, errlen);
            b->kernel_addr = entry;
        } else {
            /* Linux RISC-V Image header (Documentation/riscv/boot-image-header.rst) */
            uint8_t hdr[64];
            if (fsize < sizeof(hdr) || read_exact(fd, hdr, sizeof(hdr), 0) < 0 || memcmp(hdr + 0x38, "RSC\x05", 4)) {
                close(fd);
                return board_error(err, errlen, "kernel '%s' is neither a RISC-V Linux Image (no \"RSC\\x05\" magic at "
                            "offset 0x38) nor a RISC-V ELF file", c->kernel);
            }
            uint64_t image_size;
            memcpy(&image_size, hdr + 16, 8);
            if (image_size < fsize)
                image_size = fsize; /* older headers may leave it 0 */
            if (image_size > limit - b->kernel_addr || b->kernel_addr >= limit) {
                close(fd);
                return board_error(err, errlen, "kernel '%s' needs %llu MiB of memory after 0x%llx; the VM has only "
                            "%llu MiB: give it more memory", c->kernel, (unsigned long long)(image_size >> 20) + 1,
                            (unsigned long long)b->kernel_addr, (unsigned long long)(c->ram_size >> 20));
            }
            r = load_range(b, "kernel", c->kernel, fd, 0, fsize, b->kernel_addr, limit, err, errlen);
            b->kernel_end = b->kernel_addr + image_size;
        }
        close(fd);
        if (r < 0)
            return -1;
        if (c->firmware && fw_end > b->kernel_addr)
            return board_error(err, errlen, "firmware '%s' overlaps the kernel at 0x%llx", c->firmware,
                        (unsigned long long)b->kernel_addr);
    } else if (!c->firmware) {
        return board_error(err, errlen, "nothing to boot: give a kernel (--kernel) or a firmware (--firmware FILE)");
    }

    b->initrd_size = 0;
    if (c->initrd) {
        int fd = open_image("initrd", c->initrd, kept_initrd, &fsize, err, errlen);
        if (fd < 0)
            return -1;
        /* Far enough above the kernel that its early allocations do not
         * clobber the initrd, low enough to stay in reach (QEMU's rule). */
        uint64_t start = RAM_BASE + (c->ram_size / 2 < 128 * MIB ? c->ram_size / 2 : 128 * MIB);
        uint64_t after_kernel = ALIGN_UP(b->kernel_end, 2 * MIB);
        if (start < after_kernel)
            start = after_kernel;
        if (start + fsize > limit && limit > fsize && ALIGN_DOWN(limit - fsize, 4096) >= after_kernel)
            start = ALIGN_DOWN(limit - fsize, 4096);
        int r = load_range(b, "initrd", c->initrd, fd, 0, fsize, start, limit, err, errlen);
        close(fd);
        if (r < 0)
            return -1;
        b->initrd_addr = start;
        b->initrd_size = fsize;
    }
    return 0;
}
