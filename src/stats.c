/* The STATS queue and smoothed rates. */
#include "stats.h"

bool stats_push(struct stats_ring *r, const struct stats_record *rec)
{
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
	if (tail - head >= STATS_RING_CAP) {
		atomic_fetch_add_explicit(&r->dropped, 1, memory_order_relaxed);
		return false;
	}
	r->rec[tail & (STATS_RING_CAP - 1)] = *rec;
	atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
	return true;
}

size_t stats_drain(struct stats_ring *r, struct stats_record *out, size_t max)
{
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	size_t n = 0;
	while (head < tail && n < max)
		out[n++] = r->rec[head++ & (STATS_RING_CAP - 1)];
	atomic_store_explicit(&r->head, head, memory_order_release);
	return n;
}

/* e^-x for x >= 0, to about 1e-12: halve x until the series converges fast, then square back.
 * Enough for a smoothing weight, and it spares pooltop and every worker the pages libm's
 * loading costs (about 0.4 MB resident). */
double stats_exp_neg(double x)
{
	if (!(x < 700.0))
		return 0.0;
	int halvings = 0;
	while (x > 0.125) {
		x /= 2.0;
		halvings++;
	}
	double term = 1.0, sum = 1.0;
	for (int k = 1; k <= 10; k++) {
		term *= -x / k;
		sum += term;
	}
	while (halvings-- > 0)
		sum *= sum;
	return sum;
}

void stats_rate_update(struct stats_rate *r, uint64_t count, uint64_t now)
{
	if (!r->primed) {
		r->primed = true;
		r->last_ns = now;
		r->last_count = count;
		r->rate = 0;
		return;
	}
	if (now <= r->last_ns)
		return;
	double dt = (double)(now - r->last_ns) / 1e9;
	if (dt < 0.05)
		return; /* too short an interval to say anything */
	double inst = (double)(count - r->last_count) / dt;
	/* Exponential smoothing with a time constant of one second. */
	double alpha = 1.0 - stats_exp_neg(dt / 1.0);
	r->rate += alpha * (inst - r->rate);
	r->last_ns = now;
	r->last_count = count;
}
