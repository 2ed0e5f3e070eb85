#!/bin/bash
# scripts/nginx-peer.sh: a private nginx to compare ktls-server with.
#
#   scripts/nginx-peer.sh start [OPTIONS]   start it; prints "DIR PID PORT"
#   scripts/nginx-peer.sh stop DIR          stop it and remove DIR
#
# One worker process pinned to one CPU, our certificate, cipher and group, on
# loopback, serving the same routes as ktls-server: /bytes/<N> (files holding
# the documented pattern, made for the sizes asked) and /file/<name> (from
# --docroot). Its configuration, pid file, logs and temp dirs live in a
# private temp DIR: the system nginx and its configuration are never touched.
#
# Options of start (defaults in brackets):
#   --port N           TCP port on 127.0.0.1 [8444]
#   --cpu N            pin the worker to this CPU [0]
#   --cert F --key F   certificate and key [build/certs/ecdsa-p256.{crt,key}]
#   --tls-version V    1.2, 1.3 or any [1.3]
#   --ciphersuites S   TLS 1.3 suites [TLS_AES_128_GCM_SHA256]
#   --ciphers S        TLS 1.2 ciphers [ECDHE-ECDSA-AES128-GCM-SHA256]
#   --groups G         key exchange groups [X25519]
#   --tickets on|off   session tickets and the session cache [off]
#   --ktls             nginx's own kTLS (ssl_conf_command Options KTLS) [off]
#   --bytes LIST       sizes N to serve as /bytes/N, comma-separated [1,1048576]
#   --docroot DIR      what /file/ serves [none]
set -euo pipefail

die() { echo "nginx-peer: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

cmd=${1:-}
[[ -n $cmd ]] || { usage >&2; exit 2; }
shift

if [[ $cmd == stop ]]; then
	dir=${1:?usage: nginx-peer.sh stop DIR}
	[[ -f $dir/nginx.conf && -f $dir/.nginx-peer ]] || die "$dir is not a directory made by nginx-peer.sh start"
	if [[ -s $dir/nginx.pid ]]; then
		pid=$(<"$dir/nginx.pid")
		kill -QUIT "$pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -rf "$dir"
	exit 0
fi
[[ $cmd == start ]] || { [[ $cmd == -h || $cmd == --help ]] && { usage; exit 0; }; usage >&2; exit 2; }

repo=$(cd "$(dirname "$0")/.." && pwd)
port=8444 cpu=0 cert=$repo/build/certs/ecdsa-p256.crt key=$repo/build/certs/ecdsa-p256.key
version=1.3 suites=TLS_AES_128_GCM_SHA256 ciphers=ECDHE-ECDSA-AES128-GCM-SHA256 groups=X25519
tickets=off ktls=off sizes=1,1048576 docroot=
while (($#)); do
	case $1 in
	--port) port=$2; shift ;;
	--cpu) cpu=$2; shift ;;
	--cert) cert=$(realpath "$2"); shift ;;
	--key) key=$(realpath "$2"); shift ;;
	--tls-version) version=$2; shift ;;
	--ciphersuites) suites=$2; shift ;;
	--ciphers) ciphers=$2; shift ;;
	--groups) groups=$2; shift ;;
	--tickets) tickets=$2; shift ;;
	--ktls) ktls=on ;;
	--bytes) sizes=$2; shift ;;
	--docroot) docroot=$(realpath "$2"); shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "nginx-peer: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done
[[ $port =~ ^[0-9]+$ && $cpu =~ ^[0-9]+$ ]] || { echo "nginx-peer: --port and --cpu take numbers" >&2; exit 2; }
case $version in 1.2) protos=TLSv1.2 ;; 1.3) protos=TLSv1.3 ;; any) protos="TLSv1.2 TLSv1.3" ;;
*) echo "nginx-peer: --tls-version: 1.2, 1.3 or any" >&2; exit 2 ;; esac
case $tickets in on | off) ;; *) echo "nginx-peer: --tickets on|off" >&2; exit 2 ;; esac
nginx=$(type -P nginx || echo /usr/sbin/nginx)
[[ -x $nginx ]] || die "nginx is not installed: apt-get install nginx-light (or nginx)"
[[ -r $cert && -r $key ]] || die "certificate or key not readable ($cert, $key): run 'make certs'"

dir=$(mktemp -d "${TMPDIR:-/tmp}/nginx-peer.XXXXXX")
touch "$dir/.nginx-peer"
mkdir -p "$dir/www/bytes" "$dir/tmp"
IFS=, read -ra list <<<"$sizes"
for n in "${list[@]}"; do
	[[ $n =~ ^[0-9]+$ ]] || die "--bytes: '$n' is not a size in bytes"
	# (yes ends on SIGPIPE: not an error here)
	{ yes 0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxy || :; } | tr -d '\n' |
		head -c "$n" >"$dir/www/bytes/$n" || :
done
# CPU mask for worker_cpu_affinity: bit $cpu set
mask=1
for ((i = 0; i < cpu; i++)); do mask="${mask}0"; done
if [[ $tickets == on ]]; then
	sess="ssl_session_tickets on; ssl_session_cache shared:peer:10m;"
else
	sess="ssl_session_tickets off; ssl_session_cache off;"
fi
ktls_line=
[[ $ktls == on ]] && ktls_line="ssl_conf_command Options KTLS;"
file_loc=
[[ -n $docroot ]] && file_loc="location /file/ { alias $docroot/; default_type application/octet-stream; }"

cat >"$dir/nginx.conf" <<EOF
# written by scripts/nginx-peer.sh
user $(id -un);
worker_processes 1;
worker_cpu_affinity $mask;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 8192; }
http {
	access_log off;
	client_body_temp_path $dir/tmp/body;
	proxy_temp_path $dir/tmp/proxy;
	fastcgi_temp_path $dir/tmp/fastcgi;
	uwsgi_temp_path $dir/tmp/uwsgi;
	scgi_temp_path $dir/tmp/scgi;
	sendfile on;
	tcp_nopush on;
	tcp_nodelay on;
	keepalive_requests 1000000;
	keepalive_timeout 60s;
	server {
		listen 127.0.0.1:$port ssl;
		ssl_certificate $cert;
		ssl_certificate_key $key;
		ssl_protocols $protos;
		ssl_ciphers $ciphers;
		ssl_conf_command Ciphersuites $suites;
		ssl_ecdh_curve $groups;
		$sess
		$ktls_line
		root $dir/www;
		location /bytes/ { default_type application/octet-stream; }
		$file_loc
	}
}
EOF
if ! out=$("$nginx" -t -q -c "$dir/nginx.conf" -e "$dir/error.log" 2>&1); then
	rm -rf "$dir"
	die "configuration rejected: $out"
fi
if ! out=$("$nginx" -c "$dir/nginx.conf" -e "$dir/error.log" 2>&1); then
	rm -rf "$dir"
	die "nginx did not start: $out (is port $port in use? pick another --port)"
fi
for _ in $(seq 50); do [[ -s $dir/nginx.pid ]] && break; sleep 0.1; done
[[ -s $dir/nginx.pid ]] || die "nginx started but wrote no pid file ($dir/error.log)"
echo "$dir $(<"$dir/nginx.pid") $port"
