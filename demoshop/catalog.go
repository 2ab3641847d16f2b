package demoshop

import (
	"crypto/subtle"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// product is one thing the demo shop sells. Prices are what the shopper
// pays, consumption tax included (税込), as Japanese shops must show them.
type product struct {
	ID          string
	Name        string
	Summary     string
	Description string
	// Price is the unit price in yen, tax included.
	Price int64
	// TaxRate is 8 (軽減税率: food and drink) or 10 percent. It only
	// feeds the tax breakdown shown to the shopper; kessai takes amounts
	// with tax included and does not itemise tax.
	TaxRate int64
	// Virtual goods are not shipped. The flag is sent with every order
	// line: kessai's order status after payment depends on it (an order
	// of only virtual items may go straight to completed).
	Virtual bool
	// Swatch names the CSS class of the product's picture (no image
	// files: a coloured tile with one character).
	Swatch string
	Glyph  string
}

// catalog is the demo shop's product list, in display order. At least
// two items are virtual, so every order-status rule of kessai can be
// tried from the shop.
var catalog = []product{
	{ID: "sencha", Name: "静岡県産 深蒸し煎茶 100g", Summary: "まろやかな甘みの定番煎茶。",
		Description: "静岡・牧之原台地の一番茶を深蒸しに仕上げました。70℃のお湯で1分ほど。",
		Price:       1296, TaxRate: 8, Swatch: "sw-sencha", Glyph: "茶"},
	{ID: "matcha", Name: "宇治抹茶 30g 缶入り", Summary: "お点前にもお菓子作りにも。",
		Description: "京都・宇治の碾茶を石臼で挽いた抹茶です。開封後は冷蔵庫で保存してください。",
		Price:       2160, TaxRate: 8, Swatch: "sw-matcha", Glyph: "抹"},
	{ID: "yunomi", Name: "有田焼 湯呑み", Summary: "手になじむ白磁の湯呑み。",
		Description: "佐賀・有田の窯元で一つずつ絵付けしています。容量約180ml、食洗機可。",
		Price:       2750, TaxRate: 10, Swatch: "sw-yunomi", Glyph: "器"},
	{ID: "kyusu", Name: "常滑焼 急須", Summary: "朱泥の横手急須。",
		Description: "愛知・常滑の朱泥急須です。ステンレスの茶こし付き、容量約300ml。",
		Price:       6600, TaxRate: 10, Swatch: "sw-kyusu", Glyph: "急"},
	{ID: "tenugui", Name: "注染 手ぬぐい「茶畑」", Summary: "茶畑の柄の綿手ぬぐい。",
		Description: "職人が一枚ずつ染めた注染の手ぬぐいです。約33×90cm、綿100%。",
		Price:       1100, TaxRate: 10, Swatch: "sw-tenugui", Glyph: "布"},
	{ID: "ebook", Name: "電子書籍「はじめての日本茶」", Summary: "PDF・EPUB でお届けするダウンロード商品です。",
		Description: "お茶の種類、淹れ方、産地をやさしく解説した電子書籍（全96ページ）。お支払い後すぐにダウンロードできます。",
		Price:       1320, TaxRate: 10, Virtual: true, Swatch: "sw-ebook", Glyph: "本"},
	{ID: "lesson", Name: "オンライン茶道体験（60分）", Summary: "ビデオ通話で参加する茶道体験です。",
		Description: "先生と一対一で、お茶の点て方と頂き方を学びます。道具がなくても参加できます。日程はご購入後にメールでご案内します。",
		Price:       3300, TaxRate: 10, Virtual: true, Swatch: "sw-lesson", Glyph: "習"},
	{ID: "wallpaper", Name: "デジタル壁紙「四季の茶畑」", Summary: "スマートフォン・PC 用の壁紙4枚セット。",
		Description: "春夏秋冬の茶畑を撮影した壁紙です。お支払い後すぐにダウンロードできます。",
		Price:       330, TaxRate: 10, Virtual: true, Swatch: "sw-wallpaper", Glyph: "景"},
}

// productByID finds a catalog entry.
func productByID(id string) (*product, bool) {
	for i := range catalog {
		if catalog[i].ID == id {
			return &catalog[i], true
		}
	}
	return nil, false
}

// Shipping: a flat fee for anything to be shipped, free above a
// threshold, as most Japanese shops do. Shipping is taxed at 10 %
// whatever is shipped (the reduced rate is for food only).
const (
	shippingFee           = 660
	freeShippingThreshold = 5500
	shippingLineName      = "送料"
)

// customer is one of the demo shop's own accounts. kessai has no shopper
// accounts: the shop logs its customers in and tells kessai who they are
// with customer_id.
type customer struct {
	// ID is sent to kessai as customer_id (A-Z, a-z, 0-9, _ and -).
	ID string
	// Email is the login name.
	Email         string
	LastName      string
	FirstName     string
	LastNameKana  string
	FirstNameKana string
	Phone         string
	// Password is shown on the login page: this is a public demo and
	// visitors need a way in. It is never compared directly.
	Password string
	// Hash is the bcrypt hash of Password, what a real shop would store;
	// logins are checked against it.
	Hash string
}

// Name is the customer's full name in the Japanese order.
func (c *customer) Name() string { return c.LastName + " " + c.FirstName }

// customers are the demo accounts. The hashes were made once with bcrypt
// (cost 10) from the passwords next to them.
var customers = []customer{
	{ID: "demo_cust_001", Email: "taro@example.jp", LastName: "山田", FirstName: "太郎", LastNameKana: "ヤマダ", FirstNameKana: "タロウ",
		Phone: "090-1234-5678", Password: "taro-demo-1", Hash: "$2a$10$DG8FyqpSt7fBBkVMfGDfce9PawWJ.W3BUGEy43y6dZagVu/8nNhtW"},
	{ID: "demo_cust_002", Email: "hanako@example.jp", LastName: "佐藤", FirstName: "花子", LastNameKana: "サトウ", FirstNameKana: "ハナコ",
		Phone: "080-2345-6789", Password: "hanako-demo-2", Hash: "$2a$10$uPvDUtfkoeltwPeDQH.g1.mObLdvZC5uxa080twTBG4ycFwL.NUxi"},
	{ID: "demo_cust_003", Email: "ichiro@example.jp", LastName: "鈴木", FirstName: "一郎", LastNameKana: "スズキ", FirstNameKana: "イチロウ",
		Phone: "070-3456-7890", Password: "ichiro-demo-3", Hash: "$2a$10$P3SB8KvJN6RQ8YVeGPpfu.P0RsWvOMKv3iFiLm/lBH/wRzPysSw2q"},
}

// dummyHash is checked when the e-mail matches no customer, so that an
// unknown address takes as long to refuse as a wrong password and the
// login form does not tell which addresses exist.
const dummyHash = "$2a$10$pTH7tx9VI/6uxrq/l3L4MebLFJ9an7Ze684SfSvmBqgeMrjTnwpeq"

// customerByID finds a demo customer.
func customerByID(id string) (*customer, bool) {
	for i := range customers {
		if customers[i].ID == id {
			return &customers[i], true
		}
	}
	return nil, false
}

// authenticate returns the customer whose e-mail and password match.
func authenticate(email, password string) (*customer, bool) {
	email = strings.ToLower(strings.TrimSpace(email))
	var found *customer
	for i := range customers {
		if subtle.ConstantTimeCompare([]byte(customers[i].Email), []byte(email)) == 1 {
			found = &customers[i]
		}
	}
	hash := dummyHash
	if found != nil {
		hash = found.Hash
	}
	// bcrypt reads at most 72 bytes; a longer password is refused
	// instead of being compared on its prefix.
	if len(password) > 72 {
		password = ""
	}
	ok := bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
	if !ok || found == nil {
		return nil, false
	}
	return found, true
}
