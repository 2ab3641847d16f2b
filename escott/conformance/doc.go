// Package conformance holds the client ↔ simulator conformance suite.
package conformance
