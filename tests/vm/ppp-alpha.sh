#!/bin/sh
# Guest alpha: the ppp link comes up under tandem and carries keepalives;
# pppd killed -> tandem restarts it and the link recovers.
NODE=alpha PEER=beta
. /ppp-common.sh
wait_for 90 peer_up || { echo "PPP-FAIL: beta never came up"; show; exit 1; }
ppp_up 192.0.2.1 || { echo "PPP-FAIL: no ppp interface"; show; exit 1; }
flowing || { echo "PPP-FAIL: no keepalives over ppp"; show; exit 1; }
echo "PPP-UP: keepalives over ppp"
killall pppd
wait_for 30 grep -q 'pppd exited' /tmp/tandem.log || { echo "PPP-FAIL: pppd exit not seen"; show; exit 1; }
n=0; while [ $n -lt 300 ] && [ "$(grep -c 'pppd started' /tmp/tandem.log)" -lt 2 ]; do sleep 0.2; n=$((n + 1)); done
[ "$(grep -c 'pppd started' /tmp/tandem.log)" -ge 2 ] || { echo "PPP-FAIL: pppd not restarted"; show; exit 1; }
echo "PPP-RESTARTED"
# The new pppd brings the interface back, and keepalives flow again.
wait_for 90 ppp_up 192.0.2.1 || { echo "PPP-FAIL: ppp interface not back"; show; exit 1; }
wait_for 30 flowing || { echo "PPP-FAIL: keepalives did not resume"; show; exit 1; }
wait_for 30 link_up || { echo "PPP-FAIL: link not up"; show; exit 1; }
wait_for 30 peer_up || { echo "PPP-FAIL: beta lost"; show; exit 1; }
echo "PPP-RECOVERED"
tandem stop
wait_for 20 sh -c '! pidof tandem'
show
echo "PPP-OK"
