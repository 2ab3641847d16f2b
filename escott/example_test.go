package escott_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"

	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/escott/sim"
)

// startSimulator runs the gateway simulator in-process and returns a
// client for its demo merchant on the test environment. Against the real
// gateway only BaseURL is left out (and the credentials are real ones).
func startSimulator() (*escott.Client, *sim.Server, func()) {
	s, err := sim.New(sim.Config{})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(s)
	c, err := escott.New(escott.Config{
		Merchant: escott.Merchant{
			MerchantID:   sim.DemoMerchant.MerchantID,
			MerchantPass: sim.DemoMerchant.TestPass,
			TenantID:     "0001",
		},
		Environment: escott.Test,
		BaseURL:     srv.URL,
	})
	if err != nil {
		panic(err)
	}
	return c, s, func() { srv.Close(); s.Close() }
}

// A card payment with a one-time token. In production the token comes from
// the shopper's browser (the gateway's token script); here the simulator
// issues it directly.
func ExampleClient_Authorize() {
	c, s, stop := startSimulator()
	defer stop()
	ctx := context.Background()

	token, _ := s.IssueToken(sim.DemoMerchant.MerchantID, "test", sim.DemoCard, "3012", "8888", "")
	res, err := c.Authorize(ctx, escott.AuthRequest{
		Ref:    escott.Ref{MerchantFree1: "000000000001", MerchantFree2: "order-1001"},
		Amount: 1100,
		Token:  token,
	})
	if err != nil {
		fmt.Println("payment failed:", err)
		return
	}
	fmt.Println(res.Codes, res.OperateID(), "handle:", res.Process.ProcessID != "" && res.Process.ProcessPass != "")

	// A declined card: the error carries the gateway's code and the class
	// that says what to do about it.
	token, _ = s.IssueToken(sim.DemoMerchant.MerchantID, "test", "4000000000000556", "3012", "", "")
	_, err = c.Authorize(ctx, escott.AuthRequest{Ref: escott.Ref{MerchantFree1: "000000000002"}, Amount: 1100, Token: token})
	if e, ok := escott.AsError(err); ok {
		ja, _ := escott.ShopperMessage(e.Codes)
		fmt.Println(e.Codes, e.Class(), e.Class().Retryable(), ja)
	}
	// Output:
	// [OK] 1Auth handle: true
	// [G55] issuer_decline false カードのご利用限度額を超えています。
}

// Authorise first, record the sale later with the transaction's handle.
func ExampleClient_Capture() {
	c, s, stop := startSimulator()
	defer stop()
	ctx := context.Background()

	token, _ := s.IssueToken(sim.DemoMerchant.MerchantID, "test", sim.DemoCard, "3012", "8888", "")
	auth, err := c.Authorize(ctx, escott.AuthRequest{Ref: escott.Ref{MerchantFree1: "000000000003"}, Amount: 5000, Token: token})
	if err != nil {
		fmt.Println(err)
		return
	}
	capt, err := c.Capture(ctx, escott.FollowUp{Ref: escott.Ref{MerchantFree1: "000000000003"}, Process: auth.Process})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(capt.Codes, capt.OperateID(), "same handle:", capt.Process == auth.Process, "sales date:", capt.SalesDate != "")

	// A second capture is refused: the transaction is no longer authorised.
	_, err = c.Capture(ctx, escott.FollowUp{Process: auth.Process})
	if e, ok := escott.AsError(err); ok {
		fmt.Println(e.Codes, e.Class())
	}
	// Output:
	// [OK] 1Capture same handle: true sales date: true
	// [K14] transaction_state
}

// Register a convenience-store / Pay-easy payment and send the shopper to
// the collection agent's page.
func ExampleClient_RegisterCollection() {
	c, _, stop := startSimulator()
	defer stop()

	limit, _ := escott.PayLimitFromDueDays(c.Now(), 7)
	res, err := c.RegisterCollection(context.Background(), escott.CollectionRequest{
		Ref:         escott.Ref{MerchantFree1: "000000000004", MerchantFree2: "order-1002"},
		Amount:      5830,
		PayLimit:    limit,
		NameKanji:   "山田太郎",
		NameKana:    "ヤマダタロウ",
		TelNo:       "0312345678",
		ShouhinName: "テスト商品",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	u, _ := url.Parse(c.PaymentURL(res.FreeArea, false))
	fmt.Println(res.Codes, "payment code:", res.FreeArea != "")
	fmt.Println(u.Path, u.Query().Get("code") == res.FreeArea, "rkbn="+u.Query().Get("rkbn"))
	// Output:
	// [OK] payment code: true
	// /JLPCT/JLPcon true rkbn=1
}

// EncryptValue, the AES payload of the browser hand-offs: encryption with
// the merchant's fixed key and IV is deterministic, and decryption gives
// the fields back.
func ExampleCipher() {
	ci, err := escott.NewCipher("DEMOAESKEY000001", "DEMOAESIV0000001")
	if err != nil {
		fmt.Println(err)
		return
	}
	ev := ci.Encrypt(escott.Params{{Key: "OperateId", Value: "3Secure"}, {Key: "MerchantFree1", Value: "000000000001"}, {Key: "Amount", Value: "1100"}})
	fmt.Println(ev)
	fields, err := ci.Decrypt(ev)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(fields.Get("OperateId"), fields.Get("MerchantFree1"), fields.Get("Amount"))
	_, err = ci.Decrypt("not an EncryptValue")
	fmt.Println(err)
	// Output:
	// qmgOWQr5FTWUx+16Q27yKm47cNY2n/PhOZ6mqZMU+RbVolXfXSf5dsQmya7tbn1wxvETJ6qEj3I+1GPv8bgn/w==
	// 3Secure 000000000001 1100
	// escott: EncryptValue cannot be decrypted
}

// Response codes: the catalogue entry, and the class that decides the
// outcome of a multi-code answer.
func ExampleLookupCode() {
	c := escott.LookupCode("G55")
	fmt.Println(c.Code, c.Class, c.En)
	fmt.Println(escott.LookupCode("K12").Class, escott.LookupCode("C03").Class.Retryable())
	fmt.Println(escott.ClassOf([]string{"K20", "G55"}), escott.DescribeCodes([]string{"K20", "G55"}, "en"))
	fmt.Println(escott.LookupCode("Z99").Class)
	// Output:
	// G55 issuer_decline Credit limit exceeded
	// transaction_state true
	// issuer_decline K20 : CardNo (card number) is invalid, G55 : Credit limit exceeded
	// unknown
}
