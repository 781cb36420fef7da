package wsclient

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func newIntQueue(limit int) *queue[int] {
	pool := &sync.Pool{New: func() any { return new(segment[int]) }}
	return newQueue[int](limit, pool)
}

// Items come out in order across segment boundaries, and a drained queue
// holds no segment.
func TestQueueOrderAcrossSegments(t *testing.T) {
	for _, n := range []int{1, segmentLen - 1, segmentLen, segmentLen + 1, 3*segmentLen + 5} {
		q := newIntQueue(1000)
		var got []int
		for round := range 2 { // a drained queue starts again from nothing
			for i := range n {
				if !q.push(round*n+i, nil, false) {
					t.Fatalf("n=%d: push refused", n)
				}
			}
			if q.len() != n {
				t.Fatalf("n=%d: len %d after %d pushes", n, q.len(), n)
			}
			for range n {
				v, res := q.pop(nil, nil)
				if res != popped {
					t.Fatalf("n=%d: pop result %d", n, res)
				}
				got = append(got, v)
			}
			if q.head != nil || q.tail != nil || q.len() != 0 {
				t.Fatalf("n=%d: a drained queue still holds a segment", n)
			}
		}
		want := make([]int, 2*n)
		for i := range want {
			want[i] = i
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("n=%d: order (-want +got):\n%s", n, diff)
		}
	}
}

// A full queue makes the producer wait for room, and stop ends the wait.
func TestQueueFullWaitsForRoom(t *testing.T) {
	q := newIntQueue(2)
	q.push(1, nil, false)
	q.push(2, nil, false)
	pushed := make(chan bool)
	go func() { pushed <- q.push(3, nil, false) }()
	if v, _ := q.pop(nil, nil); v != 1 {
		t.Fatalf("popped %d, want 1", v)
	}
	if !<-pushed {
		t.Fatal("the waiting push was refused")
	}
	stop := make(chan struct{})
	go func() { pushed <- q.push(4, stop, false) }()
	close(stop)
	if <-pushed {
		t.Fatal("a push to a full queue succeeded after stop")
	}
	for _, want := range []int{2, 3} {
		if v, res := q.pop(nil, nil); res != popped || v != want {
			t.Fatalf("pop = %d, %d; want %d", v, res, want)
		}
	}
}

// Lazy pushes wake a waiting consumer at wake, and when the queue fills
// up (before the producer waits for room): a burst beyond the limit does
// not deadlock, and the producer's wake at its end delivers the rest.
func TestQueueLazyPushWakes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		items int // pushed lazily; the limit is 4
	}{
		{"burst within the limit", 3},
		{"burst beyond the limit", 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := newIntQueue(4)
			got := make(chan []int)
			go func() {
				var vs []int
				for len(vs) < tc.items {
					v, res := q.pop(nil, nil)
					if res != popped {
						break
					}
					vs = append(vs, v)
				}
				got <- vs
			}()
			// The consumer registers as waiting before the burst.
			for deadline := time.Now().Add(10 * time.Second); ; {
				q.mu.Lock()
				waiting := q.consumers
				q.mu.Unlock()
				if waiting == 1 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the consumer never waited")
				}
				time.Sleep(time.Millisecond)
			}
			burst := make(chan struct{})
			go func() {
				defer close(burst)
				for i := range tc.items {
					q.push(i, nil, true)
				}
				q.wake()
			}()
			select {
			case <-burst:
			case <-time.After(10 * time.Second):
				t.Fatal("the producer is stuck on a full queue whose consumer sleeps")
			}
			select {
			case vs := <-got:
				if len(vs) != tc.items || !slices.IsSorted(vs) {
					t.Errorf("the consumer got %v", vs)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the consumer was never woken")
			}
		})
	}
}

// Several consumers share the items, each exactly once; close ends them
// all; done and stop end a wait with their own result.
func TestQueueManyConsumersAndClose(t *testing.T) {
	q := newIntQueue(16)
	const items, consumers = 2000, 4
	var mu sync.Mutex
	seen := map[int]int{}
	var wg sync.WaitGroup
	for range consumers {
		wg.Go(func() {
			for {
				v, res := q.pop(nil, nil)
				if res == popEnd {
					return
				}
				mu.Lock()
				seen[v]++
				mu.Unlock()
			}
		})
	}
	for i := range items {
		q.push(i, nil, i%3 == 0) // a mix of eager and lazy pushes
		if i%50 == 0 {
			q.wake()
		}
	}
	q.wake()
	q.close()
	wg.Wait()
	if len(seen) != items {
		t.Fatalf("%d distinct items seen, want %d", len(seen), items)
	}
	for v, n := range seen {
		if n != 1 {
			t.Fatalf("item %d seen %d times", v, n)
		}
	}

	q = newIntQueue(4)
	done, stop := make(chan struct{}), make(chan struct{})
	close(done)
	if _, res := q.pop(done, nil); res != popDone {
		t.Errorf("pop with done closed = %d, want popDone", res)
	}
	close(stop)
	if _, res := q.pop(nil, stop); res != popStop {
		t.Errorf("pop with stop closed = %d, want popStop", res)
	}
	q.push(7, nil, false)
	if v, res := q.pop(nil, stop); res != popped || v != 7 {
		t.Errorf("an item waiting is taken before stop is seen: got %d, %d", v, res)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.consumers != 0 {
		t.Errorf("%d consumers still registered after leaving", q.consumers)
	}
}
