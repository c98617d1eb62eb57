package engine

import (
	"context"
	"time"
)

// takeQuota charges the request to the vendor's quota (engine/quota): the
// last step of gate.Wait, after every wait, so a request whose wait is
// abandoned never holds a slot, and none is sent without one. The slot
// comes from the query's reservation when its context carries one
// (quota.WithSlots), else from the ledger directly.
func (g *gate) takeQuota(ctx context.Context) error {
	if g.quota == nil {
		return nil
	}
	return g.quota.Take(ctx)
}

// waitFree is WaitSend for a request that costs neither budget nor quota
// (a vendor's usage endpoint, quota.Free): the provider's pause and rate
// hold it all the same, and it counts in the rate's window.
func (g *gate) waitFree(ctx context.Context) (func(time.Time), error) {
	return g.waitRate(ctx)
}
