package engine

import (
	"time"

	"github.com/reconform/reconform/schema"
)

// EventType names what an Event reports.
type EventType string

const (
	// EventInstanceQueued: an instance became known (seed, pivot or
	// dependent query) and waits to run.
	EventInstanceQueued   EventType = "instance_queued"
	EventInstanceStarted  EventType = "instance_started"
	EventInstanceFinished EventType = "instance_finished"
	EventFinding          EventType = "finding"
	EventSummary          EventType = "summary"
	EventWarning          EventType = "warning"
)

// Event is one thing that happened during apply, for progress displays and
// -json output. Events are delivered one at a time, in order, from a
// single goroutine; the callback must not block for long.
type Event struct {
	Type     EventType       `json:"type"`
	Time     time.Time       `json:"time"`
	Instance *InstanceEvent  `json:"instance,omitempty"`
	Finding  *schema.Finding `json:"finding,omitempty"`
	Summary  *Summary        `json:"summary,omitempty"`
	Message  string          `json:"message,omitempty"`
}

// InstanceEvent describes an instance in an event.
type InstanceEvent struct {
	Key      string                `json:"key"`
	Block    string                `json:"block"`
	Provider string                `json:"provider"`
	Op       schema.Op             `json:"op"`
	Subject  string                `json:"subject"`
	Depth    int                   `json:"depth"`
	Active   bool                  `json:"active,omitempty"`
	Status   schema.InstanceStatus `json:"status,omitempty"`
	Reason   string                `json:"reason,omitempty"`
	Findings int                   `json:"findings,omitempty"`
	Requests int                   `json:"requests,omitempty"`
}

// Summary totals a run.
type Summary struct {
	Instances   int                           `json:"instances"`
	ByStatus    map[schema.InstanceStatus]int `json:"by_status"`
	Findings    int                           `json:"findings"`
	Requests    int                           `json:"requests"`
	Duration    time.Duration                 `json:"duration"`
	Interrupted bool                          `json:"interrupted,omitempty"`
}

// Summarize totals a run result.
func Summarize(r *schema.RunResult) Summary {
	s := Summary{Instances: len(r.Instances), ByStatus: map[schema.InstanceStatus]int{}, Findings: len(r.Findings), Interrupted: r.Interrupted}
	for _, in := range r.Instances {
		s.ByStatus[in.Status]++
		s.Requests += in.Requests
	}
	if !r.FinishedAt.IsZero() {
		s.Duration = r.FinishedAt.Sub(r.StartedAt)
	}
	return s
}
