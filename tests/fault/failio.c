/*
 * failio: an LD_PRELOAD shim that makes writes and syncs of files in one
 * directory fail with EIO while a flag file exists, to test custosd
 * against a failing disk under its alert store (tests/integration/
 * run_store_faults.sh).  Not part of custos.
 *
 *   FAILIO_DIR=D   the directory whose files fail (by the fd's path);
 *   FAILIO_FLAG=F  failing only while F exists (checked on every call).
 * write, pwrite, pwrite64, fsync and fdatasync are interposed (SQLite's
 * unix VFS writes with pwrite64 and syncs with fdatasync/fsync); other
 * descriptors, and every call while F is absent, go to libc.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* True when a call on fd must fail now. */
static int failing(int fd)
{
	const char *dir = getenv("FAILIO_DIR"), *flag = getenv("FAILIO_FLAG");
	char link[64], path[4096];
	struct stat st;
	ssize_t n;

	if (dir == NULL || flag == NULL || fd < 3 || stat(flag, &st) != 0)
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return 0;
	path[n] = '\0';
	size_t len = strlen(dir);
	return strncmp(path, dir, len) == 0 && path[len] == '/';
}

#define REAL(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

ssize_t write(int fd, const void *buf, size_t n)
{
	if (failing(fd))
		return errno = EIO, -1;
	return REAL(write)(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	if (failing(fd))
		return errno = EIO, -1;
	return REAL(pwrite)(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	if (failing(fd))
		return errno = EIO, -1;
	return REAL(pwrite64)(fd, buf, n, off);
}

int fsync(int fd)
{
	if (failing(fd))
		return errno = EIO, -1;
	return REAL(fsync)(fd);
}

int fdatasync(int fd)
{
	if (failing(fd))
		return errno = EIO, -1;
	return REAL(fdatasync)(fd);
}
