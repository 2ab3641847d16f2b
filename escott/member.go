package escott

import (
	"context"
	"errors"
)

func (m Member) check() error {
	if m.KaiinID == "" || m.KaiinPass == "" {
		return errors.New("escott: KaiinId and KaiinPass are required")
	}
	return nil
}

func (c *Client) memberCall(ctx context.Context, op OperateID, ref Ref, m Member, token string) (*Response, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	var p Params
	ref.apply(&p)
	m.apply(&p)
	p.SetIf("Token", token)
	return c.Do(ctx, op, p)
}

// AddMember is 4MemAdd: registers the card behind a one-time token under a
// new member id and password (generate them with NewKaiinID and
// NewKaiinPass). The token is consumed.
func (c *Client) AddMember(ctx context.Context, ref Ref, m Member, token string) (*Response, error) {
	if token == "" {
		return nil, errors.New("escott: token is required")
	}
	return c.memberCall(ctx, OpMemAdd, ref, m, token)
}

// ChangeMember is 4MemChg: replaces the member's card with the card behind
// a one-time token. The token is consumed.
func (c *Client) ChangeMember(ctx context.Context, ref Ref, m Member, token string) (*Response, error) {
	if token == "" {
		return nil, errors.New("escott: token is required")
	}
	return c.memberCall(ctx, OpMemChg, ref, m, token)
}

// MemberInfo is the answer to 4MemRefM.
type MemberInfo struct {
	*Response
	// CardNo is masked by the gateway: the first 4 and last 4 digits are
	// real (enough to pick the installment rules and to show "ending in").
	CardNo string
	// CardExp is YYMM.
	CardExp string
	// Status is KaiinStatus: "0" valid; other values mean the member is
	// invalidated or locked.
	Status     string
	EnableDate string
}

// Last4 returns the last four digits of the masked card number.
func (m *MemberInfo) Last4() string {
	if len(m.CardNo) < 4 {
		return ""
	}
	return m.CardNo[len(m.CardNo)-4:]
}

// Brand returns the installment brand group of the stored card.
func (m *MemberInfo) Brand() BrandGroup { return BrandGroupOf(m.CardNo) }

// ReferMember is 4MemRefM: the masked card of a member.
func (c *Client) ReferMember(ctx context.Context, ref Ref, m Member) (*MemberInfo, error) {
	resp, err := c.memberCall(ctx, OpMemRefM, ref, m, "")
	if resp == nil {
		return nil, err
	}
	return &MemberInfo{Response: resp, CardNo: resp.Get("CardNo"), CardExp: resp.Get("CardExp"), Status: resp.Get("KaiinStatus"), EnableDate: resp.Get("KaiinEnableDate")}, err
}

// InvalidateMember is 4MemInval: the member can no longer be used; it is
// the required first step of a deletion.
func (c *Client) InvalidateMember(ctx context.Context, ref Ref, m Member) (*Response, error) {
	return c.memberCall(ctx, OpMemInval, ref, m, "")
}

// RevalidateMember is 4MemUnInval: makes an invalidated member usable again.
func (c *Client) RevalidateMember(ctx context.Context, ref Ref, m Member) (*Response, error) {
	return c.memberCall(ctx, OpMemUnInval, ref, m, "")
}

// DeleteMember is 4MemDel on an already invalidated member.
func (c *Client) DeleteMember(ctx context.Context, ref Ref, m Member) (*Response, error) {
	return c.memberCall(ctx, OpMemDel, ref, m, "")
}

// RemoveMember runs the deletion sequence of the plugins: 4MemInval, then
// 4MemDel with the same parameters only if the first succeeded. A member
// that is already invalid (K75 on invalidation) goes straight to deletion.
func (c *Client) RemoveMember(ctx context.Context, ref Ref, m Member) (*Response, error) {
	resp, err := c.InvalidateMember(ctx, ref, m)
	if err != nil {
		if e, ok := AsError(err); !ok || !e.HasCode("K75") {
			return resp, err
		}
	}
	return c.DeleteMember(ctx, ref, m)
}
