/* A batch across machines: its keys in Redis and the Lua scripts that change them atomically.
 * Every key of batch B is "pooltop:{B}:<part>" (one hash tag: a Redis Cluster keeps them on one
 * node, as a script needs). See doc/cluster.md for the data and what each step guarantees.
 *
 *   meta        hash   epoch, created, next (seq numbers reserved), total (items added), done,
 *                      failed, complete (1 once the input is closed), kind (the worker kind's
 *                      fingerprint, set by the first host)
 *   items       stream the items to run: fields s (seq) and i (the item); consumer group "g";
 *                      a host is the consumer named after it; the entries before the first
 *                      one still needed (pending, or not yet delivered) are trimmed
 *   seen        hash   seq -> 1: the items added (a submit run again adds nothing twice)
 *   subs        hash   a submission's digest -> the seq before its first item
 *   res         hash   seq -> the item's result record (JSON): exactly one per item
 *   hosts       hash   host -> its description (JSON), kept after it leaves
 *   live:HOST   string a host's heartbeat, expiring: the host is live while it exists
 *   view:HOST   string the host's workers as JSON, expiring (the cluster view reads them)
 *   ctl:HOST    list   requests for the host (JSON), taken in order
 */
#ifndef POOLTOP_CLUSTER_LUA_H
#define POOLTOP_CLUSTER_LUA_H

#define CLUSTER_GROUP "g"

/* "pooltop:{batch}:part" (part may hold a host's name: "live:h1") into buf. */
#define CLUSTER_KEY_MAX 200
void cluster_key(char *buf, const char *batch, const char *part);
/* Whether s is a valid batch or host name: [A-Za-z0-9._-], 1 to 64 bytes. */
#define CLUSTER_NAME_MAX 64
int cluster_name_ok(const char *s);

/* reserve: make the batch if it is not there, and number a submission.
 * KEYS meta items subs; ARGV new-epoch digest n now.
 * Returns {epoch, base}: the submission's items are base+1..base+n (the same base for the same
 * digest, however often it is submitted). Error "COMPLETE" for a new submission to a batch
 * whose input is closed. */
extern const char cluster_lua_reserve[];

/* add: add items not yet added. KEYS meta items seen; ARGV epoch seq1 item1 seq2 item2...
 * Returns how many were new. Error "EPOCH" when the batch is not the one of that epoch;
 * "COMPLETE" when one is new and the input is closed (the hosts may have ended). */
extern const char cluster_lua_add[];

/* close: the input is complete. KEYS meta; ARGV epoch. Returns total. Errors: "EPOCH";
 * "INCOMPLETE N" when N items were reserved and not added (a submit still running, or cut
 * short: run it again first). */
extern const char cluster_lua_close[];

/* join: a host joins. KEYS meta hosts live:HOST; ARGV kind host description ttl-ms lease-ms
 * retries. The first host's lease and retries are the batch's (a host with a shorter lease
 * would take the items of live hosts). Returns {epoch, kind, lease-ms, retries}. Errors:
 * "NOBATCH"; "KIND <kind>" when the batch runs another kind; "LIVE <ms>" when a live host has
 * the name (its heartbeat lasts that much longer). */
extern const char cluster_lua_join[];

/* heartbeat: KEYS live:HOST; ARGV description ttl-ms. Sets it unless another process holds the
 * name (its description differs): returns 1, or 0 then. */
extern const char cluster_lua_heartbeat[];

/* commit: record results. KEYS meta items res; ARGV epoch consumer, then per result:
 * stream-id seq failed(0|1) record.
 * Returns one reply per result: 1 recorded; 0 already recorded by this host (a duplicate: its
 * entry is acknowledged again); or a string: fenced, the item is not this host's any more: the
 * consumer that holds it, or "" when none does (another host recorded it). HSETNX records a
 * result unless one is there; the entries stay until trim. Error "EPOCH" when the batch was
 * made again under the host. */
extern const char cluster_lua_commit[];

/* trim: drop the entries no one needs any more, those before the first pending one (or after
 * the last delivered when none is pending), whole nodes at a time (XTRIM MINID ~): cheaper than
 * deleting each entry as it is committed. KEYS items. Returns how many went. */
extern const char cluster_lua_trim[];

/* reclaim: take items idle longer than the lease (their host died or stalls; or this host
 * holds them no more: Redis lost a commit). The caller skips the items it runs. KEYS items; ARGV
 * consumer lease-ms count. Returns {id, {field, value...}, deliveries} per item taken (deliveries
 * counted with this one); XCLAIM's own min-idle check makes two hosts reclaiming at once safe. */
extern const char cluster_lua_reclaim[];

/* release: give items back without running them (a host leaving, or stopping them): those
 * still held by consumer get an idle time of the lease, so any host takes them now, and their
 * delivery count back (the reclaim that takes them counts one). KEYS items; ARGV consumer
 * lease-ms id1 id2... Returns how many. */
extern const char cluster_lua_release[];

/* adopt: the entries pending for consumer, taken back in full (a host that reconnects: Redis
 * may have run a fetch whose answer was lost; a host of the same name after a crash), their
 * idle time reset and their delivery count kept. KEYS items; ARGV consumer count.
 * Returns {id, {field, value...}, deliveries} per entry. */
extern const char cluster_lua_adopt[];

/* views: the published views of the batch's hosts but one. KEYS hosts; ARGV host
 * "pooltop:{B}:view:". Returns their texts (the hosts whose view has expired are left out). */
extern const char cluster_lua_views[];

/* renew: keep the leases of items this host still holds (their idle time back to 0, the
 * delivery count untouched). KEYS items; ARGV consumer id1 id2...
 * Returns the ids no longer held by consumer (their lease was taken). */
extern const char cluster_lua_renew[];

#endif
