package wsclient

import "sync"

// queue is a bounded FIFO whose memory follows its backlog: an idle
// client holds no buffer (a buffered channel of ReceiveQueue messages
// would hold ~90 KiB per client from the start).
type queue[T any] struct {
	mu     sync.Mutex
	items  []T
	head   int
	limit  int
	closed bool
	more   chan struct{} // signalled when an item or the close arrives
	room   chan struct{} // signalled when an item left
}

func newQueue[T any](limit int) *queue[T] {
	return &queue[T]{limit: limit, more: make(chan struct{}, 1), room: make(chan struct{}, 1)}
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// push appends v, waiting while the queue is full; it reports false when
// stop closed first.
func (q *queue[T]) push(v T, stop <-chan struct{}) bool {
	for {
		q.mu.Lock()
		if n := len(q.items) - q.head; n < q.limit {
			q.items = append(q.items, v)
			q.mu.Unlock()
			signal(q.more)
			if n+1 < q.limit {
				signal(q.room)
			}
			return true
		}
		q.mu.Unlock()
		select {
		case <-q.room:
		case <-stop:
			return false
		}
	}
}

// tryPop takes the first item, if any; closed reports a closed, empty
// queue.
func (q *queue[T]) tryPop() (v T, ok, closed bool) {
	q.mu.Lock()
	if q.head == len(q.items) {
		closed = q.closed
		q.mu.Unlock()
		return v, false, closed
	}
	v = q.items[q.head]
	var zero T
	q.items[q.head] = zero
	q.head++
	left := len(q.items) - q.head
	if left == 0 {
		if cap(q.items) > 64 {
			q.items = nil // a past backlog's array goes
		} else {
			q.items = q.items[:0]
		}
		q.head = 0
	}
	q.mu.Unlock()
	signal(q.room)
	if left > 0 {
		signal(q.more) // for another consumer
	}
	return v, true, false
}

// len returns the backlog.
func (q *queue[T]) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items) - q.head
}

// close marks the end: consumers drain what is left and then see closed.
func (q *queue[T]) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	signal(q.more)
}
