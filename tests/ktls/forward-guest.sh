# tests/ktls/forward-guest.sh: the guest's side of tests/ktls/forward.t (run
# by scripts/vm.sh --forward): ktls-server --tls ktls on the guest's network
# device, until the host connects to port 8444; then its counters (JSON).
"$KTLS_BIN/ktls-server" --tls ktls --strict --host 0.0.0.0 --port 8443 --threads 1 -q \
	--cert "$KTLS_BUILD/certs/ecdsa-p256.crt" --key "$KTLS_BUILD/certs/ecdsa-p256.key" --json /tmp/s.json &
s=$!
busybox nc -l -p 8444 >/dev/null
kill -TERM "$s"
wait "$s"
cat /tmp/s.json
