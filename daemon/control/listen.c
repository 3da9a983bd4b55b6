/* SPDX-License-Identifier: MIT */
/*
 * daemon/control/listen.c: the control socket's file — its directory, a stale socket of a dead
 * daemon, the mode and group it has from its first instant, and binding it again when someone
 * removes it under a running daemon.
 */
#include <errno.h>
#include <limits.h>
#include <sys/inotify.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/el-error.h"
#include "daemon/control/listen.h"
#include "daemon/control/settings.h"
#include "daemon/log.h"
#include "ipc/socket-path.h"

/*
 * A live daemon answers on path: refuse. A dead one left its socket, which refuses connections:
 * remove it. Anything else at path (a regular file, a symlink, a socket whose connect fails
 * otherwise, with EACCES say) is not known to be ours to delete, so it stays and we refuse.
 */
static int clear_stale(const char *path, struct el_error *reterr)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int fd, r;

	if (lstat(path, &st) < 0)
		return errno == ENOENT
			       ? 0
			       : el_error_set(reterr, -errno, "'%s': %s", path, strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return el_error_set(reterr, -EEXIST,
				    "'%s' exists and is not a socket; not removing it "
				    "(move it away, or use --socket)",
				    path);
	/* Non-blocking: a live daemon with a full backlog says EAGAIN instead of hanging us. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return el_error_set(reterr, -errno, "socket: %s", strerror(errno));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	close(fd);
	if (r == 0 || r == -EAGAIN)
		return el_error_set(reterr, -EADDRINUSE,
				    "another echoeld is running on '%s' (stop it, or use --socket)",
				    path);
	if (r != -ECONNREFUSED)
		return el_error_set(reterr, r,
				    "'%s': cannot tell whether a daemon still serves it: %s; "
				    "not removing it",
				    path, strerror(-r));
	if (unlink(path) < 0)
		return el_error_set(reterr, -errno, "'%s': cannot remove the stale socket: %s",
				    path, strerror(errno));
	log_notice("control: removed the stale socket '%s' of a daemon that is gone", path);
	return 0;
}

/*
 * Is dir the default runtime directory, /run/echoeld or $XDG_RUNTIME_DIR/echoeld (for root or
 * not: a root daemon may serve a user's path and the other way round)?
 */
static bool is_runtime_dir(const char *dir)
{
	const char *xdg = secure_getenv("XDG_RUNTIME_DIR");
	char def[IPC_SOCKET_PATH_MAX];
	size_t n = strlen(dir);

	for (int root = 0; root < 2; root++)
		if (ipc_socket_path_build(root, xdg, def, sizeof(def)) == 0 &&
		    strncmp(def, dir, n) == 0 && strcmp(def + n, "/control") == 0)
			return true;
	return false;
}

/*
 * The socket's directory must exist, but for the default runtime directory, which is ours
 * (systemd's RuntimeDirectory= makes it too; 0755: the socket's own mode guards access). Making
 * any other would turn a typo in --socket into a stray tree no one asked for.
 */
static int make_parent(const char *path, struct el_error *reterr)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0; /* the working directory, or / */
	*slash = '\0';
	if (stat(dir, &st) == 0)
		return 0; /* not a directory: bind() says so */
	if (errno != ENOENT)
		return el_error_set(reterr, -errno, "'%s': cannot reach the directory '%s': %s",
				    path, dir, strerror(errno));
	if (!is_runtime_dir(dir))
		return el_error_set(reterr, -ENOENT,
				    "'%s': the directory '%s' does not exist (echoeld creates only "
				    "its runtime directory)",
				    path, dir);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return el_error_set(reterr, -errno, "'%s': cannot create the directory '%s': %s",
				    path, dir, strerror(errno));
	return 0;
}

/*
 * Binds, sets the mode and group, and listens on name (path itself, or a temporary name beside
 * it). 0, or -errno with errno's message about path.
 */
static int listen_at(const struct ctl_settings *s, int fd, const char *name,
		     struct el_error *reterr)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", name);
	/*
	 * The mode and group are in place before listen(): until then every connect is refused,
	 * so no client ever reaches the socket through looser permissions. (Not umask() around
	 * bind(): it is the whole process's, and a socket bound again while the daemon runs would
	 * race the disk thread's mkdir and files.)
	 */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(name, s->mode) < 0 ||
	    (s->group != (gid_t)-1 && chown(name, (uid_t)-1, s->group) < 0) ||
	    listen(fd, SOMAXCONN) < 0)
		return el_error_set(reterr, -errno, "'%s': %s", s->socket_path, strerror(errno));
	return 0;
}

/*
 * The socket appears at its path only once it listens, so a client that sees the file can
 * connect (between bind() and listen() a connect is refused): it is bound under a temporary
 * name beside the path and hard-linked into place, which refuses an existing path as bind()
 * would. A path too long for the temporary name is bound directly.
 */
static int bind_socket(const struct ctl_settings *s, int *ret_fd, bool *ret_bound,
		       struct stat *ret_st, struct el_error *reterr)
{
	char tmp[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const char *path = s->socket_path;
	int fd, r;

	*ret_bound = false;
	if (strlen(path) >= sizeof(tmp))
		return el_error_set(reterr, -ENAMETOOLONG, "'%s': socket path too long", path);
	if ((r = make_parent(path, reterr)) < 0)
		return r;
	if ((r = clear_stale(path, reterr)) < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return el_error_set(reterr, -errno, "socket: %s", strerror(errno));
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid()) >= sizeof(tmp)) {
		r = listen_at(s, fd, path, reterr);
		*ret_bound = r == 0 || access(path, F_OK) == 0; /* ours to remove once bound */
	} else {
		(void)unlink(
			tmp); /* our own name: left by a process of our pid that died, if any */
		r = listen_at(s, fd, tmp, reterr);
		if (r == 0 && link(tmp, path) < 0)
			r = errno == EEXIST ? el_error_set(reterr, -EADDRINUSE,
							   "another echoeld is running on '%s' "
							   "(stop it, or use --socket)",
							   path)
					    : el_error_set(reterr, -errno, "'%s': %s", path,
							   strerror(errno));
		(void)unlink(tmp);
		*ret_bound = r == 0;
	}
	if (r < 0) {
		close(fd);
		return r;
	}
	/* what the file is, so a removed or replaced one is told apart (and never unlinked) */
	if (lstat(path, ret_st) < 0)
		*ret_st = (struct stat){0};
	*ret_fd = fd;
	return 0;
}

/* How often a socket that could not be bound again is tried (its directory gone, say). */
#define RETRY_USEC (2 * 1000 * 1000)
/* How long after its removal the socket is bound again (see on_dir_event()). */
#define REBIND_DELAY_USEC (1 * 1000 * 1000)

struct ctl_listener {
	sd_event *event;              /* borrowed */
	const struct ctl_settings *s; /* borrowed */
	sd_event_io_handler_t on_accept;
	void *userdata;
	int fd;
	bool bound; /* the file at s->socket_path is ours to remove */
	dev_t dev;  /* the file we bound: a removed or replaced one differs */
	ino_t ino;
	sd_event_source *accept_src;
	sd_event_source *watch_src; /* inotify on the socket's directory */
	sd_event_source *retry_src; /* while the socket cannot be bound again */
	bool warned;                /* the last failure to bind again was logged */
};

static int watch(struct ctl_listener *l);

/* Is the file at the path still the socket we bound? */
static bool still_ours(const struct ctl_listener *l)
{
	struct stat st;

	return lstat(l->s->socket_path, &st) == 0 && st.st_dev == l->dev && st.st_ino == l->ino;
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata);
static void retry_in(struct ctl_listener *l, uint64_t usec);

/*
 * The file is gone (or another took its place): a new socket at the path, the old one closed
 * once the new one listens (clients connected through it stay: their own sockets are theirs).
 * Failing that, the old one keeps serving whoever is connected and it is tried again.
 */
static void bind_again(struct ctl_listener *l)
{
	struct el_error err = {0};
	sd_event_source *src = NULL;
	struct stat st;
	bool bound = false;
	int fd = -1, r;

	if ((r = bind_socket(l->s, &fd, &bound, &st, &err)) == 0 &&
	    (r = sd_event_add_io(l->event, &src, fd, EPOLLIN, l->on_accept, l->userdata)) < 0)
		el_error_set(&err, r, "cannot serve it: %s", strerror(-r));
	if (r < 0) {
		if (fd >= 0)
			close(fd);
		if (!l->warned)
			log_warning("control: cannot listen at '%s' again: %s; the audio goes on, "
				    "clients already connected are served, trying every %d s",
				    l->s->socket_path, err.message, RETRY_USEC / 1000000);
		l->warned = true;
		retry_in(l, RETRY_USEC);
		return;
	}
	sd_event_source_disable_unref(l->accept_src);
	close(l->fd);
	l->accept_src = src;
	l->fd = fd;
	l->bound = bound;
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	l->warned = false;
	l->retry_src = sd_event_source_disable_unref(l->retry_src);
	log_notice("control: listening at '%s' again", l->s->socket_path);
	/* a new watch (the directory may be a new one); a removal in between is caught here */
	if (watch(l) < 0 || !still_ours(l))
		retry_in(l, REBIND_DELAY_USEC);
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct ctl_listener *l = userdata;

	(void)s, (void)usec;
	/* one shot at a time: bind_again() arms it again when it fails */
	l->retry_src = sd_event_source_disable_unref(l->retry_src);
	if (!still_ours(l))
		bind_again(l);
	else if (!l->watch_src)
		(void)watch(l);
	return 0;
}

static void retry_in(struct ctl_listener *l, uint64_t usec)
{
	int r;

	if (l->retry_src)
		return;
	r = sd_event_add_time_relative(l->event, &l->retry_src, CLOCK_MONOTONIC, usec, 0, on_retry,
				       l);
	if (r < 0) {
		l->retry_src = NULL;
		log_warning("control: cannot arm a timer to listen at '%s' again: %s; restart the "
			    "daemon to reach it",
			    l->s->socket_path, strerror(-r));
	}
}

static int on_dir_event(sd_event_source *s, const struct inotify_event *ev, void *userdata)
{
	struct ctl_listener *l = userdata;
	bool dir_gone = ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED);

	(void)s;
	if (dir_gone) {
		/* the watch went with the directory: the retry watches again, or binds again */
		l->watch_src = sd_event_source_disable_unref(l->watch_src);
		if (still_ours(l)) {
			retry_in(l, REBIND_DELAY_USEC);
			return 0;
		}
	}
	if (still_ours(l) || l->retry_src)
		return 0;
	/* Not at once: a recursive removal still under way would find the new file in the
	 * directory it is about to remove, and fail. */
	log_warning("control: the socket '%s' was removed%s; listening there again in %d s",
		    l->s->socket_path, dir_gone ? " with its directory" : "",
		    REBIND_DELAY_USEC / 1000000);
	retry_in(l, REBIND_DELAY_USEC);
	return 0;
}

/* Watches the socket's directory for the socket's (or its own) removal or renaming. */
static int watch(struct ctl_listener *l)
{
	char dir[PATH_MAX];
	char *slash;
	int r;

	snprintf(dir, sizeof(dir), "%s", l->s->socket_path);
	slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	l->watch_src = sd_event_source_disable_unref(l->watch_src);
	r = sd_event_add_inotify(l->event, &l->watch_src, dir,
				 IN_DELETE | IN_MOVED_FROM | IN_DELETE_SELF | IN_MOVE_SELF |
					 IN_ONLYDIR,
				 on_dir_event, l);
	if (r < 0) {
		l->watch_src = NULL;
		log_warning("control: cannot watch '%s' for the socket's removal: %s", dir,
			    strerror(-r));
	}
	return r;
}

int ctl_listener_new(sd_event *event, const struct ctl_settings *s, int passed_fd,
		     sd_event_io_handler_t on_accept, void *userdata, struct ctl_listener **ret,
		     struct el_error *reterr)
{
	struct ctl_listener *l = calloc(1, sizeof(*l));
	struct stat st;
	int r;

	if (!l) {
		if (passed_fd >= 0)
			close(passed_fd);
		return el_error_set(reterr, -ENOMEM, "out of memory");
	}
	l->event = event;
	l->s = s;
	l->on_accept = on_accept;
	l->userdata = userdata;
	l->fd = passed_fd;
	if (l->fd >= 0)
		log_info("control: serving the socket systemd passed");
	r = l->fd >= 0 ? 0 : bind_socket(s, &l->fd, &l->bound, &st, reterr);
	if (r == 0 && l->bound) {
		l->dev = st.st_dev;
		l->ino = st.st_ino;
	}
	if (r == 0 &&
	    (r = sd_event_add_io(event, &l->accept_src, l->fd, EPOLLIN, on_accept, userdata)) < 0)
		el_error_set(reterr, r, "cannot serve the control socket: %s", strerror(-r));
	if (r < 0) {
		ctl_listener_free(l);
		return r;
	}
	if (l->bound)
		(void)watch(l); /* without it, a removed socket stays removed: logged */
	*ret = l;
	return 0;
}

struct ctl_listener *ctl_listener_free(struct ctl_listener *l)
{
	if (!l)
		return NULL;
	sd_event_source_disable_unref(l->accept_src);
	sd_event_source_disable_unref(l->watch_src);
	sd_event_source_disable_unref(l->retry_src);
	if (l->fd >= 0)
		close(l->fd);
	/* only the file we bound: another daemon may have taken the path since */
	if (l->bound && still_ours(l))
		unlink(l->s->socket_path);
	free(l);
	return NULL;
}

const char *ctl_listener_get_path(const struct ctl_listener *l)
{
	return l && l->bound ? l->s->socket_path : NULL;
}
