/* The termination sequence of --term-seq (GNU parallel's): signals to send to a job that ran
 * past its --timeout, each followed by how long to wait for it to die, as
 * "TERM,200,TERM,100,TERM,50,KILL,25" (the default: milliseconds). A job still alive at the
 * end of the sequence is sent SIGKILL, so the sequence always ends the job. */
#ifndef POOLTOP_TERMSEQ_H
#define POOLTOP_TERMSEQ_H

#include <stddef.h>
#include <stdint.h>

#define TERMSEQ_MAX	16
#define TERMSEQ_DEFAULT "TERM,200,TERM,100,TERM,50,KILL,25"

struct termseq {
	unsigned n;
	int sig[TERMSEQ_MAX];
	uint32_t ms[TERMSEQ_MAX]; /* the wait after sig[i] */
};

/* Parse "SIG,MS,SIG,MS..." (names as TERM, SIGTERM or 15; waits 0..60000 ms). Returns 0 and
 * *out, or -EINVAL with a one-line reason in err ("'TERM,200,BOGUS,50': 'BOGUS' is not a
 * signal"). */
int termseq_parse(const char *s, struct termseq *out, char *err, size_t errlen);

/* The sequence's whole length: the longest a stopped job takes to die, in ns. */
uint64_t termseq_total_ns(const struct termseq *t);

#endif
