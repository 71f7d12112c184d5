/* The shared segment. */
#include "shm.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

static_assert(sizeof(struct shm_header) == 72, "shm_header layout changed: bump SHM_VERSION");
static_assert(sizeof(struct queue_ref) == 16, "queue_ref layout changed: bump SHM_VERSION");
static_assert(sizeof(struct queue_result) == 56, "queue_result layout changed");
static_assert(sizeof(struct stats_record) == 32, "stats_record layout changed");
static_assert(sizeof(struct shm_start) == 40, "shm_start layout changed: bump SHM_VERSION");
static_assert(sizeof(struct shm_slot) % 8 == 0, "shm_slot must stay 8-byte aligned");

static size_t page_align(size_t n)
{
	return (n + 4095) & ~(size_t)4095;
}

int shm_create(uint32_t nslots, uint64_t input_cap, uint64_t result_cap, struct shm *out)
{
	if (nslots == 0)
		return -EINVAL;
	size_t slots_off = page_align(sizeof(struct shm_header));
	size_t queue_off = page_align(slots_off + (size_t)nslots * sizeof(struct shm_slot));
	size_t size = queue_off + queue_size(nslots, input_cap, result_cap);
	void *base = mmap(NULL, size, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return -errno;
	int err = queue_init((char *)base + queue_off, nslots, input_cap, result_cap);
	if (err) {
		munmap(base, size);
		return err;
	}
	struct shm_header *h = base;
	h->version = SHM_VERSION;
	h->header_size = sizeof(*h);
	h->size = size;
	h->nslots = nslots;
	h->slot_size = sizeof(struct shm_slot);
	h->slots_off = slots_off;
	h->queue_off = queue_off;
	h->magic = SHM_MAGIC;
	out->base = base;
	out->size = size;
	out->hdr = h;
	out->q = (struct queue *)((char *)base + queue_off);
	return 0;
}

void shm_destroy(struct shm *s)
{
	if (s->base)
		munmap(s->base, s->size);
	memset(s, 0, sizeof(*s));
}

struct shm_slot *shm_slot(const struct shm *s, uint32_t i)
{
	return (struct shm_slot *)((char *)s->base + s->hdr->slots_off) + i;
}

int shm_check(const void *base, size_t size)
{
	const struct shm_header *h = base;
	if (size < sizeof(*h) || h->magic != SHM_MAGIC || h->version != SHM_VERSION ||
	    h->header_size != sizeof(*h) || h->size > size ||
	    h->slot_size != sizeof(struct shm_slot))
		return -EINVAL;
	return 0;
}

void shm_note_post(struct shm_notes *n, const char *fmt, ...)
{
	char text[SHM_NOTE_TEXT];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	uint32_t k = atomic_load_explicit(&n->posted, memory_order_relaxed);
	unsigned e = k % SHM_NOTES;
	/* A sequence lock per entry, as the current item's (worker.c): odd while written. */
	atomic_store_explicit(&n->seq[e], 2 * k + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	memcpy(n->text[e], text, sizeof(text));
	atomic_store_explicit(&n->seq[e], 2 * k + 2, memory_order_release);
	atomic_store_explicit(&n->posted, k + 1, memory_order_release);
}

int shm_note_read(const struct shm_notes *n, uint32_t *seen, char *buf, size_t len, uint32_t *lost)
{
	for (;;) {
		uint32_t posted = atomic_load_explicit(&n->posted, memory_order_acquire);
		uint32_t k = *seen;
		if (posted == k)
			return 0;
		if (posted - k > SHM_NOTES) {
			/* Overwritten before they were read. */
			*lost += posted - k - SHM_NOTES;
			*seen = posted - SHM_NOTES;
			continue;
		}
		unsigned e = k % SHM_NOTES;
		uint32_t s1 = atomic_load_explicit(&n->seq[e], memory_order_acquire);
		char text[SHM_NOTE_TEXT];
		memcpy(text, n->text[e], sizeof(text));
		atomic_thread_fence(memory_order_acquire);
		uint32_t s2 = atomic_load_explicit(&n->seq[e], memory_order_relaxed);
		if (s1 != 2 * k + 2 || s2 != s1) {
			/* Note k is complete (posted says so): its entry holds a later one. */
			(*lost)++;
			*seen = k + 1;
			continue;
		}
		text[SHM_NOTE_TEXT - 1] = '\0';
		snprintf(buf, len, "%s", text);
		*seen = k + 1;
		return 1;
	}
}
