/* The STATS queue: per-item timing records from each worker to the parent, one single-producer
 * single-consumer ring per worker slot. Lossy: a full ring drops the record and counts it, so it
 * never blocks a worker. Also the smoothed rates the front ends show. */
#ifndef POOLTOP_STATS_H
#define POOLTOP_STATS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STATS_RING_CAP 128 /* records per slot: a power of two */

struct stats_record {
	uint64_t seq;
	uint64_t start_ns; /* CLOCK_MONOTONIC */
	uint64_t runtime_ns;
	int32_t exitcode;
	uint32_t attempt;
};

struct stats_ring {
	_Atomic uint64_t head; /* the parent's */
	_Atomic uint64_t tail; /* the worker's */
	_Atomic uint64_t dropped;
	struct stats_record rec[STATS_RING_CAP];
};

/* The worker: append rec, or count it dropped when the ring is full. Returns false if dropped.
 * Kill-safe: the record is published by one store of tail after it is written. */
bool stats_push(struct stats_ring *r, const struct stats_record *rec);
/* The parent: take up to max records. Returns how many. */
size_t stats_drain(struct stats_ring *r, struct stats_record *out, size_t max);

/* A rate smoothed over about a second: feed it a monotonically growing count. */
struct stats_rate {
	double rate; /* per second */
	uint64_t last_ns;
	uint64_t last_count;
	bool primed;
};
/* e^-x for x >= 0 (0 for NaN and huge x), without libm. */
double stats_exp_neg(double x);
void stats_rate_update(struct stats_rate *r, uint64_t count, uint64_t now_ns);

#endif
