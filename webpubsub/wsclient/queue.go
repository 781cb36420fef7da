package wsclient

import "sync"

// queue is a bounded FIFO whose memory follows its backlog: an idle
// client holds no buffer (a buffered channel of ReceiveQueue messages
// would hold ~90 KiB per client from the start), and a busy one takes
// fixed-size segments from a pool shared by every client and gives them
// back as they empty, so that a stream of messages allocates no queue
// memory at all.
//
// A side touches a channel only when the other side waits: a push to a
// queue whose consumer is busy, or a pop from a queue whose producer is
// not blocked on a full queue, costs one mutex and no wake-up.
type queue[T any] struct {
	mu         sync.Mutex
	head, tail *segment[T] // nil when empty
	hi, ti     int         // next to pop in head, next free slot in tail
	n          int
	limit      int
	segments   *sync.Pool // of *segment[T]
	closed     bool
	consumers  int           // waiting in pop
	producers  int           // waiting in push for room
	more       chan struct{} // signalled when an item or the close arrives and a consumer waits
	room       chan struct{} // signalled when an item left and a producer waits
}

// segmentLen is the number of items of a segment (2.8 KiB of messages).
const segmentLen = 32

type segment[T any] struct {
	items [segmentLen]T
	next  *segment[T]
}

// The segment pools, one per item type.
var (
	messageSegments = &sync.Pool{New: func() any { return new(segment[Message]) }}
	itemSegments    = &sync.Pool{New: func() any { return new(segment[item]) }}
)

func newQueue[T any](limit int, segments *sync.Pool) *queue[T] {
	return &queue[T]{limit: limit, segments: segments, more: make(chan struct{}, 1), room: make(chan struct{}, 1)}
}

// appendLocked adds v at the tail.
func (q *queue[T]) appendLocked(v T) {
	if q.tail == nil || q.ti == segmentLen {
		s := q.segments.Get().(*segment[T])
		if q.tail == nil {
			q.head, q.hi = s, 0
		} else {
			q.tail.next = s
		}
		q.tail, q.ti = s, 0
	}
	q.tail.items[q.ti] = v
	q.ti++
	q.n++
}

// takeLocked removes the head item; the queue is not empty.
func (q *queue[T]) takeLocked() T {
	var zero T
	s := q.head
	v := s.items[q.hi]
	s.items[q.hi] = zero // nothing the consumer took stays reachable
	q.hi++
	q.n--
	if q.n == 0 || q.hi == segmentLen {
		next := s.next
		if q.n == 0 {
			q.head, q.tail, next = nil, nil, nil
		}
		s.next = nil
		q.segments.Put(s)
		q.head, q.hi = next, 0
	}
	return v
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// push appends v, waiting while the queue is full; it reports false when
// stop closed first. With lazy, a waiting consumer is not woken now: the
// producer promises to call wake before it next blocks (push itself does
// before it waits for room), so that a burst of items costs one wake-up.
func (q *queue[T]) push(v T, stop <-chan struct{}, lazy bool) bool {
	q.mu.Lock()
	for q.n >= q.limit {
		q.producers++
		wake := q.consumers > 0 // items pushed lazily
		q.mu.Unlock()
		if wake {
			signal(q.more)
		}
		select {
		case <-q.room:
		case <-stop:
			q.mu.Lock()
			q.producers--
			q.mu.Unlock()
			return false
		}
		q.mu.Lock()
		q.producers--
	}
	q.appendLocked(v)
	wakeConsumer := q.consumers > 0 && !lazy
	// One signal wakes one producer: pass the turn on while room is left.
	wakeProducer := q.producers > 0 && q.n < q.limit
	q.mu.Unlock()
	if wakeConsumer {
		signal(q.more)
	}
	if wakeProducer {
		signal(q.room)
	}
	return true
}

// wake wakes a waiting consumer if items wait: the end of a burst of lazy
// pushes.
func (q *queue[T]) wake() {
	q.mu.Lock()
	w := q.consumers > 0 && q.n > 0
	q.mu.Unlock()
	if w {
		signal(q.more)
	}
}

// The outcomes of pop.
const (
	popped  = iota // an item was taken
	popDone        // done closed first
	popStop        // stop closed first (the queue may still hold items)
	popEnd         // the queue is closed and empty
)

// pop takes the first item, waiting for one until done or stop closes
// (either may be nil) or the queue is closed and drained.
func (q *queue[T]) pop(done, stop <-chan struct{}) (T, int) {
	for {
		v, ok, closed := q.tryPop(true)
		switch {
		case ok:
			return v, popped
		case closed:
			return v, popEnd
		}
		select {
		case <-q.more:
			q.mu.Lock()
			q.consumers--
			q.mu.Unlock()
		case <-done:
			q.leave()
			return v, popDone
		case <-stop:
			q.leave()
			return v, popStop
		}
	}
}

// leave undoes a waiting consumer's registration, handing on a signal it
// may have been sent to another waiting consumer.
func (q *queue[T]) leave() {
	q.mu.Lock()
	q.consumers--
	pass := q.consumers > 0 && q.n > 0
	q.mu.Unlock()
	if pass {
		signal(q.more)
	}
}

// tryPop takes the first item, if any; closed reports a closed, empty
// queue. With wait, a caller that gets neither is registered as a waiting
// consumer and must receive from q.more or call leave.
func (q *queue[T]) tryPop(wait bool) (v T, ok, closed bool) {
	q.mu.Lock()
	if q.n == 0 {
		closed = q.closed
		if wait && !closed {
			q.consumers++
		}
		pass := closed && q.consumers > 0 // the close signal wakes one consumer
		q.mu.Unlock()
		if pass {
			signal(q.more)
		}
		return v, false, closed
	}
	v = q.takeLocked()
	left := q.n
	wakeProducer := q.producers > 0
	wakeConsumer := left > 0 && q.consumers > 0 // one signal wakes one consumer
	q.mu.Unlock()
	if wakeProducer {
		signal(q.room)
	}
	if wakeConsumer {
		signal(q.more)
	}
	return v, true, false
}

// len returns the backlog.
func (q *queue[T]) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}

// close marks the end: consumers drain what is left and then see closed.
func (q *queue[T]) close() {
	q.mu.Lock()
	q.closed = true
	wake := q.consumers > 0
	q.mu.Unlock()
	if wake {
		signal(q.more)
	}
}
