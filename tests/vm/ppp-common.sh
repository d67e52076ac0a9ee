# Sourced by the ppp guest scripts: NODE and PEER are set. Writes this
# node's /etc/ha.d with one link, a ppp medium on the serial cable, and
# starts tandem.
mkdir -p /etc/ha.d/resource.d /var/lib/tandem /run/tandem
cat > /etc/ha.d/ha.cf <<CF
keepalive 250ms
warntime 1
deadtime 4
initdead 30
baud 115200
ppp /dev/ttyS1 alpha=192.0.2.1 beta=192.0.2.2
node alpha
node beta
auto_failback on
realtime off
on_stop_failure block
CF
: > /etc/ha.d/haresources
printf 'auth 1\n1 sha256 vm-ppp-test-key\n' > /etc/ha.d/authkeys
chmod 600 /etc/ha.d/authkeys
tandem run --node "$NODE" > /tmp/tandem.log 2>&1 &

# wait_for SECONDS COMMAND...: until COMMAND succeeds.
wait_for() {
    local n=$(( $1 * 5 )); shift
    while [ $n -gt 0 ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.2; n=$((n - 1))
    done
    return 1
}
peer_up() { [ "$(tandem cl-status nodestatus $PEER 2>/dev/null)" = active ]; }
link_up() { [ "$(tandem cl-status hblinkstatus $PEER /dev/ttyS1 2>/dev/null)" = up ]; }
ppp_up() { ip -4 addr show | grep -q "inet $1 peer"; }
# Frames this node received so far (from `tandem status`).
received() { tandem status | sed -n 's/.*received \([0-9]*\).*/\1/p'; }
# Frames keep arriving: the count grows within two seconds.
flowing() { a=$(received); sleep 2; b=$(received); [ "${b:-0}" -gt "${a:-0}" ]; }
show() { echo "---- $NODE: tandem.log"; cat /tmp/tandem.log; echo "---- pppd"; cat /run/tandem/pppd-dev-ttyS1.log 2>/dev/null | tail -20; ip -4 addr show; }
