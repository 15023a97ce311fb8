// Command dhtnode runs dhtkit nodes and uses them from the shell.
//
// Try a whole network in one process first: 64 nodes on loopback UDP, a
// table of what lookups cost in each query mode, in about a second:
//
//	go run ./examples/dhtnode testnet
//	go run ./examples/dhtnode testnet --nodes 256 --mode proxied --codec json
//
// Then run nodes of your own. serve prints its ID and addresses, one per
// line ("id HEX", "listening MULTIADDR", then "ready"), and runs until
// SIGINT or SIGTERM:
//
//	dhtnode serve --listen /ip4/127.0.0.1/udp/4001 --identity node1.key --store bbolt:node1.db
//	dhtnode serve --listen /ip4/127.0.0.1/udp/4002 --bootstrap /ip4/127.0.0.1/udp/4001
//
// serve --metrics HOST:PORT serves the node's Prometheus metrics (names
// prefixed dhtkit_, listed in package metrics/prometheus, beside the Go
// runtime's and the process's) at /metrics, and Go's profiles at
// /debug/pprof/, over HTTP on a mux of its own. It prints the URLs on
// stderr ("metrics URL", "profiles URL"); port 0 picks a free port. Bind it
// to loopback or a private network: the profiles show the command line.
//
//	dhtnode serve --listen /ip4/127.0.0.1/udp/4001 --metrics 127.0.0.1:9101
//	curl -s http://127.0.0.1:9101/metrics | grep ^dhtkit_
//	go tool pprof http://127.0.0.1:9101/debug/pprof/heap
//
// put and get join for a moment as clients, which never enter other peers'
// routing tables. get writes the value exactly as stored, so it pipes:
//
//	dhtnode put --bootstrap /ip4/127.0.0.1/udp/4001 greeting 'hello, world'
//	dhtnode get --bootstrap /ip4/127.0.0.1/udp/4002 greeting > greeting.txt
//
// # Part flags
//
// Every subcommand takes the same flags for the parts a node is made of:
//
//	--codec cbor|json|bencode             wire codec (all nodes of a network must agree)
//	--route kademlia|toymap               routing table
//	--mode direct|proxied|direct-reply|mixed[:N]   default query mode
//	--store memory|bbolt:PATH             record store (testnet: PATH is a directory)
//	--listen MULTIADDR                    /ip4|ip6/HOST/udp|tcp/PORT, repeatable
//	--rpc-timeout DURATION                wait per request before its one retry (1s)
//
// # Exit codes
//
// 0: success. 1: the command failed: a key not found, an unreachable
// bootstrap address (reported within about two seconds), a corrupt or
// group-readable identity file, or a testnet mode that read back fewer than
// 90% of its values. 2: a usage error, such as an unknown flag, a bad flag
// value or a missing argument.
package main
