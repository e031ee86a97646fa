// Package sched is the pool's scheduler as pure logic, free of I/O: chunk sizes, the task
// queue, how many tasks a worker may hold, and what to do with a worker's tasks when it is
// lost. Package mp drives it with real processes; the tests here drive it with none.
package sched

// Task is a contiguous run of items [Lo, Hi) of one job, sent to a worker as one batch.
type Task[J any] struct {
	Job     J
	Lo, Hi  int
	Attempt int  // how many times an item of this task was lost and retried
	Suspect bool // split from a lost batch whose running item is unknown
}

// Len returns the number of items in the task.
func (t *Task[J]) Len() int { return t.Hi - t.Lo }

// ChunkSize is CPython's automatic chunk size for n items over workers workers:
// divmod(n, 4*workers), rounded up, at least 1.
func ChunkSize(n, workers int) int {
	if workers < 1 {
		workers = 1
	}
	c, extra := n/(4*workers), n%(4*workers)
	if extra != 0 {
		c++
	}
	return max(c, 1)
}

// Split cuts [0, n) into tasks of size chunk (the last may be shorter).
func Split[J any](job J, n, chunk int) []*Task[J] {
	if chunk < 1 {
		chunk = 1
	}
	out := make([]*Task[J], 0, (n+chunk-1)/chunk)
	for lo := 0; lo < n; lo += chunk {
		out = append(out, &Task[J]{Job: job, Lo: lo, Hi: min(lo+chunk, n)})
	}
	return out
}

// Queue is a FIFO of tasks with a front lane for requeued work. Not safe for concurrent
// use; the pool guards it with its lock.
type Queue[J any] struct {
	front []*Task[J] // requeued, served first (a stack: PushFront keeps their order)
	main  []*Task[J]
	head  int
}

// Len returns the number of queued tasks.
func (q *Queue[J]) Len() int { return len(q.front) + len(q.main) - q.head }

// Push appends tasks at the back.
func (q *Queue[J]) Push(ts ...*Task[J]) {
	if q.head > 0 && q.head == len(q.main) {
		q.main, q.head = q.main[:0], 0
	}
	q.main = append(q.main, ts...)
}

// PushFront puts tasks before everything queued, keeping their order.
func (q *Queue[J]) PushFront(ts ...*Task[J]) {
	for i := len(ts) - 1; i >= 0; i-- {
		q.front = append(q.front, ts[i])
	}
}

// Pop removes and returns the next task.
func (q *Queue[J]) Pop() (*Task[J], bool) {
	if n := len(q.front); n > 0 {
		t := q.front[n-1]
		q.front[n-1] = nil
		q.front = q.front[:n-1]
		return t, true
	}
	if q.head < len(q.main) {
		t := q.main[q.head]
		q.main[q.head] = nil
		q.head++
		if q.head == len(q.main) {
			q.main, q.head = q.main[:0], 0
		}
		return t, true
	}
	return nil, false
}

// Remove drops every queued task for which drop returns true and returns them.
func (q *Queue[J]) Remove(drop func(*Task[J]) bool) []*Task[J] {
	var out []*Task[J]
	keep := q.front[:0]
	for _, t := range q.front {
		if drop(t) {
			out = append(out, t)
		} else {
			keep = append(keep, t)
		}
	}
	clear(q.front[len(keep):])
	q.front = keep
	rest := q.main[q.head:]
	keepMain := q.main[:0]
	for _, t := range rest {
		if drop(t) {
			out = append(out, t)
		} else {
			keepMain = append(keepMain, t)
		}
	}
	clear(q.main[len(keepMain):])
	q.main, q.head = keepMain, 0
	return out
}

// Admit reports whether a worker holding inflight tasks of inflightItems items in all may
// take another task of n items, when no other worker is idle (an idle worker takes it
// instead). A worker may hold two tasks, so the next is ready when one ends; when its
// tasks are fast (their round trip dominates), small ones pipeline deeper so that round
// trips overlap. Slow tasks never queue deeper behind each other.
func Admit(inflight, inflightItems, n int, fast bool) bool {
	const (
		maxTasks       = 64
		smallItems     = 64
		alwaysInFlight = 2
	)
	if inflight < alwaysInFlight {
		return true
	}
	return fast && inflight < maxTasks && inflightItems+n <= smallItems
}

// Unknown is the running position when the worker's progress cannot be read.
const Unknown = -2

// Decoding is the running position of a worker that received a batch and is decoding it.
const Decoding = -1

// Inflight is a task a worker holds: sent, with Done items' results received.
type Inflight[J any] struct {
	Task *Task[J]
	Seq  uint32 // the low 32 bits of the batch sequence number
	Done int    // items whose results arrived (always a prefix of the task)
}

// Progress is what a worker last reported it was doing: running item Pos (relative to
// the task's Lo) of batch Seq, or Decoding, or Unknown.
type Progress struct {
	Seq uint32
	Pos int
}

// Cause says why a worker's tasks are being planned for.
type Cause int

const (
	Lost    Cause = iota // the worker died: the running item fails (or is retried)
	Timeout              // the running item overran: it fails, never retried
	Retired              // the worker was stopped between items on purpose: nothing fails
)

// Failure is an item to fail.
type Failure[J any] struct {
	Job     J
	Index   int
	Timeout bool // failed by Timeout rather than Lost
}

// Plan is what to do with a lost worker's tasks.
type Plan[J any] struct {
	Requeue []*Task[J] // to put at the front of the queue, in this order
	Failed  []Failure[J]
}

// PlanLoss decides the fate of every item a lost worker held. inflight is in send order
// (the worker runs batches in that order); p is its last reported progress; retries is
// how many times a lost item may be run again.
//
// Items whose results arrived are done. Of the rest: the running item fails (or, when
// lost and retries remain, is requeued alone with its attempt count raised); every other
// item is requeued, batched as it was. When the running item is unknown (no progress
// report), a batch with one item left fails it, and a batch with more is requeued one
// item per task, marked Suspect, so that a crashing item is found on its own.
func PlanLoss[J any](inflight []Inflight[J], p Progress, cause Cause, retries int) Plan[J] {
	var plan Plan[J]
	running := -1 // index into inflight of the batch that was running
	if p.Pos != Unknown {
		for i, f := range inflight {
			if f.Seq == p.Seq {
				running = i
				break
			}
		}
	} else if cause != Retired && len(inflight) > 0 {
		running = 0
	}
	for i, f := range inflight {
		t := f.Task
		lo := t.Lo + f.Done
		if lo >= t.Hi {
			continue
		}
		if i != running || cause == Retired {
			plan.Requeue = append(plan.Requeue, &Task[J]{Job: t.Job, Lo: lo, Hi: t.Hi, Attempt: t.Attempt, Suspect: t.Suspect})
			continue
		}
		pos := p.Pos
		if pos == Unknown || pos == Decoding {
			if t.Hi-lo == 1 {
				pos = 0
			} else {
				// Which item killed it is unknown: run each alone to find it.
				for k := lo; k < t.Hi; k++ {
					plan.Requeue = append(plan.Requeue, &Task[J]{Job: t.Job, Lo: k, Hi: k + 1, Attempt: t.Attempt, Suspect: true})
				}
				continue
			}
			pos = lo - t.Lo
		}
		r := t.Lo + pos
		if r < lo || r >= t.Hi {
			// A stale report (the item's result arrived): nothing was running.
			plan.Requeue = append(plan.Requeue, &Task[J]{Job: t.Job, Lo: lo, Hi: t.Hi, Attempt: t.Attempt, Suspect: t.Suspect})
			continue
		}
		if r > lo {
			plan.Requeue = append(plan.Requeue, &Task[J]{Job: t.Job, Lo: lo, Hi: r, Attempt: t.Attempt, Suspect: t.Suspect})
		}
		switch {
		case cause == Lost && t.Attempt < retries:
			plan.Requeue = append(plan.Requeue, &Task[J]{Job: t.Job, Lo: r, Hi: r + 1, Attempt: t.Attempt + 1, Suspect: true})
		default:
			plan.Failed = append(plan.Failed, Failure[J]{Job: t.Job, Index: r, Timeout: cause == Timeout})
		}
		if r+1 < t.Hi {
			plan.Requeue = append(plan.Requeue, &Task[J]{Job: t.Job, Lo: r + 1, Hi: t.Hi, Attempt: t.Attempt, Suspect: t.Suspect})
		}
	}
	return plan
}
