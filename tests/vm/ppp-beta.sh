#!/bin/sh
# Guest beta: the other end; stays until alpha leaves the cluster.
NODE=beta PEER=alpha
. /ppp-common.sh
wait_for 90 peer_up || { echo "PPP-FAIL: alpha never came up"; show; exit 1; }
# alpha stops gracefully at the end of its test (its goodbye crosses the
# recovered link); until then, keep running.
wait_for 200 grep -q 'node alpha left the cluster' /tmp/tandem.log || { echo "PPP-FAIL: alpha never left"; show; exit 1; }
show
echo "PPP-OK"
