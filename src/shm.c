/* The shared segment. */
#include "shm.h"

#include <assert.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

static_assert(sizeof(struct shm_header) == 72, "shm_header layout changed: bump SHM_VERSION");
static_assert(sizeof(struct queue_ref) == 16, "queue_ref layout changed: bump SHM_VERSION");
static_assert(sizeof(struct queue_result) == 56, "queue_result layout changed");
static_assert(sizeof(struct stats_record) == 32, "stats_record layout changed");
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
