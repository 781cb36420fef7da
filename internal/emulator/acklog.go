package emulator

import "slices"

// maxAckIDs is how many ackIds of successful requests a connection
// remembers for deduplication.
const maxAckIDs = 8192

// ackLog remembers the ackIds of a connection's last maxAckIDs successful
// requests, so that a retry with one of them gets a Duplicate ack instead
// of running again (the protocol's idempotent publish: clients resend with
// the same ackId when an ack does not come, within seconds). An id older
// than that window runs again. Memory is at most 8 bytes per remembered
// id (64 KiB per connection), and a connection that never uses ackIds
// pays nothing.
//
// Clients number their requests upwards (the JavaScript and Go clients
// count from 1), so a new id is nearly always above every remembered one
// and is known to be new at once; only a retry or an id out of order is
// looked up among the remembered ones (linear, at most maxAckIDs
// comparisons).
type ackLog struct {
	ids  []uint64 // ring of remembered ids once full
	next int      // the slot the next id overwrites once full
	max  uint64   // the largest id ever recorded
	used bool     // max is set
}

// seen reports whether id is one of the remembered ids.
func (l *ackLog) seen(id uint64) bool {
	if !l.used || id > l.max {
		return false
	}
	return slices.Contains(l.ids, id)
}

// record remembers id, forgetting the oldest one when the log is full.
func (l *ackLog) record(id uint64) {
	if len(l.ids) < maxAckIDs {
		if len(l.ids) == cap(l.ids) { // grow by doubling, to exactly maxAckIDs
			l.ids = append(make([]uint64, 0, min(max(2*cap(l.ids), 16), maxAckIDs)), l.ids...)
		}
		l.ids = append(l.ids, id)
	} else {
		l.ids[l.next] = id
		l.next = (l.next + 1) % maxAckIDs
	}
	if !l.used || id > l.max {
		l.max, l.used = id, true
	}
}
