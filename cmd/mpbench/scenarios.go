package main

// A scenario is one metric measured three ways. A nil side is not measurable (yet) and is
// null in the table and the JSON. The CPython side of every scenario is the function of the
// same name in cpython_bench.py.
type scenario struct {
	name   string
	unit   string
	better string // "lower" or "higher"
	work   string // the work, the same on every side

	mp        sideFunc // mp_*.go, by feature
	floor     sideFunc // floor_linux.go
	floorWhat string   // what the floor is, for -list and the README
}

// scenarios is the table, in the order of the issue.
var scenarios = []scenario{
	{
		name: "process_start_ms", unit: "ms", better: "lower",
		work:      "start and join a child running a no-op function",
		mp:        mpProcessStart,
		floor:     floorProcessStart,
		floorWhat: "fork+exec and wait4 of a static no-op binary (gcc -static; a Go no-op without gcc)",
	},
	{
		name: "pool_start_ms", unit: "ms", better: "lower",
		work:      "create a pool of -workers, get the first result, close and wait for the workers",
		mp:        mpPoolStart,
		floor:     floorPoolStart,
		floorWhat: "fork+exec -workers no-op binaries, read one byte from the first, wait4 all",
	},
	{
		name: "apply_latency_us", unit: "us", better: "lower",
		work:      "one apply(ident, i) round trip on a warm pool",
		mp:        mpApplyLatency,
		floor:     floorApplyLatency,
		floorWhat: "one 32-byte socketpair round trip to a process blocked in read",
	},
	{
		name: "apply_async_tasks_per_s", unit: "tasks/s", better: "higher",
		work:      "20k apply_async(ident, i) on a warm pool, then every result (5k with -quick)",
		mp:        mpApplyAsync,
		floor:     floorApplyAsync,
		floorWhat: "one 8-byte write per task to -workers processes over socketpairs, results read back in bulk",
	},
	{
		name: "map_items_per_s", unit: "items/s", better: "higher",
		work:      "map(square, 1M ints) on a warm pool, Python's default chunk size (200k with -quick)",
		mp:        mpMap,
		floor:     floorMap,
		floorWhat: "the ints as 8-byte words in the same chunks to -workers processes over socketpairs, squared and sent back",
	},
	{
		name: "imap_unordered_items_per_s", unit: "items/s", better: "higher",
		work:      "imap_unordered(square, 1M ints), the same chunk size as map, consume every result",
		mp:        mpImapUnordered,
		floor:     floorMap,
		floorWhat: "the same as map_items_per_s",
	},
	{
		name: "cpu_scaling_x", unit: "x", better: "higher",
		work:      "8 CPU-bound tasks (~50 ms each, 20 ms with -quick): time on a pool of 1 / time on a pool of 2",
		mp:        mpCPUScaling,
		floor:     floorCPUScaling,
		floorWhat: "the same tasks handed to 1 vs 2 pre-started processes over socketpairs",
	},
	{
		name: "queue_small_msgs_per_s", unit: "msgs/s", better: "higher",
		work:      "200k ints put by the parent, got by a child, until the child acknowledges (50k with -quick)",
		mp:        mpQueueSmall,
		floor:     floorQueueSmall,
		floorWhat: "a single-producer single-consumer ring of 64-byte slots in shared memory, both sides spinning",
	},
	{
		name: "queue_1mib_mb_per_s", unit: "MB/s", better: "higher",
		work:      "200 messages of 1 MiB bytes through a queue to a child (50 with -quick)",
		mp:        mpQueue1MiB,
		floor:     floorQueue1MiB,
		floorWhat: "the same ring with 1 MiB slots: memcpy in by the producer, memcpy out by the consumer",
	},
	{
		name: "pipe_rtt_us", unit: "us", better: "lower",
		work:      "send a small object (int, string) over a duplex pipe, the child echoes it",
		mp:        mpPipeRTT,
		floor:     floorPipeRTT,
		floorWhat: "a 32-byte socketpair ping-pong with a process blocked in read",
	},
	{
		name: "pipe_bytes_mb_per_s", unit: "MB/s", better: "higher",
		work:      "500 chunks of 1 MiB through a pipe to a child, until it acknowledges (100 with -quick)",
		mp:        mpPipeBytes,
		floor:     floorPipeBytes,
		floorWhat: "write(2) of 1 MiB chunks into a unix socketpair, read(2) into a 1 MiB buffer",
	},
	{
		name: "lock_uncontended_ns", unit: "ns", better: "lower",
		work:      "acquire + release of a process-shared lock, one process",
		mp:        mpLockUncontended,
		floor:     floorLockUncontended,
		floorWhat: "an atomic compare-and-swap to take, an atomic store to release",
	},
	{
		name: "lock_contended_ops_per_s", unit: "ops/s", better: "higher",
		work:      "2 processes each incrementing a shared Value under its lock (200k each, 50k with -quick)",
		mp:        mpLockContended,
		floor:     floorLockContended,
		floorWhat: "a CAS+futex mutex (brief spin, then FUTEX_WAIT) guarding a counter in shared memory",
	},
	{
		name: "manager_dict_op_us", unit: "us", better: "lower",
		work:      "a child alternating d[k] = i and d[k] on a managed dict; time per operation",
		mp:        mpManagerDict,
		floor:     floorManagerDict,
		floorWhat: "one 32-byte socketpair round trip to a server process per operation",
	},
	{
		name: "manager_8clients_ops_per_s", unit: "ops/s", better: "higher",
		work: "8 concurrent clients (goroutines; threads in CPython) in a child, each alternating d[k] = i and d[k] on its own key of one managed dict",
		mp:   mpManager8Clients,
	},
	{
		name: "idle_worker_rss_mib", unit: "MiB", better: "lower",
		work:      "VmRSS of an idle Pool(1) worker, 200 ms after its first task",
		mp:        mpIdleWorkerRSS,
		floor:     floorIdleRSS,
		floorWhat: "VmRSS of a trivial Go program blocked in read (built at run time; this binary without a go command)",
	},
}
