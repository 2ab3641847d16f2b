// Package escott speaks the wire protocol of Sony Payment Services' e-SCOTT
// Smart gateway: typed operations for the server-to-server endpoints (card
// transactions, card members, token reference and online payment
// collection), the AES "EncryptValue" used by the browser hand-offs (3-D
// Secure and the external link page), the response-code catalogue with
// Japanese and English messages, and the pure rules that surround them
// (installment PayTypes per card brand, JST dates, identifier generation).
//
// The package depends on nothing else in kessai and can be imported on its
// own. It never logs by itself; callers that want a wire log install a
// [LogFunc], which only ever sees masked parameters.
//
// The gateway answers every call with HTTP 200 and a form-encoded body; the
// outcome is in ResponseCd. A call that got no usable answer (transport
// failure, empty body, body without ResponseCd) is reported with the
// client-side pseudo code "NG", exactly as the merchant plugins do, and the
// returned [*Error] says whether the request may nevertheless have reached
// the gateway, so a payment is never retried blindly.
package escott
