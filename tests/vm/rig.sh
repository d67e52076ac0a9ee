#!/bin/bash
# tests/vm/rig.sh: boots Debian's stock kernel under QEMU with a busybox
# initramfs, for the tests that need what a test host's kernel may lack
# (PPP and IPVS). No network at run time: guests talk only to each other,
# over QEMU sockets on 127.0.0.1.
#
#   tests/vm/rig.sh deps            install qemu, busybox, pppd, cpio, kmod,
#                                   ipvsadm, iproute2; download the kernel
#                                   package (root)
#   tests/vm/rig.sh build BIN...    unpack the kernel, build the initramfs
#                                   with busybox, the modules, pppd, ip,
#                                   ipvsadm and BIN...
#   tests/vm/rig.sh one S.sh        boot one guest running S.sh
#   tests/vm/rig.sh pair A.sh B.sh  boot two guests joined by a serial cable
#                                   (ttyS1 <-> ttyS1) and an Ethernet link
#                                   (eth0 <-> eth0); each runs its script;
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

# Modules by name; their dependencies are found with modinfo and loaded
# first. crc32c_generic leads: libcrc32c has only a soft dependency on
# it and fails to load without it. (ip_vs_twos is newer than this kernel.)
MODULES="crc32c_generic ppp_async
 ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_lblc ip_vs_lblcr ip_vs_dh
 ip_vs_sh ip_vs_sed ip_vs_nq ip_vs_fo ip_vs_ovf ip_vs_mh
 veth bridge ipip virtio_net virtio_pci"

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
    [ -x /usr/sbin/ipvsadm ] || need+=(ipvsadm)
    [ -x /usr/bin/ip ] || [ -x /sbin/ip ] || need+=(iproute2)
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

# module NAME: its dependencies (modinfo), then it, once each.
module() {
    local name=${1//-/_} dep
    grep -qx "$name" "$ROOT/modules/order" && return 0
    [ -n "${KO[$name]:-}" ] || { say "no module $name in this kernel"; return 1; }
    for dep in $(modinfo -F depends "${KO[$name]}" | tr ',' ' '); do module "$dep"; done
    cp "${KO[$name]}" "$ROOT/modules/$name.ko"
    echo "$name" >> "$ROOT/modules/order"
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
        case $m in busybox | ip) ;; *) ln -sf busybox "$ROOT/bin/$m" ;; esac
    done
    : > "$ROOT/modules/order"
    declare -gA KO=()
    local f n
    while read -r f; do
        n=$(basename "$f" .ko); KO[${n//-/_}]=$f
    done < <(find "$RIG/kernel/lib/modules/$kv/kernel" -name '*.ko')
    for m in $MODULES; do module "$m"; done
    add /usr/sbin/pppd /usr/sbin
    add /usr/sbin/ipvsadm /usr/sbin
    add "$(command -v ip)" /usr/sbin
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
    # -k: a guest whose peer powered off can hang in a blocking read of
    # the dead socket (QEMU 7.2), deaf to SIGTERM.
    timeout -k 10 "$TIMEOUT" qemu-system-x86_64 -accel tcg -m "$MEM" -smp 1 -nographic \
        -nodefaults -serial mon:stdio "$@" -nic none -no-reboot \
        -kernel "$RIG/vmlinuz" -initrd "$initrd" \
        -append "console=ttyS0 quiet loglevel=3 panic=-1 8250.nr_uarts=4" </dev/null || true
}

rc() { grep -aoE 'RIG-RC=[0-9]+' "$1" | tail -1 | cut -d= -f2 || true; }

pair() {
    local a b port net outa outb ra rb
    a=$(with "$1"); b=$(with "$2")
    # Two UDP chardevs on loopback, each the other's peer: a null-modem
    # cable between the guests' second UARTs.
    port=$(( 20000 + RANDOM % 20000 ))
    net=$((port + 2))
    outa=$WORK/a.out; outb=$WORK/b.out
    # The Ethernet link the same way: two UDP sockets, each the other's peer.
    boot "$a" -chardev "udp,id=cable,host=127.0.0.1,port=$((port + 1)),localaddr=127.0.0.1,localport=$port" \
        -serial chardev:cable \
        -netdev "dgram,id=lan,remote.type=inet,remote.host=127.0.0.1,remote.port=$((net + 1)),local.type=inet,local.host=127.0.0.1,local.port=$net" \
        -device virtio-net-pci,netdev=lan,mac=52:54:00:00:00:0a > "$outa" &
    local pa=$!
    boot "$b" -chardev "udp,id=cable,host=127.0.0.1,port=$port,localaddr=127.0.0.1,localport=$((port + 1))" \
        -serial chardev:cable \
        -netdev "dgram,id=lan,remote.type=inet,remote.host=127.0.0.1,remote.port=$net,local.type=inet,local.host=127.0.0.1,local.port=$((net + 1))" \
        -device virtio-net-pci,netdev=lan,mac=52:54:00:00:00:0b > "$outb" &
    local pb=$!
    wait "$pa" "$pb" || true
    sed 's/^/[A] /' "$outa"
    sed 's/^/[B] /' "$outb"
    ra=$(rc "$outa"); rb=$(rc "$outb")
    say "guest A: ${ra:-no status (crashed or timed out)}, guest B: ${rb:-no status (crashed or timed out)}"
    [ "${ra:-x}" = 0 ] && [ "${rb:-x}" = 0 ]
}

one() {
    local s out r
    s=$(with "$1")
    out=$WORK/one.out
    boot "$s" > "$out"
    cat "$out"
    r=$(rc "$out")
    say "guest: ${r:-no status (crashed or timed out)}"
    [ "${r:-x}" = 0 ]
}

WORK=$(mktemp -d /tmp/tandem-rig.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

case ${1:-} in
    deps) deps ;;
    build) shift; build "$@" ;;
    one) shift; one "$1" ;;
    pair) shift; pair "$1" "$2" ;;
    *) sed -n '2,20p' "$0"; exit 2 ;;
esac
