// Package collection holds the pure rules of online payment collection
// (オンライン収納代行: convenience store, Pay-easy, e-money), the parts of the
// flow that need no gateway and no database:
//
//   - the fields of a 2Add registration built from an order: kanji and kana
//     names, phone number and product name (spec §5.13, §10.2; features
//     CVS-02, CVS-03; design A-05), with the width conversions the gateway
//     expects (spec §3.4);
//   - the checks a shopper's billing identity must pass before a
//     registration is attempted (CVS-02), worded in Japanese and English;
//   - the settlement fee line (決済手数料), added to an order once however
//     often the order is retried (CVS-04, design A-04);
//   - the payment details shown to the shopper and the ready-made text for
//     the shop's e-mails (CVS-08, design A-06);
//   - due dates and expiry (spec §10.3, CVS-05, CVS-11, design A-07).
//
// Nothing here performs I/O or reads a clock: the current time is always a
// parameter (design principle 5), so every rule is testable around JST
// midnight and month ends. The flows that call the gateway live elsewhere
// and use these functions.
package collection
