/* bench/nginx.c: a private nginx as the peer server (--peer nginx).
 *
 * One process (master_process off, one worker's work in it), pinned to the
 * server CPU like ktls-server, on a port of --listen (loopback by default), with the scenario's
 * certificate, version, cipher and group. Its prefix, config, pid file, logs
 * and temp folders all live in the run's private temp folder: the system
 * nginx and its configuration are never touched. The bodies of /bytes/N are
 * files holding the same documented pattern ktls-server generates, so the
 * client verifies nginx's responses the same way.
 */
#include "bench/runner.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/proc.h"

int nginx_write_conf(struct runner *R, const struct scenario *sc, int port, const char *prefix,
		      char *err, size_t errlen)
{
	char path[700], conf[4096];
	bool ktls = strcmp(sc->layer, "ktls") == 0;
	bool resume = sc->kind != SCEN_HANDSHAKE || sc->resume;
	const char *addr = R->listen[0] ? R->listen : "127.0.0.1"; /* --listen */
	bool v6 = strchr(addr, ':') != NULL;
	char groups[32];
	int n;

	n = snprintf(conf, sizeof conf,
		"# written by ktls-bench for scenario %s\n"
		"daemon off;\n"
		"master_process off;\n"
		"worker_processes 1;\n"
		"pid %s/nginx.pid;\n"
		"error_log %s/error.log warn;\n"
		"events { worker_connections 4096; }\n"
		"http {\n"
		"  access_log off;\n"
		"  client_body_temp_path %s/tmp/body;\n"
		"  proxy_temp_path %s/tmp/proxy;\n"
		"  fastcgi_temp_path %s/tmp/fastcgi;\n"
		"  uwsgi_temp_path %s/tmp/uwsgi;\n"
		"  scgi_temp_path %s/tmp/scgi;\n"
		"  default_type application/octet-stream;\n"
		"  keepalive_requests 10000000;\n"
		"  keepalive_timeout 75s;\n"
		"  sendfile %s;\n"
		"  server {\n"
		"    listen %s%s%s:%d ssl;\n"
		"    ssl_certificate %s/%s.crt;\n"
		"    ssl_certificate_key %s/%s.key;\n"
		"    ssl_protocols %s;\n"
		"    ssl_ciphers %s;\n"
		"    ssl_conf_command Ciphersuites %s;\n"
		"    ssl_ecdh_curve %s;\n"
		"    ssl_session_tickets %s;\n"
		"    ssl_session_cache %s;\n"
		"%s"
		"    root %s/www;\n"
		"    location = / { return 200 \"ok\\n\"; }\n"
		"    location /bytes/ { }\n"
		"    location /file/ { }\n"
		"  }\n"
		"}\n",
		sc->id, prefix, prefix, prefix, prefix, prefix, prefix, prefix,
		ktls ? "on" : "off", v6 ? "[" : "", addr, v6 ? "]" : "", port, R->certs, sc->cert, R->certs, sc->cert,
		sc->tls == 12 ? "TLSv1.2" : "TLSv1.3", scenario_cipher12(sc),
		scenario_ciphersuite(sc), scenario_groups(sc, groups, sizeof groups), resume ? "on" : "off",
		resume ? "shared:ktlsbench:4m" : "off",
		ktls ? "    ssl_conf_command Options KTLS;\n" : "", R->tmp);
	if (n < 0 || (size_t)n >= sizeof conf) {
		snprintf(err, errlen, "nginx.conf too long");
		return -ENOSPC;
	}
	snprintf(path, sizeof path, "%s/tmp", prefix);
	int rc = util_mkdir_p(path);
	if (rc == 0) {
		snprintf(path, sizeof path, "%s/nginx.conf", prefix);
		rc = util_write_file(path, conf, (size_t)n);
	}
	if (rc)
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(-rc));
	return rc;
}

int nginx_start(struct runner *R, const struct scenario *sc, int port, pid_t *pid,
		char *err, size_t errlen)
{
	char prefix[400], conf[500], log[1100];
	int rc;

	snprintf(prefix, sizeof prefix, "%s/nginx", R->tmp);
	rc = nginx_write_conf(R, sc, port, prefix, err, errlen);
	if (rc)
		return rc;
	snprintf(conf, sizeof conf, "%s/nginx.conf", prefix);
	snprintf(log, sizeof log, "%s/%s.nginx.server.log", R->out, sc->id);
	/* -e: the error log from the start, before the config is read */
	char *argv[] = { "nginx", "-p", prefix, "-c", conf, "-e", "stderr", NULL };
	rc = proc_spawn(argv, R->cpu_server, log, pid);
	if (rc)
		snprintf(err, errlen, "cannot start nginx: %s (apt-get install nginx, or run without --peer nginx)",
			 strerror(-rc));
	return rc;
}

void nginx_version(char *buf, size_t len)
{
	char *argv[] = { "sh", "-c", "nginx -v 2>&1", NULL };
	char *out = NULL;
	int st;
	buf[0] = 0;
	if (proc_capture(argv, -1, 10, &out, &st) == 0) {
		out[strcspn(out, "\n")] = 0;
		snprintf(buf, len, "%s", out);
		free(out);
	}
}
