package escott

// OperateID is the gateway's operation name (the OperateId parameter).
type OperateID string

// Server-to-server operations and the operations that travel inside an
// EncryptValue hand-off. The Japanese labels are the ones merchants know
// from the e-SCOTT console and the plugins' history table.
const (
	OpTokenSearch OperateID = "1TokenSearch" // トークン照会
	OpAuth        OperateID = "1Auth"        // 与信
	OpGathering   OperateID = "1Gathering"   // 与信売上計上
	OpCapture     OperateID = "1Capture"     // 売上計上
	OpChange      OperateID = "1Change"      // 利用額変更
	OpDelete      OperateID = "1Delete"      // 取消
	OpReAuth      OperateID = "1ReAuth"      // 再オーソリ
	OpSearch      OperateID = "1Search"      // 取引参照
	OpCheck       OperateID = "1Check"       // カードチェック
	OpSecure      OperateID = "3Secure"      // 3Dセキュア認証 (E5 only)
	OpMemAdd      OperateID = "4MemAdd"      // 会員新規
	OpMemChg      OperateID = "4MemChg"      // 会員更新
	OpMemRefM     OperateID = "4MemRefM"     // 会員参照
	OpMemInval    OperateID = "4MemInval"    // 会員無効
	OpMemUnInval  OperateID = "4MemUnInval"  // 会員無効解除
	OpMemDel      OperateID = "4MemDel"      // 会員削除
	OpCvsAdd      OperateID = "2Add"         // 登録
	OpCvsChg      OperateID = "2Chg"         // 変更
	OpCvsDel      OperateID = "2Del"         // 削除
	OpCvsRef      OperateID = "2Ref"         // 参照
)

// Endpoint identifies one of the gateway's server-to-server endpoints.
type Endpoint int

// The server-to-server endpoints (spec §2, E1–E4).
const (
	EndpointCard       Endpoint = iota + 1 // E1 /online/aut/OAUT002.do
	EndpointMember                         // E2 /online/crp/OCRP005.do
	EndpointToken                          // E3 /online/atn/OATN005.do
	EndpointCollection                     // E4 /online/cnv/OCNV005.do
)

// Paths of every gateway surface, identical on the test and production hosts.
const (
	PathCard       = "/online/aut/OAUT002.do"
	PathMember     = "/online/crp/OCRP005.do"
	PathToken      = "/online/atn/OATN005.do"
	PathCollection = "/online/cnv/OCNV005.do"
	PathThreeDS    = "/online/tds/OTDS010.do"          // E5, browser POST
	PathLink       = "/euser/snp/SSNP005ReferStart.do" // E6, browser GET
	PathTokenJS    = "/euser/stn/CdGetJavaScript.do"   // E7, <script src>
	PathAgentTest  = "/JLPCT/JLPcon"                   // E8 on the test environment
	PathAgentProd  = "/JLP/JLPcon"                     // E8 in production
)

// Path returns the URL path of the endpoint.
func (e Endpoint) Path() string {
	switch e {
	case EndpointCard:
		return PathCard
	case EndpointMember:
		return PathMember
	case EndpointToken:
		return PathToken
	case EndpointCollection:
		return PathCollection
	}
	return ""
}

// Endpoint returns the server-to-server endpoint an operation is sent to,
// or 0 for operations that only travel inside a browser hand-off (3Secure).
func (op OperateID) Endpoint() Endpoint {
	switch op {
	case OpAuth, OpGathering, OpCapture, OpChange, OpDelete, OpReAuth, OpSearch, OpCheck:
		return EndpointCard
	case OpMemAdd, OpMemChg, OpMemRefM, OpMemInval, OpMemUnInval, OpMemDel:
		return EndpointMember
	case OpTokenSearch:
		return EndpointToken
	case OpCvsAdd, OpCvsChg, OpCvsDel, OpCvsRef:
		return EndpointCollection
	}
	return 0
}

// UsesTenant reports whether the operation carries TenantId. Collection
// (2xxx) calls do not.
func (op OperateID) UsesTenant() bool {
	return op.Endpoint() != EndpointCollection
}

// Label returns the Japanese label shown in history tables (処理区分).
// The pseudo operations "paid" and "expired" are kessai's own history rows.
func (op OperateID) Label() string {
	switch op {
	case OpTokenSearch:
		return "トークン照会"
	case OpAuth:
		return "与信"
	case OpGathering:
		return "与信売上計上"
	case OpCapture:
		return "売上計上"
	case OpChange:
		return "利用額変更"
	case OpDelete:
		return "取消"
	case OpReAuth:
		return "再オーソリ"
	case OpSearch:
		return "取引参照"
	case OpCheck:
		return "カードチェック"
	case OpSecure:
		return "3Dセキュア認証"
	case OpMemAdd:
		return "会員新規"
	case OpMemChg:
		return "会員更新"
	case OpMemRefM:
		return "会員参照"
	case OpMemInval:
		return "会員無効"
	case OpMemUnInval:
		return "会員無効解除"
	case OpMemDel:
		return "会員削除"
	case OpCvsAdd:
		return "登録"
	case OpCvsChg:
		return "変更"
	case OpCvsDel:
		return "削除"
	case OpCvsRef:
		return "参照"
	case "paid":
		return "入金"
	case "expired":
		return "期限切れ"
	}
	return string(op)
}

// Environment selects the gateway's test or production hosts.
type Environment int

// The two real environments. A simulator is addressed through a base URL
// override on either.
const (
	Test Environment = iota + 1
	Production
)

// String returns "test" or "production".
func (e Environment) String() string {
	switch e {
	case Test:
		return "test"
	case Production:
		return "production"
	}
	return "unknown"
}

// BaseURL is the scheme and host of the environment's e-SCOTT servers.
func (e Environment) BaseURL() string {
	if e == Production {
		return "https://www.e-scott.jp"
	}
	return "https://www.test.e-scott.jp"
}

// AgentURL is the collection agent's payment page (E8) of the environment.
func (e Environment) AgentURL() string {
	if e == Production {
		return "https://link.kessai.info" + PathAgentProd
	}
	return "https://link.kessai.info" + PathAgentTest
}
