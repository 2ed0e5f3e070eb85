/* ktls/sockops.c: the one layer through which libktls touches a connection's
 * socket. Tests replace it (ktls_set_sockops) to observe what would be
 * installed and to emulate a kTLS kernel on hosts without one.
 */
#include "ktls/internal.h"

#include <errno.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>

static const struct ktls_sockops *ops;
static void *ops_arg;

void ktls_set_sockops(const struct ktls_sockops *o, void *arg)
{
	ops = o;
	ops_arg = arg;
}

int ktls_sys_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	if (ops && ops->setsockopt)
		return ops->setsockopt(ops_arg, fd, level, name, val, len);
	return setsockopt(fd, level, name, val, len) ? -errno : 0;
}

int ktls_sys_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	if (ops && ops->getsockopt)
		return ops->getsockopt(ops_arg, fd, level, name, val, len);
	return getsockopt(fd, level, name, val, len) ? -errno : 0;
}

ssize_t ktls_sys_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	ssize_t n;

	if (ops && ops->sendmsg)
		return ops->sendmsg(ops_arg, fd, msg, flags);
	n = sendmsg(fd, msg, flags | MSG_NOSIGNAL);
	return n < 0 ? -errno : n;
}

ssize_t ktls_sys_recvmsg(int fd, struct msghdr *msg, int flags)
{
	ssize_t n;

	if (ops && ops->recvmsg)
		return ops->recvmsg(ops_arg, fd, msg, flags);
	n = recvmsg(fd, msg, flags);
	return n < 0 ? -errno : n;
}

int ktls_sys_rekey_supported(void)
{
	if (ops && ops->rekey_supported)
		return ops->rekey_supported(ops_arg);
	return ktls_probe_rekey_cached();
}

int ktls_sys_inq(int fd)
{
	int n = 0;

	if (ops && ops->inq)
		return ops->inq(ops_arg, fd);
	return ioctl(fd, SIOCINQ, &n) ? -errno : n;
}
