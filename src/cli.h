/* The command line: options -> a run configuration; subcommands. Parsing only: nothing here
 * opens files or starts processes. */
#ifndef POOLTOP_CLI_H
#define POOLTOP_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum cli_mode {
	CLI_RUN,	    /* run a batch */
	CLI_HELP,	    /* --help: print cli_usage to stdout, exit 0 */
	CLI_VERSION,	    /* --version */
	CLI_DEMO,	    /* pooltop demo */
	CLI_DEMO_EXITCODES, /* pooltop demo exitcodes */
	CLI_COMPLETION,	    /* pooltop completion bash: print the completion script */
	CLI_LS,		    /* pooltop ls: this user's batches */
	CLI_ATTACH,	    /* pooltop attach [NAME|PID]: a dashboard on a running batch */
	CLI_STATUS,	    /* pooltop status [NAME|PID]: one batch's status */
	CLI_SUBMIT,	    /* pooltop submit --redis URL --batch NAME: items to a batch in Redis */
	CLI_COLLECT,	    /* pooltop collect --redis URL --batch NAME: its results */
};

enum cli_frontend {
	CLI_FRONTEND_AUTO,     /* the dashboard when a terminal is available, else headless */
	CLI_FRONTEND_HEADLESS, /* --headless */
};

/* --halt WHEN,fail|success=N|N%: GNU parallel's. */
enum cli_halt_when {
	CLI_HALT_NEVER,
	CLI_HALT_SOON, /* start nothing new, let the running items finish (a drain) */
	CLI_HALT_NOW,  /* terminate the running items (--term-seq) */
};
struct cli_halt {
	enum cli_halt_when when;
	bool on_success; /* success=..., else fail=... */
	bool percent;	 /* N% of the items finished so far (once 3 have), else N items */
	unsigned n;
};

/* One input source of several: ::: ITEM... (items), or :::: FILE (file; "-" is stdin). */
struct cli_source {
	const char *file;
	char **items; /* pointers into argv */
	size_t nitems;
};

struct config {
	enum cli_mode mode;
	enum cli_frontend frontend;
	unsigned jobs;	     /* -j N: 1..POOLTOP_MAX_WORKERS; default: online CPUs */
	const char *builtin; /* --builtin NAME[:ARG], validated; points into argv */
	char **command; /* -- COMMAND [ARG...]: NULL-terminated copy of the pointers, or NULL */
	size_t ncommand;
	bool persistent;      /* --persistent: COMMAND starts once per worker */
	unsigned in_flight;   /* --in-flight N: items handed to a persistent program ahead */
	const char *plugin;   /* --plugin FILE.so[:ARG]; points into argv */
	uint64_t timeout_ns;  /* --timeout DURATION, 0 = none */
	unsigned timeout_pct; /* --timeout N%: N percent of the median item time, 0 = none */
	const char *term_seq; /* --term-seq SEQ, validated; NULL = the default */
	const char *arg_file; /* -a FILE, or NULL for stdin */
	char **items;	      /* ::: ITEM... (pointers into argv), or NULL */
	size_t nitems;
	/* Two or more ::: and :::: sources (allocated), else NULL: one ::: is items, one
	 * :::: FILE is arg_file. */
	struct cli_source *sources;
	size_t nsources;
	bool link;		       /* --link: the sources paired, not crossed */
	const char *colsep;	       /* --colsep REGEX, validated; points into argv */
	bool null_sep;		       /* -0 */
	bool keep_order;	       /* -k: output in input order */
	unsigned retries;	       /* --retries N (0..1000000) */
	uint64_t delay_ns;	       /* --delay DURATION between job starts, 0 = none */
	uint64_t memfree_bytes;	       /* --memfree SIZE, 0 = none */
	uint64_t max_items_per_worker; /* --max-items-per-worker N, 0 = unlimited */
	const char *joblog;	       /* --joblog FILE */
	const char *results;	       /* --results FILE */
	bool resume;		       /* --resume (needs --joblog) */
	bool resume_failed;	       /* --resume-failed (needs --joblog) */
	uint64_t join_timeout_ns;      /* --join-timeout DURATION, default 10 s */
	bool quiet;		       /* --quiet: no events or progress on stderr */
	uint64_t hang_after_ns;	       /* --hang-after DURATION: BUSY longer shows HUNG; 0 = auto */
	unsigned refresh_ms;	       /* --refresh MS: the dashboard's redraw period, 10..10000 */
	struct cli_halt halt;	       /* --halt */
	const char *halt_arg;	       /* --halt as given, for messages */
	bool tag;		       /* --tag: each output line after its item and a tab */
	bool completion_zsh;	       /* pooltop completion zsh */
	bool dry_run;		       /* --dry-run: print the command lines, run nothing */
	bool exit_when_done;	       /* --exit-when-done: no finished screen to leave with q */
	const char *events;	       /* --events FILE: every event as JSON Lines */
	const char *name;	       /* --name NAME (valid), or NULL: the default */
	const char *socket;	       /* --socket PATH, or NULL */
	bool no_detach;		       /* --no-detach: the dashboard runs the batch itself */
	/* A host of a batch across machines (with --redis and --batch, below) */
	const char *host;  /* --host NAME (valid), or NULL: the machine's name and the pid */
	uint64_t lease_ns; /* --lease DURATION */
	/* pooltop ls, attach, status */
	const char *target; /* NAME, a prefix of one, or a PID; NULL: the only one */
	bool json;	    /* --json */
	bool wipe;	    /* ls --wipe: remove the dead sockets */
	bool read_only;	    /* attach --read-only */
	/* pooltop submit, collect (items as a run's: items, arg_file, null_sep; files: joblog,
	 * results) */
	const char *redis; /* --redis URL, valid (redis_url.h); points into argv */
	const char *batch; /* --batch NAME, valid (cluster_name_ok); points into argv */
	bool more;	   /* submit --more: the input is not complete yet */
	bool wait;	   /* collect --wait: until every item has its result */
};

/* Parse argv into *cfg (filled with defaults first). Returns 0, or -EINVAL with a one-line
 * message naming the option in err, e.g. "-j: '0' is not a number from 1 to 1024" (control
 * characters of the words it quotes show as '?').
 * The caller prints "pooltop: <err>" and exits 255. cfg->command, when set, is allocated:
 * cli_config_free releases it. The front ends only read *cfg: what they decide for a run goes
 * in its struct run_settings (run.h). */
int cli_parse(int argc, char **argv, struct config *cfg, char *err, size_t errlen);
void cli_config_free(struct config *cfg);
/* cli_attach.c: "ls", "attach" or "status"? */
bool cli_is_attach_command(const char *word);
/* cli_cluster.c: "submit" or "collect"? */
bool cli_is_cluster_command(const char *word);

#define CLI_IN_FLIGHT_DEFAULT 64
#define CLI_IN_FLIGHT_MAX     64

/* The --help text. Its lists of options are made from the table getopt_long's are made from,
 * so every option the parser knows is listed, with its short name and argument. */
void cli_usage(FILE *f);
/* Call fn for every option of the table: its long name (without "--"), its short one (0 when
 * none), and what its argument is ("FILE", "N"...; NULL for a flag). */
void cli_each_option(void (*fn)(void *data, const char *name, int short_name, const char *argh),
		     void *data);
/* cli_complete.c: the bash completion script, made from the option table and the built-ins;
 * for zsh, the same through its bashcompinit. */
void cli_completion_bash(FILE *f);
void cli_completion_zsh(FILE *f);

#endif
