/* SPDX-License-Identifier: MIT */
/*
 * daemon/media-events.c: players' and recorders' events (media-events.h).
 *
 * DESIGN: each tick reads, for every node of type player or recorder, the counters the nodes
 * publish anyway (`underruns`; `takes`, `frames` and the details `file` and `state`) and
 * compares them with what the last tick saw, kept per node name (a node whose run count went
 * down is another instance under the same name). A node that is gone while its take ran ends
 * that take with why "removed" (its file was closed as the node went). The RT
 * thread does nothing for it: a take's start and end reach clients within a tick (100 ms).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/control/server.h"
#include "daemon/engine/engine.h"
#include "daemon/engine/node.h"
#include "daemon/log.h"
#include "daemon/media-events.h"

#define MEDIA_MAX_NODES 1024u

/* What the last tick saw of one node. */
struct media_seen {
	char name[NODE_DETAIL_TEXT_MAX];
	bool recorder;
	bool present; /* in this tick's graph */
	uint64_t runs; /* the instance's: fewer than last time is another instance */
	double underruns;
	double takes;
	double frames;
	bool running; /* a take ran */
	char file[NODE_DETAIL_TEXT_MAX];
};

struct media_events {
	struct media_seen *seen; /* owned: n of them */
	size_t n, cap;
	struct eng_node_stats *st; /* owned: MEDIA_MAX_NODES, a tick's node list */
};

int media_events_new(struct media_events **ret)
{
	struct media_events *m = calloc(1, sizeof(*m));

	if (m && !(m->st = calloc(MEDIA_MAX_NODES, sizeof(*m->st)))) {
		free(m);
		m = NULL;
	}
	*ret = m;
	return m ? 0 : -ENOMEM;
}

struct media_events *media_events_free(struct media_events *m)
{
	if (m) {
		free(m->seen);
		free(m->st);
	}
	free(m);
	return NULL;
}

/* The entry of name (a new one, zeroed, when unseen); NULL when out of memory. */
static struct media_seen *seen_of(struct media_events *m, const char *name, bool recorder)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->seen[i].name, name) == 0 && m->seen[i].recorder == recorder)
			return &m->seen[i];
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 16;
		struct media_seen *s = realloc(m->seen, cap * sizeof(*s));

		if (!s)
			return NULL;
		m->seen = s;
		m->cap = cap;
	}
	memset(&m->seen[m->n], 0, sizeof(m->seen[m->n]));
	snprintf(m->seen[m->n].name, sizeof(m->seen[m->n].name), "%s", name);
	m->seen[m->n].recorder = recorder;
	return &m->seen[m->n++];
}

static double param_of(struct eng_engine *e, const char *node, const char *param)
{
	double v = 0.0;

	(void)eng_engine_get_param(e, node, param, 0, &v, NULL);
	return v;
}

static void detail_of(struct eng_engine *e, const char *node, const char *key, char *buf,
		      size_t size)
{
	struct node_detail d[8];
	size_t n = eng_engine_get_node_details(e, node, d, 8);

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		if (strcmp(d[i].key, key) == 0)
			snprintf(buf, size, "%s", d[i].text);
}

static void send_record(struct ctl_server *srv, const struct media_seen *s, const char *what,
			const char *why)
{
	json_t *f = json_pack("{s:s, s:s, s:s, s:f}", "node", s->name, "take", what, "file",
			      s->file, "frames", s->frames);

	if (why)
		json_object_set_new(f, "why", json_string(why));
	ctl_server_broadcast(srv, CTL_EVENT_RECORD, "record", f);
}

static void tick_player(struct media_seen *s, struct eng_engine *e, struct ctl_server *srv)
{
	double underruns = param_of(e, s->name, "underruns");

	if (underruns > s->underruns) {
		ctl_server_broadcast(
			srv, CTL_EVENT_UNDERRUN, "underrun",
			json_pack("{s:s, s:f}", "node", s->name, "underruns", underruns));
		log_warning("player '%s': the disk did not keep up (%.0f underruns so far)",
			    s->name, underruns);
	}
	s->underruns = underruns;
}

static void tick_recorder(struct media_seen *s, struct eng_engine *e, struct ctl_server *srv)
{
	char state[NODE_DETAIL_TEXT_MAX];
	double takes = param_of(e, s->name, "takes");
	bool running;

	s->frames = param_of(e, s->name, "frames");
	detail_of(e, s->name, "state", state, sizeof(state));
	running = strcmp(state, "recording") == 0;
	if (takes > s->takes) { /* a take began since; it may have ended already */
		detail_of(e, s->name, "file", s->file, sizeof(s->file));
		send_record(srv, s, "started", NULL);
		s->running = true;
	}
	s->takes = takes;
	if (s->running && !running) {
		send_record(srv, s, "stopped", state);
		if (strcmp(state, "overrun") == 0) {
			ctl_server_broadcast(srv, CTL_EVENT_OVERRUN, "overrun",
					     json_pack("{s:s, s:s, s:f}", "node", s->name, "file",
						       s->file, "frames", s->frames));
			log_warning("recorder '%s': the disk did not keep up; '%s' closed after "
				    "%.0f frames",
				    s->name, s->file, s->frames);
		} else if (strncmp(state, "failed", 6) == 0) {
			log_warning("recorder '%s': '%s' %s", s->name, s->file, state);
		}
	}
	s->running = running;
}

void media_events_tick(struct media_events *m, struct eng_engine *e, struct ctl_server *srv)
{
	const struct eng_node_stats *st = m->st;
	size_t n = eng_engine_get_node_stats(e, m->st, MEDIA_MAX_NODES);

	for (size_t i = 0; i < m->n; i++)
		m->seen[i].present = false;
	for (size_t i = 0; i < n && i < MEDIA_MAX_NODES; i++) {
		bool rec = strcmp(st[i].type, "recorder") == 0;
		struct media_seen *s;

		if (!rec && strcmp(st[i].type, "player") != 0)
			continue;
		s = seen_of(m, st[i].name, rec);
		if (!s)
			continue;
		if (st[i].runs < s->runs) { /* replaced since (removed and added again) */
			if (rec && s->running)
				send_record(srv, s, "stopped", "removed");
			s->underruns = s->takes = 0.0;
			s->running = false;
		}
		s->runs = st[i].runs;
		s->present = true;
		if (rec)
			tick_recorder(s, e, srv);
		else
			tick_player(s, e, srv);
	}
	/* gone since the last tick: a take that ran ended with its node */
	for (size_t i = 0; i < m->n;) {
		if (m->seen[i].present) {
			i++;
			continue;
		}
		if (m->seen[i].recorder && m->seen[i].running)
			send_record(srv, &m->seen[i], "stopped", "removed");
		m->seen[i] = m->seen[--m->n];
	}
}
