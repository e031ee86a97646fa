package sched

import (
	"fmt"
	"slices"
	"testing"
)

func TestChunkSize(t *testing.T) {
	for _, c := range []struct{ n, w, want int }{
		{0, 4, 1}, {3, 5, 1}, {10, 4, 1}, {100, 4, 7}, {1_000_000, 2, 125_000}, {17, 1, 5},
	} {
		if got := ChunkSize(c.n, c.w); got != c.want {
			t.Errorf("ChunkSize(%d, %d) = %d, want %d", c.n, c.w, got, c.want)
		}
	}
}

func TestSplit(t *testing.T) {
	ts := Split("j", 10, 4)
	var got [][2]int
	for _, x := range ts {
		got = append(got, [2]int{x.Lo, x.Hi})
	}
	if want := [][2]int{{0, 4}, {4, 8}, {8, 10}}; !slices.Equal(got, want) {
		t.Fatalf("Split = %v, want %v", got, want)
	}
	if len(Split("j", 0, 4)) != 0 {
		t.Fatal("Split of nothing is not empty")
	}
}

func TestQueue(t *testing.T) {
	var q Queue[int]
	mk := func(lo int) *Task[int] { return &Task[int]{Lo: lo, Hi: lo + 1} }
	q.Push(mk(1), mk(2), mk(3))
	q.PushFront(mk(10), mk(11))
	if q.Len() != 5 {
		t.Fatalf("Len = %d", q.Len())
	}
	var order []int
	first, _ := q.Pop()
	order = append(order, first.Lo)
	q.Push(mk(4))
	for {
		x, ok := q.Pop()
		if !ok {
			break
		}
		order = append(order, x.Lo)
	}
	if want := []int{10, 11, 1, 2, 3, 4}; !slices.Equal(order, want) {
		t.Fatalf("order = %v, want %v", order, want)
	}
	q.Push(&Task[int]{Job: 1}, &Task[int]{Job: 2}, &Task[int]{Job: 1})
	q.PushFront(&Task[int]{Job: 2}, &Task[int]{Job: 1})
	gone := q.Remove(func(t *Task[int]) bool { return t.Job == 1 })
	if len(gone) != 3 || q.Len() != 2 {
		t.Fatalf("Remove took %d, left %d", len(gone), q.Len())
	}
}

func TestAdmit(t *testing.T) {
	if !Admit(0, 0, 1_000_000, false) || !Admit(1, 125_000, 125_000, false) {
		t.Fatal("a worker must always hold two tasks")
	}
	if Admit(2, 250_000, 1, true) {
		t.Fatal("big tasks must not pipeline deeper")
	}
	if !Admit(10, 10, 1, true) || Admit(64, 64, 1, true) {
		t.Fatal("small fast tasks pipeline up to the cap")
	}
	if Admit(2, 2, 1, false) {
		t.Fatal("slow tasks must not pipeline deeper")
	}
}

func ranges(ts []*Task[string]) string {
	s := ""
	for _, t := range ts {
		s += fmt.Sprintf("[%d,%d)a%d", t.Lo, t.Hi, t.Attempt)
		if t.Suspect {
			s += "s"
		}
		s += " "
	}
	return s
}

func TestPlanLoss(t *testing.T) {
	a := &Task[string]{Job: "a", Lo: 0, Hi: 10}
	b := &Task[string]{Job: "b", Lo: 10, Hi: 20}
	in := []Inflight[string]{{Task: a, Seq: 1, Done: 3}, {Task: b, Seq: 2}}
	cases := []struct {
		name    string
		p       Progress
		cause   Cause
		retries int
		requeue string
		failed  []int
	}{
		{"running known", Progress{1, 5}, Lost, 0, "[3,5)a0 [6,10)a0 [10,20)a0 ", []int{5}},
		{"retry", Progress{1, 5}, Lost, 1, "[3,5)a0 [5,6)a1s [6,10)a0 [10,20)a0 ", nil},
		{"timeout never retried", Progress{1, 3}, Timeout, 3, "[4,10)a0 [10,20)a0 ", []int{3}},
		{"second batch running", Progress{2, 0}, Lost, 0, "[3,10)a0 [11,20)a0 ", []int{10}},
		{"idle", Progress{9, 0}, Lost, 0, "[3,10)a0 [10,20)a0 ", nil},
		{"stale position", Progress{1, 1}, Lost, 0, "[3,10)a0 [10,20)a0 ", nil},
		{"retired", Progress{1, 5}, Retired, 0, "[3,10)a0 [10,20)a0 ", nil},
		{"unknown isolates", Progress{0, Unknown}, Lost, 0, "[3,4)a0s [4,5)a0s [5,6)a0s [6,7)a0s [7,8)a0s [8,9)a0s [9,10)a0s [10,20)a0 ", nil},
		{"decoding isolates", Progress{1, Decoding}, Lost, 0, "[3,4)a0s [4,5)a0s [5,6)a0s [6,7)a0s [7,8)a0s [8,9)a0s [9,10)a0s [10,20)a0 ", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			plan := PlanLoss(in, c.p, c.cause, c.retries)
			if got := ranges(plan.Requeue); got != c.requeue {
				t.Errorf("requeue %s, want %s", got, c.requeue)
			}
			var failed []int
			for _, f := range plan.Failed {
				failed = append(failed, f.Index)
				if f.Timeout != (c.cause == Timeout) {
					t.Errorf("failure %d: Timeout = %v", f.Index, f.Timeout)
				}
			}
			if !slices.Equal(failed, c.failed) {
				t.Errorf("failed %v, want %v", failed, c.failed)
			}
		})
	}
	// One item left and nothing known: that item is the culprit.
	one := []Inflight[string]{{Task: &Task[string]{Job: "c", Lo: 4, Hi: 5}, Seq: 7}}
	plan := PlanLoss(one, Progress{Pos: Unknown}, Lost, 0)
	if len(plan.Failed) != 1 || plan.Failed[0].Index != 4 || len(plan.Requeue) != 0 {
		t.Fatalf("single unknown: %+v", plan)
	}
}
