#!/bin/bash
# Build the Vireo default guest (riscv64 Linux kernel Image, uncompressed
# initramfs with a static busybox userspace, ext4 root disk) from Debian
# packages.  Runs as root on a fresh Debian 12 machine; idempotent.
#
# The result is cached under
#   ${VIREO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vireo}/guest/<key>/
# where <key> is the sha256 of every input (this script, the kernel config
# fragment, init, the guest programs, package versions).  The last line of
# stdout is the path of the cache entry; everything else goes to stderr.
#
# Environment:
#   VIREO_CACHE_DIR   cache root (default ~/.cache/vireo)
#   VIREO_JOBS        parallel make jobs (default: nproc)
#   VIREO_FORCE=1     rebuild even if the cache entry exists
set -euo pipefail

exec 3>&1 1>&2          # fd 3 = real stdout, used only for the final path

GUEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCRIPT="$GUEST_DIR/$(basename "${BASH_SOURCE[0]}")"
CACHE_ROOT=${VIREO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vireo}
JOBS=${VIREO_JOBS:-$(nproc)}
CROSS=riscv64-linux-gnu-
ROOTFS_SIZE=64M

# Everything the guest build reads from the repository (part of the cache key).
INPUT_FILES=(build.sh kernel.config init udhcpc.script)
for f in "$GUEST_DIR"/progs/*.c; do INPUT_FILES+=("progs/$(basename "$f")"); done

PACKAGES=(gcc-riscv64-linux-gnu libc6-dev-riscv64-cross linux-source-6.1 opensbi
          bc flex bison libssl-dev libelf-dev cpio e2fsprogs dpkg-dev xz-utils
          make gcc libc6-dev)

export DEBIAN_FRONTEND=noninteractive LC_ALL=C

log() { printf '[guest] %s\n' "$*" >&2; }
die() { printf '[guest] error: %s\n' "$*" >&2; exit 1; }
now() { date +%s; }

is_installed() {
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}
pkg_version() { dpkg-query -W -f='${Version}' "$1"; }

APT_UPDATED=0
apt_update() {
    [ "$APT_UPDATED" = 1 ] && return 0
    log "apt-get update"
    apt-get update -qq >&2
    APT_UPDATED=1
}

need_root() {
    [ "$(id -u)" = 0 ] || die "$1 needs root (run guest/build.sh as root)"
}

# ---------------------------------------------------------------------------
# 1. Packages
# ---------------------------------------------------------------------------
ensure_packages() {
    local missing=() p
    for p in "${PACKAGES[@]}"; do is_installed "$p" || missing+=("$p"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    need_root "installing ${missing[*]}"
    apt_update
    log "apt-get install ${missing[*]}"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# A deb-src entry is needed for `apt-get source busybox`.
have_deb_src() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] && grep -Eq '^[[:space:]]*deb-src[[:space:]]' "$f" && return 0
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] && grep -Eiq '^Types:.*deb-src' "$f" && return 0
    done
    return 1
}

ensure_deb_src() {
    if ! have_deb_src; then
        need_root "adding a deb-src entry"
        local codename uri=http://deb.debian.org/debian
        codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
        # Reuse the mirror of the existing Debian entry if there is one.
        if [ -f /etc/apt/sources.list.d/debian.sources ]; then
            uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
            [ -n "$uri" ] || uri=http://deb.debian.org/debian
        fi
        log "adding deb-src entry for $codename main ($uri)"
        cat > /etc/apt/sources.list.d/vireo-deb-src.sources <<EOF
# Added by vireo guest/build.sh: source packages (apt-get source busybox)
Types: deb-src
URIs: $uri
Suites: $codename
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
        # An update made earlier in this run (for the packages) predates the
        # new entry and fetched no source index: update again.
        APT_UPDATED=0
        apt_update
    fi
    if [ -z "$(busybox_src_version)" ]; then
        need_root "apt-get update"
        APT_UPDATED=0
        apt_update
        [ -n "$(busybox_src_version)" ] || die "no busybox source package found (deb-src missing?)"
    fi
}

# Newest busybox source version apt knows about.
busybox_src_version() {
    apt-cache showsrc --only-source busybox 2>/dev/null |
        awk '/^Version:/ {print $2}' | sort -V | tail -n 1
}

# ---------------------------------------------------------------------------
# 2. Cache key
# ---------------------------------------------------------------------------
compute_key() {
    local f
    {
        for f in "${INPUT_FILES[@]}"; do
            [ -f "$GUEST_DIR/$f" ] || die "missing input guest/$f"
            printf 'file %s %s\n' "$f" "$(sha256sum < "$GUEST_DIR/$f" | cut -d' ' -f1)"
        done
        printf 'pkg linux-source-6.1 %s\n' "$KVER_PKG"
        printf 'src busybox %s\n' "$BB_VER"
        printf 'pkg gcc-riscv64-linux-gnu %s\n' "$GCC_VER"
        printf 'pkg libc6-dev-riscv64-cross %s\n' "$LIBC_VER"
    } | sha256sum | cut -d' ' -f1
}

entry_complete() {
    local d=$1 f
    for f in Image initramfs.cpio rootfs.ext4 manifest.txt; do
        [ -s "$d/$f" ] || return 1
    done
}

set_current() {
    local tmp="$CACHE_ROOT/guest/.current.$$"
    ln -sfn "$KEY" "$tmp"
    mv -T "$tmp" "$CACHE_ROOT/guest/current"
}

# ---------------------------------------------------------------------------
# 3. Kernel
# ---------------------------------------------------------------------------
build_kernel() {
    local kw="$WORK/linux-${KVER_PKG//:/_}" t0
    local ksrc="$kw/src" kobj="$kw/build"
    t0=$(now)
    if [ ! -f "$ksrc/.vireo-extracted" ]; then
        log "extracting /usr/src/linux-source-6.1.tar.xz"
        rm -rf "$ksrc" "$kw/src.tmp"
        mkdir -p "$kw/src.tmp"
        tar -xJf /usr/src/linux-source-6.1.tar.xz -C "$kw/src.tmp" --strip-components=1
        touch "$kw/src.tmp/.vireo-extracted"
        mv -T "$kw/src.tmp" "$ksrc"
    fi
    mkdir -p "$kobj"
    local kmake=(make -C "$ksrc" O="$kobj" ARCH=riscv CROSS_COMPILE="$CROSS"
                 KBUILD_BUILD_USER=vireo KBUILD_BUILD_HOST=vireo KBUILD_BUILD_VERSION=1
                 KBUILD_BUILD_TIMESTAMP="$(date -u -d "@$SOURCE_DATE_EPOCH")")
    log "kernel: allnoconfig + guest/kernel.config"
    "${kmake[@]}" -s allnoconfig KCONFIG_ALLCONFIG="$GUEST_DIR/kernel.config" >&2

    # Kconfig silently drops options whose dependencies are missing.
    local dropped=() line sym
    while IFS= read -r line; do
        case $line in
        CONFIG_*=*)
            grep -qxF -- "$line" "$kobj/.config" || dropped+=("$line (got: $(grep -E "^(# )?${line%%=*}[= ]" "$kobj/.config" || echo unset))")
            ;;
        "# CONFIG_"*" is not set")
            sym=${line#\# }; sym=${sym%% *}
            if grep -Eq "^$sym=[ym]" "$kobj/.config"; then dropped+=("$line (got: $(grep -E "^$sym=" "$kobj/.config"))"); fi
            ;;
        esac
    done < "$GUEST_DIR/kernel.config"
    if [ ${#dropped[@]} -gt 0 ]; then
        printf '[guest] kernel config: options not honoured by Kconfig:\n' >&2
        printf '  %s\n' "${dropped[@]}" >&2
        die "fix guest/kernel.config (missing dependencies?)"
    fi

    log "kernel: make -j$JOBS Image (several minutes the first time)"
    "${kmake[@]}" -j"$JOBS" Image >"$kw/build.log" 2>&1 || {
        tail -n 40 "$kw/build.log" >&2; die "kernel build failed (log: $kw/build.log)"; }
    cp "$kobj/arch/riscv/boot/Image" "$OUT/Image"
    cp "$kobj/.config" "$OUT/kernel.config.full"
    # RISC-V Image header: magic "RSC\x05" at offset 0x38.
    [ "$(dd if="$OUT/Image" bs=1 skip=56 count=4 2>/dev/null | od -An -c | tr -d ' ')" = 'RSC005' ] ||
        die "kernel Image has no RISC-V header magic"
    log "kernel: done in $(( $(now) - t0 ))s"
    GEN_INIT_CPIO_SRC="$ksrc/usr/gen_init_cpio.c"
}

# ---------------------------------------------------------------------------
# 4. Busybox (Debian source package)
# ---------------------------------------------------------------------------
build_busybox() {
    # (no ':' from the epoch in paths: make cannot handle it)
    local bw="$WORK/busybox-${BB_VER//:/_}" t0 srcdir
    t0=$(now)
    mkdir -p "$bw"
    if [ ! -f "$bw/.vireo-fetched" ]; then
        log "busybox: apt-get source busybox=$BB_VER"
        rm -rf "$bw/dl"; mkdir -p "$bw/dl"
        # Unpack as the invoking user; apt may warn about unsandboxed downloads.
        (cd "$bw/dl" && apt-get source -qq "busybox=$BB_VER" >&2) || die "apt-get source busybox failed"
        touch "$bw/.vireo-fetched"
    fi
    srcdir=$(find "$bw/dl" -mindepth 1 -maxdepth 1 -type d -name 'busybox-*' | head -n 1)
    [ -n "$srcdir" ] && [ -f "$srcdir/Makefile" ] || die "busybox source tree not found in $bw/dl"
    local bobj="$bw/build"
    mkdir -p "$bobj"
    local bmake=(make -C "$srcdir" O="$bobj" CROSS_COMPILE="$CROSS")
    if [ ! -f "$bobj/.config" ] || [ "$GUEST_DIR/build.sh" -nt "$bobj/.config" ] ||
       ! grep -qx 'CONFIG_STATIC=y' "$bobj/.config"; then
        log "busybox: defconfig + static"
        "${bmake[@]}" -s defconfig >"$bw/config.log" 2>&1 || {
            cat "$bw/config.log" >&2; die "busybox defconfig failed"; }
        busybox_config "$bobj/.config"
        "${bmake[@]}" -s oldconfig </dev/null >>"$bw/config.log" 2>&1 || {
            cat "$bw/config.log" >&2; die "busybox oldconfig failed"; }
        grep -qx 'CONFIG_STATIC=y' "$bobj/.config" || die "busybox: CONFIG_STATIC did not stick"
    fi
    log "busybox: make -j$JOBS"
    "${bmake[@]}" -j"$JOBS" busybox busybox.links >"$bw/build.log" 2>&1 || {
        tail -n 40 "$bw/build.log" >&2; die "busybox build failed (log: $bw/build.log)"; }
    BUSYBOX_BIN="$bobj/busybox"
    BUSYBOX_LINKS="$bobj/busybox.links"
    [ -f "$BUSYBOX_LINKS" ] || BUSYBOX_LINKS="$srcdir/busybox.links"
    [ -f "$BUSYBOX_LINKS" ] || die "busybox.links not generated"
    log "busybox: done in $(( $(now) - t0 ))s"
}

# Set busybox options: y/n/"string".
bb_set() {
    local cfg=$1 sym=$2 val=$3
    sed -i -e "/^CONFIG_$sym=/d" -e "/^# CONFIG_$sym is not set/d" "$cfg"
    if [ "$val" = n ]; then
        echo "# CONFIG_$sym is not set" >> "$cfg"
    else
        echo "CONFIG_$sym=$val" >> "$cfg"
    fi
}

busybox_config() {
    local cfg=$1
    bb_set "$cfg" STATIC y
    bb_set "$cfg" CROSS_COMPILER_PREFIX "\"$CROSS\""
    bb_set "$cfg" EXTRA_CFLAGS '""'
    bb_set "$cfg" PIE n
    bb_set "$cfg" FEATURE_SH_STANDALONE n
    bb_set "$cfg" FEATURE_PREFER_APPLETS n
    # Not wanted in the guest / trouble when linked statically with glibc.
    bb_set "$cfg" PAM n
    bb_set "$cfg" SELINUX n
    bb_set "$cfg" FEATURE_INETD_RPC n
    bb_set "$cfg" FEATURE_MOUNT_NFS n
    bb_set "$cfg" FEATURE_HAVE_RPC n
    bb_set "$cfg" TC n
    bb_set "$cfg" LINUXRC n
}

# ---------------------------------------------------------------------------
# 5. Guest programs
# ---------------------------------------------------------------------------
build_progs() {
    local f name
    mkdir -p "$STAGE/usr/bin"
    for f in "$GUEST_DIR"/progs/*.c; do
        name=$(basename "$f" .c)
        log "progs: $name"
        "${CROSS}gcc" -O2 -static -pthread -ffp-contract=off -Wall -o "$STAGE/usr/bin/$name" "$f" -lm
        "${CROSS}strip" "$STAGE/usr/bin/$name"
    done
}

# ---------------------------------------------------------------------------
# 6. Root filesystem staging tree
# ---------------------------------------------------------------------------
stage_rootfs() {
    local d link rel depth target i
    for d in bin sbin usr/bin usr/sbin usr/share/udhcpc etc dev proc sys tmp run \
             root mnt newroot var var/log home; do
        mkdir -p "$STAGE/$d"
    done
    chmod 1777 "$STAGE/tmp"
    chmod 0700 "$STAGE/root"
    ln -sfn ../run "$STAGE/var/run"
    ln -sfn ../tmp "$STAGE/var/tmp"
    install -m 0755 "$BUSYBOX_BIN" "$STAGE/bin/busybox"
    # Applet links (relative, like `make install`), from busybox.links.
    while IFS= read -r link; do
        link=${link#/}
        [ -n "$link" ] || continue
        [ "$link" = bin/busybox ] && continue
        [ -e "$STAGE/$link" ] || [ -L "$STAGE/$link" ] && continue
        depth=$(awk -F/ '{print NF-1}' <<<"$link")
        target=""
        for ((i = 0; i < depth; i++)); do target+="../"; done
        mkdir -p "$STAGE/$(dirname "$link")"
        ln -s "${target}bin/busybox" "$STAGE/$link"
    done < "$BUSYBOX_LINKS"
    install -m 0755 "$GUEST_DIR/init" "$STAGE/init"
    install -m 0755 "$GUEST_DIR/udhcpc.script" "$STAGE/usr/share/udhcpc/default.script"

    cat > "$STAGE/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
    cat > "$STAGE/etc/shadow" <<'EOF'
root::0:0:99999:7:::
daemon:*:0:0:99999:7:::
nobody:*:0:0:99999:7:::
EOF
    chmod 0600 "$STAGE/etc/shadow"
    cat > "$STAGE/etc/group" <<'EOF'
root:x:0:
daemon:x:1:
tty:x:5:
nogroup:x:65534:
EOF
    echo vireo > "$STAGE/etc/hostname"
    cat > "$STAGE/etc/hosts" <<'EOF'
127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
EOF
    cat > "$STAGE/etc/profile" <<'EOF'
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root
export PS1='\h:\w\$ '
EOF
    printf 'hosts: files dns\n' > "$STAGE/etc/nsswitch.conf"
    # Written at run time (init / udhcpc) into the /run tmpfs, so a disk root
    # is not modified by it.
    ln -s ../run/resolv.conf "$STAGE/etc/resolv.conf"
    : > "$STAGE/etc/fstab"
    echo "vireo guest ($KEY)" > "$STAGE/etc/vireo-release"
    if [ "$(id -u)" = 0 ]; then
        mknod -m 0600 "$STAGE/dev/console" c 5 1
        mknod -m 0666 "$STAGE/dev/null" c 1 3
    fi
}

# ---------------------------------------------------------------------------
# 7. initramfs (uncompressed newc cpio, via the kernel's gen_init_cpio)
# ---------------------------------------------------------------------------
# Fixed timestamps in the images (reproducible cpio / ext4 contents).
normalize_mtimes() {
    find "$STAGE" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
}

make_initramfs() {
    local gen="$WORK/gen_init_cpio" list="$TMP/initramfs.list" type mode p target
    normalize_mtimes
    gcc -O2 -o "$gen" "$GEN_INIT_CPIO_SRC"
    # Marker: this root is the initramfs (switch_root to vireo.root= from here).
    mkdir -p "$TMP/initramfs-extra"
    : > "$TMP/initramfs-extra/vireo-initramfs"
    touch -d "@$SOURCE_DATE_EPOCH" "$TMP/initramfs-extra/vireo-initramfs"
    {
        # (names in the tree have no white space)
        (cd "$STAGE" && find . -mindepth 1 -printf '%P %y %m %l\n' | LC_ALL=C sort) |
        while read -r p type mode target; do
            case $type in
            l) printf 'slink /%s %s 0777 0 0\n' "$p" "$target" ;;
            d) printf 'dir /%s %s 0 0\n' "$p" "$mode" ;;
            f) printf 'file /%s %s %s 0 0\n' "$p" "$STAGE/$p" "$mode" ;;
            esac    # device nodes are listed explicitly below
        done
        echo "nod /dev/console 0600 0 0 c 5 1"
        echo "nod /dev/null 0666 0 0 c 1 3"
        echo "file /etc/vireo-initramfs $TMP/initramfs-extra/vireo-initramfs 0644 0 0"
    } > "$list"
    "$gen" -t "$SOURCE_DATE_EPOCH" "$list" > "$OUT/initramfs.cpio"
}

# ---------------------------------------------------------------------------
# 8. ext4 root disk
# ---------------------------------------------------------------------------
make_rootfs_ext4() {
    # On the disk, /sbin/init is the same script so the kernel can also boot
    # it directly with root=/dev/vda (no initramfs).
    rm -f "$STAGE/sbin/init"
    ln -s ../init "$STAGE/sbin/init"
    mkdir -p "$STAGE/lost+found"
    normalize_mtimes
    rm -f "$OUT/rootfs.ext4"
    truncate -s "$ROOTFS_SIZE" "$OUT/rootfs.ext4"
    E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH mkfs.ext4 -q -F -L vireo-root \
        -U 5669726f-0000-4000-8000-6775657374ff \
        -E root_owner=0:0,hash_seed=5669726f-0000-4000-8000-686173680000 \
        -d "$STAGE" "$OUT/rootfs.ext4" >&2
}

# ---------------------------------------------------------------------------
# 9. Manifest
# ---------------------------------------------------------------------------
write_manifest() {
    local f
    {
        echo "# Vireo default guest"
        echo "key $KEY"
        echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ)"
        echo "arch riscv64"
        echo
        echo "# file size sha256"
        for f in Image initramfs.cpio rootfs.ext4 kernel.config.full; do
            printf '%s %s %s\n' "$f" "$(stat -c %s "$OUT/$f")" "$(sha256sum < "$OUT/$f" | cut -d' ' -f1)"
        done
        echo
        echo "# packages"
        echo "linux-source-6.1 $KVER_PKG"
        echo "busybox(source) $BB_VER"
        echo "gcc-riscv64-linux-gnu $GCC_VER"
        echo "libc6-dev-riscv64-cross $LIBC_VER"
        echo "opensbi $(pkg_version opensbi) (/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin, not copied)"
        echo
        echo "# inputs"
        for f in "${INPUT_FILES[@]}"; do
            printf 'guest/%s %s\n' "$f" "$(sha256sum < "$GUEST_DIR/$f" | cut -d' ' -f1)"
        done
    } > "$OUT/manifest.txt"
}

# ---------------------------------------------------------------------------
main() {
    local t_start
    t_start=$(now)
    ensure_packages
    ensure_deb_src
    KVER_PKG=$(pkg_version linux-source-6.1)
    GCC_VER=$(pkg_version gcc-riscv64-linux-gnu)
    LIBC_VER=$(pkg_version libc6-dev-riscv64-cross)
    BB_VER=$(busybox_src_version)
    KEY=$(compute_key)
    local entry="$CACHE_ROOT/guest/$KEY"
    mkdir -p "$CACHE_ROOT/guest" "$CACHE_ROOT/work"

    if [ "${VIREO_FORCE:-0}" != 1 ] && entry_complete "$entry"; then
        log "cache hit: $entry"
        set_current
        echo "$entry" >&3
        return 0
    fi

    # One build at a time per cache dir; re-check after getting the lock.
    exec 9>"$CACHE_ROOT/guest/.lock"
    flock 9
    if [ "${VIREO_FORCE:-0}" != 1 ] && entry_complete "$entry"; then
        log "cache hit (built concurrently): $entry"
        set_current
        echo "$entry" >&3
        return 0
    fi

    # Left-overs of interrupted builds (we hold the lock: nobody else builds).
    rm -rf "$CACHE_ROOT"/guest/.tmp-* "$CACHE_ROOT"/guest/.old-*
    log "building guest $KEY"
    log "  linux-source-6.1 $KVER_PKG, busybox $BB_VER, gcc-riscv64-linux-gnu $GCC_VER"
    WORK="$CACHE_ROOT/work"
    TMP=$(mktemp -d "$CACHE_ROOT/guest/.tmp-$KEY.XXXXXX")
    trap 'rm -rf "$TMP"' EXIT
    OUT="$TMP/out"
    STAGE="$TMP/rootfs"
    mkdir -p "$OUT" "$STAGE"
    # Fixed timestamps for the cpio and ext4 metadata.
    export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000}

    build_kernel
    build_busybox
    build_progs
    stage_rootfs
    make_initramfs
    make_rootfs_ext4
    write_manifest

    # Publish atomically.
    if [ -e "$entry" ]; then
        mv -T "$entry" "$CACHE_ROOT/guest/.old-$KEY.$$"
        rm -rf "$CACHE_ROOT/guest/.old-$KEY.$$"
    fi
    mv -T "$OUT" "$entry"
    set_current
    rm -rf "$TMP"
    trap - EXIT
    log "done in $(( $(now) - t_start ))s: $entry"
    ls -l "$entry" >&2
    echo "$entry" >&3
}

main "$@"; exit $?
