package service

import (
	"context"

	"github.com/kessai/kessai"
)

var errPaymentNotFound = notFound("payment", "決済が見つかりません。", "No such payment.")

// GetPayment returns one payment of the shop.
func (s *Service) GetPayment(ctx context.Context, shopID, id string) (*kessai.Payment, error) {
	if !plausibleID(id) {
		return nil, errPaymentNotFound
	}
	p, err := s.store.GetPayment(ctx, shopID, id)
	if err != nil {
		return nil, storeErr(err, errPaymentNotFound)
	}
	return p, nil
}

// ListPayments lists the payments of an order, oldest first. The order
// must exist: an unknown order is 404, not an empty list.
func (s *Service) ListPayments(ctx context.Context, shopID, orderID string) ([]kessai.Payment, error) {
	if _, err := s.GetOrder(ctx, shopID, orderID); err != nil {
		return nil, err
	}
	ps, err := s.store.ListPayments(ctx, shopID, orderID)
	if err != nil {
		return nil, storeErr(err, nil)
	}
	return nonNil(ps), nil
}

// ListHistory returns the operation history of a payment, oldest first
// (the admin history table: 処理日時 / 処理連番 / 処理区分 / 処理結果).
func (s *Service) ListHistory(ctx context.Context, shopID, paymentID string) ([]kessai.HistoryEntry, error) {
	if _, err := s.GetPayment(ctx, shopID, paymentID); err != nil {
		return nil, err
	}
	hs, err := s.store.ListHistory(ctx, shopID, paymentID)
	if err != nil {
		return nil, storeErr(err, nil)
	}
	return nonNil(hs), nil
}

// ListAttempts returns the gateway attempts of a payment.
func (s *Service) ListAttempts(ctx context.Context, shopID, paymentID string) ([]kessai.Attempt, error) {
	if _, err := s.GetPayment(ctx, shopID, paymentID); err != nil {
		return nil, err
	}
	as, err := s.store.ListAttempts(ctx, shopID, paymentID)
	if err != nil {
		return nil, storeErr(err, nil)
	}
	return nonNil(as), nil
}

// PaymentDetail is a payment with its history and attempts, read together.
type PaymentDetail struct {
	Payment  *kessai.Payment
	History  []kessai.HistoryEntry
	Attempts []kessai.Attempt
}

// GetPaymentDetail returns a payment with its history and attempts.
func (s *Service) GetPaymentDetail(ctx context.Context, shopID, id string) (*PaymentDetail, error) {
	p, err := s.GetPayment(ctx, shopID, id)
	if err != nil {
		return nil, err
	}
	hs, err := s.store.ListHistory(ctx, shopID, id)
	if err != nil {
		return nil, storeErr(err, nil)
	}
	as, err := s.store.ListAttempts(ctx, shopID, id)
	if err != nil {
		return nil, storeErr(err, nil)
	}
	return &PaymentDetail{Payment: p, History: nonNil(hs), Attempts: nonNil(as)}, nil
}
