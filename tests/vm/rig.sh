#!/bin/bash
# tests/vm/rig.sh: boots Debian's stock kernel under QEMU with a busybox
# initramfs, for the tests that need what a test host's kernel may lack
# (PPP here; IPVS later). No network at run time: guests talk only to each
# other, over QEMU sockets on 127.0.0.1.
#
#   tests/vm/rig.sh deps            install qemu, busybox, pppd, cpio, kmod;
#                                   download the kernel package (root)
#   tests/vm/rig.sh build BIN...    unpack the kernel, build the initramfs
#                                   with busybox, the modules, pppd and BIN...
#   tests/vm/rig.sh pair A.sh B.sh  boot two guests joined by a serial cable
#                                   (ttyS1 <-> ttyS1); each runs its script;
#                                   exit 0 when both scripts exit 0
#
# A guest prints RIG-RC=<status> when its script ends; the console of both
# guests is printed, prefixed [A] and [B]. KVM is not used: on the hosts
# this runs on, it is absent or broken, and TCG boots in about 5 s.
#
# Environment: RIG (work directory, default target/vm-rig), TIMEOUT
# (seconds per guest, default 240), MEM (default 256M), RIG_FILES
# ("host-path:guest-path ..." added beside each run's script).
set -euo pipefail

RIG=${RIG:-$(cd "$(dirname "$0")/../.." && pwd)/target/vm-rig}
TIMEOUT=${TIMEOUT:-240}
MEM=${MEM:-256M}

# Modules, dependencies first: crc32c_generic before libcrc32c, which has
# only a soft dependency on it and fails to load without it.
MODULES="crypto/crc32c_generic lib/libcrc32c drivers/net/slip/slhc
 drivers/net/ppp/ppp_generic drivers/net/ppp/ppp_async"

say() { echo "rig: $*" >&2; }

kernel_package() {
    apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/ { print $2; exit }'
}

deps() {
    local need=()
    command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
    [ -x /bin/busybox ] || need+=(busybox-static)
    [ -x /usr/sbin/pppd ] || need+=(ppp)
    command -v cpio >/dev/null || need+=(cpio)
    command -v depmod >/dev/null || need+=(kmod)
    if [ "${#need[@]}" -gt 0 ]; then
        say "installing ${need[*]}"
        # Nothing starts on the host: a policy-rc.d that refuses, if none.
        local policy=no
        if [ ! -e /usr/sbin/policy-rc.d ]; then
            printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
            chmod 755 /usr/sbin/policy-rc.d
            policy=yes
        fi
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
        [ "$policy" = no ] || rm -f /usr/sbin/policy-rc.d
    fi
    mkdir -p "$RIG"
    if ! ls "$RIG"/linux-image-*.deb >/dev/null 2>&1; then
        say "downloading $(kernel_package)"
        (cd "$RIG" && apt-get download "$(kernel_package)" >/dev/null 2>&1)
    fi
}

# add BIN DEST: a host binary and the shared libraries it needs. Debug
# information is stripped: a debug build of tandem is ~75 MB, which the
# guest's 256 MB could not unpack alongside the rest.
add() {
    local bin=$1 dest=$2 lib
    install -D -m 755 "$bin" "$ROOT$dest/$(basename "$bin")"
    strip --strip-debug "$ROOT$dest/$(basename "$bin")" 2>/dev/null || true
    for lib in $(ldd "$bin" 2>/dev/null | grep -oE '/[^ ]+\.so[^ ]*'); do
        [ -e "$ROOT$lib" ] || install -D -m 755 "$lib" "$ROOT$lib"
    done
}

build() {
    local deb kv m
    deb=$(ls "$RIG"/linux-image-*.deb | head -1)
    [ -d "$RIG/kernel/boot" ] || dpkg -x "$deb" "$RIG/kernel"
    kv=$(ls "$RIG/kernel/lib/modules" | head -1)
    cp "$RIG/kernel/boot/vmlinuz-$kv" "$RIG/vmlinuz"
    ROOT=$RIG/root
    rm -rf "$ROOT"
    mkdir -p "$ROOT"/{bin,sbin,etc/ppp,proc,sys,dev,tmp,run,var/run,var/lib,modules}
    cp /bin/busybox "$ROOT/bin/busybox"
    for m in $(/bin/busybox --list); do
        [ "$m" = busybox ] || ln -sf busybox "$ROOT/bin/$m"
    done
    : > "$ROOT/modules/order"
    for m in $MODULES; do
        cp "$RIG/kernel/lib/modules/$kv/kernel/$m.ko" "$ROOT/modules/"
        basename "$m" >> "$ROOT/modules/order"
    done
    add /usr/sbin/pppd /usr/sbin
    for b in "$@"; do add "$b" /bin; done
    echo 'root:x:0:0:root:/:/bin/sh' > "$ROOT/etc/passwd"
    echo 'root:x:0:' > "$ROOT/etc/group"
    : > "$ROOT/etc/ppp/options"
    cat > "$ROOT/init" <<'EOF'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
mount -t tmpfs tmp /tmp
mount -t tmpfs run /run
ip link set lo up
for m in $(cat /modules/order); do insmod /modules/$m.ko || echo "rig: insmod $m failed"; done
rc=125
[ -x /test.sh ] && { /bin/sh /test.sh; rc=$?; }
echo "RIG-RC=$rc"
poweroff -f
EOF
    chmod 755 "$ROOT/init"
    (cd "$ROOT" && find . | cpio -o -H newc --quiet | gzip -1) > "$RIG/initrd.gz"
    say "built $RIG/initrd.gz, kernel $kv"
}

# with SCRIPT: the initramfs plus a second archive holding /test.sh (the
# kernel unpacks both), so that a new script needs no rebuild.
with() {
    local dir f; dir=$(mktemp -d -p "$WORK")
    mkdir "$dir/files"
    install -m 755 "$1" "$dir/files/test.sh"
    for f in ${RIG_FILES:-}; do install -D -m 755 "${f%%:*}" "$dir/files/${f#*:}"; done
    (cd "$dir/files" && find . | cpio -o -H newc --quiet | gzip -1) > "$dir/extra.gz"
    cat "$RIG/initrd.gz" "$dir/extra.gz" > "$dir/initrd.gz"
    echo "$dir/initrd.gz"
}

boot() {   # boot INITRD QEMU-ARGS...: console on stdout
    local initrd=$1; shift
    timeout "$TIMEOUT" qemu-system-x86_64 -accel tcg -m "$MEM" -smp 1 -nographic \
        -nodefaults -serial mon:stdio "$@" -nic none -no-reboot \
        -kernel "$RIG/vmlinuz" -initrd "$initrd" \
        -append "console=ttyS0 quiet loglevel=3 panic=-1 8250.nr_uarts=4" </dev/null || true
}

rc() { grep -aoE 'RIG-RC=[0-9]+' "$1" | tail -1 | cut -d= -f2 || true; }

pair() {
    local a b port outa outb ra rb
    a=$(with "$1"); b=$(with "$2")
    # Two UDP chardevs on loopback, each the other's peer: a null-modem
    # cable between the guests' second UARTs.
    port=$(( 20000 + RANDOM % 20000 ))
    outa=$WORK/a.out; outb=$WORK/b.out
    boot "$a" -chardev "udp,id=cable,host=127.0.0.1,port=$((port + 1)),localaddr=127.0.0.1,localport=$port" \
        -serial chardev:cable > "$outa" &
    local pa=$!
    boot "$b" -chardev "udp,id=cable,host=127.0.0.1,port=$port,localaddr=127.0.0.1,localport=$((port + 1))" \
        -serial chardev:cable > "$outb" &
    local pb=$!
    wait "$pa" "$pb" || true
    sed 's/^/[A] /' "$outa"
    sed 's/^/[B] /' "$outb"
    ra=$(rc "$outa"); rb=$(rc "$outb")
    say "guest A: ${ra:-no status (crashed or timed out)}, guest B: ${rb:-no status (crashed or timed out)}"
    [ "${ra:-x}" = 0 ] && [ "${rb:-x}" = 0 ]
}

WORK=$(mktemp -d /tmp/tandem-rig.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

case ${1:-} in
    deps) deps ;;
    build) shift; build "$@" ;;
    pair) shift; pair "$1" "$2" ;;
    *) sed -n '2,20p' "$0"; exit 2 ;;
esac
