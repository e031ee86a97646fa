package main

// The floor is the same work as a scenario done by a bare kernel mechanism, with nothing
// of a library around it: no encoding, no framing, no bookkeeping. It is what "close to
// what the OS allows" is measured against. The rule used to pick it: messages between two
// processes (pipe, pool tasks, manager calls) go through a socketpair with the receiver
// blocked in read(2), the classic kernel path; Queue, locks and Value are measured against
// shared memory, the fastest thing there is. An mp path that spins on shared memory (Pipe
// rides shared-memory rings since the socketpair floor was chosen) can beat a socketpair
// floor: the ratio then says by how much, and it is not a flaw in either. Per metric (see
// also scenarios.go):
//
//	process_start_ms        fork+exec of a static no-op binary and wait4 (built at run time
//	                        with gcc -static from a two-line C file; without gcc, this program
//	                        re-executed as a Go no-op, which is slower: the run says which)
//	pool_start_ms           fork+exec of -workers such no-ops, read one byte from the first, wait4 all
//	apply_latency_us        one 32-byte round trip over a socketpair to a process blocked in read(2)
//	apply_async_tasks_per_s one 8-byte write(2) per task to -workers processes over socketpairs;
//	                        each worker squares what it reads and writes it back in bulk
//	map_items_per_s         the same workers, the items sent in map's chunks (one write per chunk)
//	imap_unordered_items_.. the same as map
//	cpu_scaling_x           the same CPU-bound tasks on 1 vs 2 pre-started processes
//	queue_small_msgs_per_s  an SPSC ring of 64-byte slots in shared memory (memfd), producer and
//	                        consumer spinning on the head and tail words: no syscalls at all
//	queue_1mib_mb_per_s     the same ring with 1 MiB slots: one memcpy in, one memcpy out
//	pipe_rtt_us             a 32-byte ping-pong over a socketpair with a process blocked in read(2)
//	pipe_bytes_mb_per_s     write(2) of 1 MiB chunks into a socketpair, read(2) into a 1 MiB buffer
//	lock_uncontended_ns     an atomic CAS to take and an atomic store to release, one process
//	lock_contended_ops_per_s two processes incrementing a counter in shared memory under a
//	                        CAS+futex mutex (100 spins, then FUTEX_WAIT; FUTEX_WAKE on release);
//	                        unfair, like every such mutex: the releasing process mostly takes it
//	                        again before the other wakes, so long runs stay on one core
//	manager_dict_op_us      one 32-byte socketpair round trip to a server process per operation
//	idle_worker_rss_mib     VmRSS of a trivial Go program blocked in read(2), built at run time
//	                        with the go command (without one, this binary, which is larger)
//
// Floors run only on Linux; elsewhere the floor column is null.

// floorChildEnv names the role of a floor child: this binary re-executed with it set runs
// floorChildMain instead of the benchmark. (Floor children are not mp children: they must
// not depend on the library they are the floor for.)
const floorChildEnv = "MPBENCH_FLOOR_CHILD"
