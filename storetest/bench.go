package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/kessai/kessai"
)

// BenchCreateOrder measures CreateOrder, one complete order per operation
// (a typical checkout's first write).
func BenchCreateOrder(b *testing.B, s kessai.Store) {
	shop := newShop()
	ctx := b.Context()
	i := 0
	for b.Loop() {
		o := newOrder(shop, base.Add(time.Duration(i)*time.Millisecond))
		o.ShopOrderID = fmt.Sprintf("bench-%d", i)
		i++
		if err := s.CreateOrder(ctx, o); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchBeginIdempotency measures BeginIdempotency: "new" with a fresh key
// per operation (the path of every mutating API call), "replay" with a
// key that exists (a client retrying).
func BenchBeginIdempotency(b *testing.B, s kessai.Store) {
	shop := newShop()
	b.Run("new", func(b *testing.B) {
		ctx := b.Context()
		i := 0
		for b.Loop() {
			i++
			if _, err := s.BeginIdempotency(ctx, newRecord(shop, fmt.Sprintf("bench-key-%d", i), "fp", base)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("replay", func(b *testing.B) {
		ctx := b.Context()
		if _, err := s.BeginIdempotency(ctx, newRecord(shop, "bench-replay", "fp", base)); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := s.BeginIdempotency(ctx, newRecord(shop, "bench-replay", "fp", base)); err == nil {
				b.Fatal("replay began a new record")
			}
		}
	})
}
