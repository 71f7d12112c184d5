/* The view model's data: what a front end knows of a running batch — its totals, one row per
 * worker slot, the events, a worker's detail — as plain data, with no pointer into the engine
 * and fixed sizes, so that it can be copied, kept, and later sent over a socket as it is. The
 * engine (pool.c) fills it; front ends read it through view.h. */
#ifndef POOLTOP_VIEW_DATA_H
#define POOLTOP_VIEW_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Bytes of the current item a snapshot carries. */
#define VIEW_ITEM_PREVIEW 112
/* A host's name in a row (as CLUSTER_NAME_MAX). */
#define VIEW_HOST_MAX 64

enum view_state {
	VIEW_EMPTY,    /* never started */
	VIEW_STARTING, /* forked, init running */
	VIEW_IDLE,     /* alive, waiting for items */
	VIEW_BUSY,     /* running an item */
	VIEW_STOPPING, /* asked to stop (join, signal), not reaped yet */
	VIEW_EXITED,   /* no process, not respawned */
	VIEW_BACKOFF,  /* kept dying at start: waiting before the next respawn */
	VIEW_STOPPED,  /* alive, stopped by the user (SIGSTOP through view_command) until SIGCONT:
			  busy or idle as before (cur_seq says), never hung */
};

/* Who or what ended a worker. */
enum view_cause {
	VIEW_CAUSE_NONE,	 /* it died on its own: a crash, exit() mid-item */
	VIEW_CAUSE_USER,	 /* terminate or kill by the user */
	VIEW_CAUSE_JOIN,	 /* a graceful join (the user's, or a shrink) */
	VIEW_CAUSE_JOIN_TIMEOUT, /* a join that took too long, escalated */
	VIEW_CAUSE_RECYCLE,	 /* --max-items-per-worker reached */
	VIEW_CAUSE_END,		 /* the batch ended */
	VIEW_CAUSE_RESTART,	 /* restart by the user */
	VIEW_CAUSE_SHUTDOWN,	 /* terminate all */
	VIEW_CAUSE_TIMEOUT,	 /* its item ran past --timeout */
};

enum view_event_kind {
	VIEW_EVENT_WORKER_STARTED,
	VIEW_EVENT_WORKER_EXITED,
	VIEW_EVENT_ITEM_FAILED,
	VIEW_EVENT_ITEM_RETRIED,
	VIEW_EVENT_NOTICE,
	VIEW_EVENT_STOP, /* the batch is being stopped: joined, terminated, killed (batch_stop) */
};

struct view_event {
	uint64_t id;	  /* 1, 2, 3... */
	uint64_t time_ns; /* CLOCK_MONOTONIC */
	enum view_event_kind kind;
	int slot; /* -1 when none */
	pid_t pid;
	int exitcode;
	bool core;
	enum view_cause cause;
	uint64_t seq;	/* the item concerned, 0 when none */
	char text[240]; /* one line for a human, with everything above in words */
};

struct view_row {
	unsigned index;
	enum view_state state;
	bool hung;	     /* BUSY for longer than the hang threshold */
	pid_t pid;	     /* 0 when none */
	pid_t job_pid;	     /* the process (group) running its item for a command kind, 0 */
	uint64_t generation; /* its process, for commands aimed at the row as drawn */
	pid_t last_pid;	     /* the slot's last process that ended, 0 if none */
	bool has_exit;	     /* the slot's last process exited */
	int last_exit;
	bool last_core;
	enum view_cause last_cause;
	bool fini_ran; /* the last process ran its fini */
	unsigned restarts;
	uint64_t done;
	uint64_t failed;
	double rate;			  /* items per second, smoothed */
	uint64_t cur_seq;		  /* 0 when not busy */
	uint64_t age_ns;		  /* on the current item */
	size_t cur_len;			  /* the item's whole length */
	char cur_item[VIEW_ITEM_PREVIEW]; /* its first bytes (not NUL-terminated past cur_len) */
	size_t cur_item_len;		  /* bytes valid in cur_item */
	uint64_t backoff_ns;		  /* time left before a respawn, in BACKOFF */
	/* Its job (a command, a persistent program) cannot start for want of a resource, and
	 * the worker retries it (10 ms, doubling to 1 s): since when, why, how many tries. The
	 * last error stays (start_failing false) once a start succeeded, until the process
	 * ends. The event log has a line per run of failed tries ("worker 3: cannot start the
	 * job: Resource temporarily unavailable (fork): retrying"). */
	bool start_failing;
	int start_err;		   /* -errno of the last failed try, 0 if none */
	char start_call[8];	   /* what it failed in: "fork", "pipe", "exec" ("" if none) */
	unsigned start_retries;	   /* failed tries of the current (or last) run */
	uint64_t start_failing_ns; /* how long the current run has lasted */
	/* The processes doing the work, from /proc (sampled at most once a second): for a
	 * worker with a job (command, persistent) when sampled, its job's process group, every
	 * process in it summed (proc_job, job_procs of them); otherwise the worker process. */
	bool proc_known;
	bool proc_job;	    /* the figures are the job group's, not the worker's */
	unsigned job_procs; /* processes in the job group (proc_job), else 0 */
	char proc_state;    /* R, S, D, T, Z...: the most active process's (procstat.h) */
	double cpu_percent; /* of one core */
	uint64_t rss_bytes;
	/* The machine the worker runs on, in a view of a batch across machines (the host's
	 * --host name); "" for a batch on one machine. */
	char host[VIEW_HOST_MAX + 1];
};

struct view_totals {
	unsigned size; /* the pool's target size */
	unsigned alive, busy, hung;
	unsigned start_failing; /* workers whose job cannot start (retrying) */
	uint64_t submitted;	/* items taken in */
	uint64_t done, failed, retried;
	uint64_t requeued; /* put back without counting an attempt: the items a dead worker
			      had taken but not started, and those killed with VIEW_REQUEUE */
	uint64_t running, queued;
	uint64_t not_run;	/* abandoned by terminate all */
	uint64_t duplicates;	/* results dropped as already finished (should stay 0) */
	uint64_t stats_dropped; /* STATS records lost to full rings */
	uint64_t repairs;	/* lock repairs after owner deaths */
	bool input_ended, closing, paused, finished;
	double rate_now; /* items per second, smoothed */
	double rate_avg; /* since the start */
	uint64_t elapsed_ns;
	uint64_t hang_after_ns; /* the threshold in force */
	uint64_t timeout_ns;	/* the --timeout in force, 0 when none (yet) */
	uint64_t median_runtime_ns;
	/* The batch around the pool. */
	/* --memfree: no job starts while the available memory (mem_available bytes at the last
	 * look) is below memfree bytes. */
	bool mem_waiting;
	uint64_t mem_available, memfree;
	bool output_blocked;	 /* a slow reader of stdout holds the batch up */
	uint64_t output_pending; /* bytes waiting for it */
	bool over;		 /* every item and every output done with: only leaving remains */
};

/* How a batch is stopped, weakest first. */
enum view_stop {
	VIEW_STOP_NONE,	     /* not stopped */
	VIEW_STOP_JOIN,	     /* read no more input; the items read are finished (an item still
				running --join-timeout after the join is stopped with --term-seq) */
	VIEW_STOP_DRAIN,     /* start nothing new; the items running are finished, however long
				they take; the items never started are not run (not in the joblog:
				--resume runs them) */
	VIEW_STOP_TERMINATE, /* every worker gets --term-seq; items never started are not run;
				output a reader has not taken waits a second at most once the
				workers are gone */
	VIEW_STOP_KILL,	     /* SIGKILL every worker; output a reader has not taken is given up */
};

/* At most this many error lines are kept for view_errors. */
#define VIEW_MAX_ERRORS 8

struct view_code_count {
	int exitcode;
	uint64_t n;
};

/* A batch in numbers, for the summary and the exit status. */
struct view_summary {
	uint64_t done, failed, not_run, skipped, too_long;
	uint64_t unwritten;		  /* of done and failed: their output never reached
					     stdout, so they are not in the joblog */
	bool input_complete;		  /* all of the input was read */
	bool terminated;		  /* stopped by a terminate or a kill (T, SIGTERM, a
					     second Ctrl-C), not a join */
	bool halted;			  /* --halt stopped it */
	int halt_status;		  /* ...with this exit status (the failed item's) */
	struct view_code_count codes[16]; /* failures by exit code, most frequent first */
	size_t ncodes;
	uint64_t other_codes;	/* failures with codes beyond the first 16 */
	double elapsed;		/* seconds */
	double rate;		/* items per second */
	bool output_closed;	/* stdout went away while outputs were to come: stopped */
	int write_error;	/* the first -errno writing stdout, the joblog or results, or 0 */
	int read_error;		/* the -errno that stopped reading the items, or 0 */
	uint64_t dropped_bytes; /* output given up when a reader did not take it (a stop) */
	char fatal[256];	/* why the batch could not run at all ("worker 0 could not start:
				   ..."), or "" */
};

/* The items that failed for good, for a front end to list when it leaves: the first
 * VIEW_FAILED_KEPT, in the order they failed, and how many failed in all (memory stays
 * bounded however many fail). */
#define VIEW_FAILED_KEPT 20
#define VIEW_FAILED_TEXT 120

struct view_failed_item {
	uint64_t seq;
	int exitcode;
	bool core;
	size_t item_len;	     /* the item's whole length */
	char item[VIEW_FAILED_TEXT]; /* its first bytes (not NUL-terminated past item_len) */
};

struct view_failed {
	struct view_failed_item items[VIEW_FAILED_KEPT];
	unsigned n;	/* kept in items */
	uint64_t total; /* failed in all: total - n more than listed */
};

/* A slot's recent past, for a detail view. */
#define VIEW_HISTORY 16
#define VIEW_TAIL    2048

struct view_history {
	uint64_t seq;
	int exitcode;
	bool core;
	bool done;
	uint64_t runtime_ns;
	pid_t pid;
	size_t item_len; /* the item's whole length */
	char item[48];	 /* its first bytes */
};

struct view_detail {
	struct view_history recent[VIEW_HISTORY]; /* newest first */
	unsigned nrecent;
	uint64_t out_seq; /* the item whose output is below, 0 when none */
	size_t out_len;
	char out[VIEW_TAIL]; /* the last bytes of the latest output */
	size_t err_len;
	char err[VIEW_TAIL]; /* the last bytes the slot's processes wrote on stderr
				(with capture_stderr) */
};

/* One of a slot's recent items (one of view_detail.recent) in full: view_item. The engine keeps
 * this for a slot's last VIEW_HISTORY items, each sized to what it holds (at most the item's
 * preview, the command line and both tails: 2.6 KiB), so at most 42 KiB a slot, 43 MiB at
 * -j 1024 when every item writes a kilobyte on both streams; a few hundred bytes a slot for
 * items with short outputs. */
#define VIEW_ITEM_TAIL 1024
#define VIEW_ITEM_CMD  512

struct view_item {
	struct view_history h; /* seq, exit code, runtime, pid */
	double start;	       /* seconds since the epoch */
	unsigned attempts;
	bool timed_out;
	size_t item_len;	      /* the item's whole length */
	char item[VIEW_ITEM_PREVIEW]; /* its first bytes */
	size_t cmd_len;		      /* 0 when the kind runs no command per item */
	bool cmd_cut;		      /* cmd holds only the first VIEW_ITEM_CMD bytes */
	char cmd[VIEW_ITEM_CMD];      /* the command line run, quoted as the joblog's */
	uint64_t out_total;	      /* the output's whole length */
	size_t out_len;		      /* its last bytes below */
	char out[VIEW_ITEM_TAIL];
	uint64_t err_total; /* the stderr kept for the item (its first 64 KiB) */
	bool err_cut;	    /* the item wrote more, which was cut */
	size_t err_len;	    /* its last bytes below */
	char err[VIEW_ITEM_TAIL];
};

/* Words for the states and causes. */
const char *view_state_name(enum view_state s);
/* How active a process state letter (view_row.proc_state) is: higher is more active, R > D > T
 * > S > the rest > Z (the order a job group's letter is chosen by); 0 for '\0'. */
int view_proc_state_rank(char state);
const char *view_cause_name(enum view_cause c);
/* The event kinds' names, as --events writes them: worker_started, worker_exited,
 * item_failed, item_retried, notice, stop. */
const char *view_event_kind_name(enum view_event_kind k);

#endif
