/* A job's environment. See job_env.h. */
#include "job_env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

extern char **environ;

static const char *const ours[] = {"PARALLEL_SEQ=", "POOLTOP_SEQ=", "PARALLEL_JOBSLOT=",
				   "POOLTOP_SLOT=", "POOLTOP_WORKER_PID="};

static bool is_ours(const char *entry)
{
	for (size_t i = 0; i < ARRAY_SIZE(ours); i++)
		if (!strncmp(entry, ours[i], strlen(ours[i])))
			return true;
	return false;
}

void job_env_init(struct job_env *e, unsigned slot, bool with_seq)
{
	size_t n = 0;
	for (char **v = environ; v && *v; v++)
		n++;
	e->envp = xcalloc(n + ARRAY_SIZE(ours) + 1, sizeof(*e->envp));
	size_t k = 0;
	for (char **v = environ; v && *v; v++)
		if (!is_ours(*v))
			e->envp[k++] = *v;
	snprintf(e->jobslot, sizeof(e->jobslot), "PARALLEL_JOBSLOT=%u", slot + 1);
	snprintf(e->slot, sizeof(e->slot), "POOLTOP_SLOT=%u", slot);
	snprintf(e->worker_pid, sizeof(e->worker_pid), "POOLTOP_WORKER_PID=%d", (int)getpid());
	e->envp[k++] = e->jobslot;
	e->envp[k++] = e->slot;
	e->envp[k++] = e->worker_pid;
	if (with_seq) {
		job_env_seq(e, 0);
		e->envp[k++] = e->parallel_seq;
		e->envp[k++] = e->pooltop_seq;
	}
	e->envp[k] = NULL;
}

void job_env_seq(struct job_env *e, uint64_t seq)
{
	snprintf(e->parallel_seq, sizeof(e->parallel_seq), "PARALLEL_SEQ=%llu",
		 (unsigned long long)seq);
	snprintf(e->pooltop_seq, sizeof(e->pooltop_seq), "POOLTOP_SEQ=%llu",
		 (unsigned long long)seq);
}

void job_env_free(struct job_env *e)
{
	free(e->envp);
	e->envp = NULL;
}
