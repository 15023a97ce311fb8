// Package conformance holds the exported suites that prove an implementation
// of a dhtkit plug-in point, built-in or not.
//
// Each suite comes in two forms:
//
//	TestX(t, factory)          runs every rule as a subtest and fails the test
//	                           on each rule broken
//	CheckX(t, factory) []error runs the same rules and returns the violations,
//	                           each a *Violation naming the rule, so that a
//	                           suite can itself be tested against broken parts
//
// The factory receives the subtest's *testing.T (for t.TempDir and t.Cleanup)
// and is called afresh for every rule: no instance is shared between rules.
// Every rule runs under a watchdog (30 s, shortened to end before the
// test's own deadline, t.Deadline, so that a hung rule is reported by name
// rather than by go test's timeout) and with seeded randomness. A failure
// message names the rule, the seed and the command that replays it: the
// environment variable DHTKIT_CONFORMANCE_SEED (SeedEnv) fixes the seed of
// every rule. A rule that does not apply to an instance (an optional
// interface or capability it lacks, an order the suite cannot check) is
// skipped by TestX with t.Skip and the reason, never passed, and left out
// by CheckX.
//
// A suite's optional options say what the interface cannot show:
// CodecOptions.Raw writes frames Marshal refuses, so that the codec suite
// can hand Unmarshal what a hostile peer would; StoreOptions.Durable
// reopens a durable store; TableOptions.Compare states a table's order.
//
// Suites: TestCodec (msgenc.Codec), TestStore (kvstore.Store), TestTransport
// (transport.Transport; TransportOptions.RawSend lets it put frames over
// the limit on the wire), TestTable (route.Table), TestPolicy (trust.Policy,
// with trust.Refresher and trust.Leveler), and TestNetwork, which
// builds whole networks of nodes from a caller's NetworkHarness and checks
// bootstrap, lookups and put/get in every query mode, crashes, loss,
// partitions, proxied privacy, goroutine hygiene, and signed values:
// round trips of every kind, sequence numbers, compare-and-swap, forged
// stores refused, forged answers discarded and republishing that keeps
// signatures. NetworkMem is a ready harness over the simulated mem network;
// NetworkRecorder, NetworkRawPeer, NewNetworkForger and NetworkClock help
// any other harness offer the optional capabilities the rules use.
//
// CONTRACTS.md maps every sentence of the interface docs to the rules
// that check it (Rules lists them by suite); a test keeps the table true
// as docs and rules change. It also records the mutation scores of the
// built-in parts under their suites alone (mutation/run.sh).
//
// BenchmarkCodec and BenchmarkTransportRoundTrip measure a codec or a
// transport the way the built-in parts are measured, so figures compare.
package conformance
