/*
 * decision_queue.c — the decision log's queue in shared memory: a bounded
 * multi-producer, multi-consumer ring (D. Vyukov's design) of fixed-size
 * records (decision_queue.h).
 *
 * Every slot carries a sequence number.  A producer reads the enqueue
 * position, and if that slot's number says it is free, claims the position
 * with one compare-and-swap, copies the record in and publishes it by
 * setting the slot's number; if the slot is still full the queue is full
 * and the record is dropped.  A consumer does the mirror image.  So a
 * producer holds no lock at any point: the only window in which another
 * process depends on it is one memcpy between its claim and its publish,
 * and everything that can fail (building the record, digesting the input)
 * happens before the claim.  A consumer that meets a claimed but not yet
 * published slot stops there and comes back on its next round.
 *
 * Why not a spinlock around a ring: a spinlock would do (the copy is
 * short), but a backend descheduled while holding it stalls every other
 * producer, and the queue is on the path of every logged decision.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "access/xlog.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"

#include "decision_queue.h"
#include "stats.h"

typedef struct DecisionSlot
{
	pg_atomic_uint64 seq;
	EclDecision record;
} DecisionSlot;

typedef struct DecisionQueue
{
	pg_atomic_uint64 enqueue_pos;
	char		pad1[PG_CACHE_LINE_SIZE - sizeof(pg_atomic_uint64)];
	pg_atomic_uint64 dequeue_pos;
	char		pad2[PG_CACHE_LINE_SIZE - sizeof(pg_atomic_uint64)];
	Latch	   *launcher_latch; /* NULL while no launcher runs */
	uint64		size;
	DecisionSlot slots[FLEXIBLE_ARRAY_MEMBER];
} DecisionQueue;

static DecisionQueue *queue = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static Size
queue_size_bytes(void)
{
	return add_size(offsetof(DecisionQueue, slots),
					mul_size(sizeof(DecisionSlot), ecl_decision_log_queue_size));
}

static void
queue_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(queue_size_bytes());
}

static void
queue_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	queue = ShmemInitStruct("ecl decision queue", queue_size_bytes(), &found);
	if (!found)
	{
		pg_atomic_init_u64(&queue->enqueue_pos, 0);
		pg_atomic_init_u64(&queue->dequeue_pos, 0);
		queue->launcher_latch = NULL;
		queue->size = (uint64) ecl_decision_log_queue_size;
		for (uint64 i = 0; i < queue->size; i++)
			pg_atomic_init_u64(&queue->slots[i].seq, i);
	}
	LWLockRelease(AddinShmemInitLock);
}

void
ecl_decision_queue_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = queue_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = queue_shmem_startup;
}

bool
ecl_decision_queue_available(void)
{
	return queue != NULL;
}

void
ecl_decision_queue_set_launcher(Latch *latch)
{
	if (queue != NULL)
		queue->launcher_latch = latch;
}

/* Claim the next free position; false when the queue is full. */
static bool
claim_enqueue(uint64 *pos_out)
{
	uint64		pos = pg_atomic_read_u64(&queue->enqueue_pos);

	for (;;)
	{
		DecisionSlot *slot = &queue->slots[pos % queue->size];
		uint64		seq = pg_atomic_read_u64(&slot->seq);
		int64		diff;

		pg_read_barrier();
		diff = (int64) (seq - pos);
		if (diff == 0)
		{
			if (pg_atomic_compare_exchange_u64(&queue->enqueue_pos, &pos, pos + 1))
			{
				*pos_out = pos;
				return true;
			}
			/* pos now holds the current position: try that one */
		}
		else if (diff < 0)
			return false;		/* the slot still holds an unread record */
		else
			pos = pg_atomic_read_u64(&queue->enqueue_pos);
	}
}

bool
ecl_decision_dequeue(EclDecision *out)
{
	uint64		pos;

	if (queue == NULL)
		return false;
	pos = pg_atomic_read_u64(&queue->dequeue_pos);
	for (;;)
	{
		DecisionSlot *slot = &queue->slots[pos % queue->size];
		uint64		seq = pg_atomic_read_u64(&slot->seq);
		int64		diff;

		pg_read_barrier();
		diff = (int64) (seq - (pos + 1));
		if (diff == 0)
		{
			if (pg_atomic_compare_exchange_u64(&queue->dequeue_pos, &pos, pos + 1))
			{
				memcpy(out, &slot->record, sizeof(EclDecision));
				pg_memory_barrier();
				pg_atomic_write_u64(&slot->seq, pos + queue->size);
				return true;
			}
		}
		else if (diff < 0)
			return false;		/* empty, or claimed and not yet published */
		else
			pos = pg_atomic_read_u64(&queue->dequeue_pos);
	}
}

bool
ecl_decision_enqueue(const EclDecision *d)
{
	uint64		pos;
	bool		claimed;
	DecisionSlot *slot;

	if (queue == NULL)
		return false;

	claimed = claim_enqueue(&pos);

	/*
	 * A standby's queue is never emptied by a writer: there the oldest
	 * record makes room, so that ecl.recent_decisions shows the newest.
	 * A few tries, since other backends race for the room.
	 */
	for (int attempt = 0; !claimed && attempt < 4 && RecoveryInProgress(); attempt++)
	{
		EclDecision discarded;

		if (ecl_decision_dequeue(&discarded))
			ecl_stats_record_decision_dropped();
		claimed = claim_enqueue(&pos);
	}
	if (!claimed)
	{
		ecl_stats_record_decision_dropped();
		return false;
	}

	slot = &queue->slots[pos % queue->size];
	memcpy(&slot->record, d, sizeof(EclDecision));
	pg_write_barrier();
	pg_atomic_write_u64(&slot->seq, pos + 1);

	/* half full: wake the launcher rather than wait for its next round */
	if (pos - pg_atomic_read_u64(&queue->dequeue_pos) == queue->size / 2)
	{
		Latch	   *latch = queue->launcher_latch;

		if (latch != NULL)
			SetLatch(latch);
	}
	return true;
}

int
ecl_decision_queue_peek(EclDecision *out, int max)
{
	uint64		from;
	uint64		to;
	int			n = 0;

	if (queue == NULL)
		return 0;
	from = pg_atomic_read_u64(&queue->dequeue_pos);
	to = pg_atomic_read_u64(&queue->enqueue_pos);
	if (to - from > queue->size)
		from = to - queue->size;
	for (uint64 pos = from; pos < to && n < max; pos++)
	{
		DecisionSlot *slot = &queue->slots[pos % queue->size];

		/* a seqlock read: the number before and after must say "published at pos" */
		if (pg_atomic_read_u64(&slot->seq) != pos + 1)
			continue;
		pg_read_barrier();
		memcpy(&out[n], &slot->record, sizeof(EclDecision));
		pg_read_barrier();
		if (pg_atomic_read_u64(&slot->seq) != pos + 1)
			continue;
		n++;
	}
	return n;
}

int
ecl_decision_queue_length(void)
{
	uint64		from;
	uint64		to;

	if (queue == NULL)
		return 0;
	from = pg_atomic_read_u64(&queue->dequeue_pos);
	to = pg_atomic_read_u64(&queue->enqueue_pos);
	return to > from ? (int) Min(to - from, queue->size) : 0;
}
