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
//	dhtnode serve --listen /ip4/127.0.0.1/udp/4001 --identity node1.key --store bbolt:node1
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
// routing tables. get writes the value exactly as stored, so it pipes (on
// a terminal it adds a newline when the value has none). A KEY is taken as
// written, "-" included; only put's VALUE reads stdin on "-":
//
//	dhtnode put --bootstrap /ip4/127.0.0.1/udp/4001 greeting 'hello, world'
//	dhtnode get --bootstrap /ip4/127.0.0.1/udp/4002 greeting > greeting.txt
//
// # Kinds of value
//
// Every value is verified by every replica that stores it and by every
// reader. A VALUE of "-" is read from stdin. A value holds at most 512 KiB;
// over UDP, less than 64 KiB (one datagram).
//
//	dhtnode put --identity me.key KEY VALUE        plain: signed; one value per publisher under KEY
//	dhtnode get KEY                                the newest of them
//	dhtnode get --publisher PUBKEY KEY             one publisher's
//	dhtnode get --all KEY                          each, after "publisher PUBKEY seq N bytes L"
//	dhtnode put --immutable VALUE                  under the hash of VALUE; prints that key (HEXKEY)
//	dhtnode get --immutable HEXKEY
//	dhtnode put --mutable --identity me.key [--salt S] [--seq N] [--cas N] VALUE
//	                                               the key's value under salt S; prints the sequence
//	                                               number used (default: one more than held)
//	dhtnode get --mutable --publisher PUBKEY [--salt S] [--quorum Q]
//	                                               prints the value; its sequence number on stderr
//
// --identity FILE is the publisher's key, as it is serve's node key: read
// from FILE, or generated and saved there (mode 0600) when FILE does not
// exist. Without it, put signs with a fresh key each run: its plain values
// are each another publisher's (a key holds at most 8 by default), and
// --mutable is refused. 'dhtnode id --identity
// FILE' prints the key's peer ID and the PUBKEY that get --publisher takes:
//
//	$ dhtnode id --identity me.key
//	id 6f1c…
//	publickey 9a0e…
//	$ echo online | dhtnode put --bootstrap ADDR --mutable --identity me.key --salt status -
//	1
//	$ dhtnode get --bootstrap ADDR --mutable --publisher 9a0e… --salt status
//	online
//	seq 1
//
// # Flags
//
// A flag means the same in every subcommand that takes it, and in
// filemanager's, and each subcommand takes only the flags that mean
// something to it. Help, synopses and messages write flags --name (Go's
// flag package also accepts -name). Every subcommand that builds a node
// takes the part flags:
//
//	--codec cbor|json|bencode             wire codec (all nodes of a network must agree)
//	--mode direct|proxied|direct-reply|mixed[:N]   default query mode, N from 1 to 255
//	--listen MULTIADDR                    /ip4|ip6/HOST/udp|tcp/PORT, repeatable
//	--rpc-timeout DURATION                the most a request waits before its one resend
//	                                      (1s: node.DefaultRPCTimeout)
//	--verbose                             log the node's activity to stderr
//
// serve and testnet run full nodes, which hold other peers in their tables
// and keep their values, and add:
//
//	--route kademlia|toymap|trustorder    routing table
//	--store memory|bbolt:DIR              record store; DIR is a directory, made if
//	                                      missing, with a file per node: serve's
//	                                      DIR/node.db, testnet's DIR/node-0000.db ...
//
// put, get, endorse and revoke are clients, which enter no one's table and
// keep no one's values, so they take neither; they add --bootstrap
// MULTIADDR (required) and --timeout DURATION (10s). --identity FILE is
// taken where a key acts: serve, put, endorse, revoke and id.
//
// serve and the clients (put, get, endorse, revoke) also take --k N, the
// replication factor and bucket size (default 20): a put stores at the N
// peers closest to the key. Every node of a network should use the same.
//
// # Exit codes
//
// 0: success. 1: the command failed: a key not found, an unreachable
// bootstrap address (reported within about two seconds by serve, four by a
// client, which tries twice), a corrupt or group-readable identity file, a
// value too large, a put refused because a replica holds a newer version
// (the message names its sequence number), or a testnet mode that read
// back fewer than 90% of its values. 2: a usage error, such as an unknown
// flag, a bad flag value, a missing argument or flags that do not go
// together.
package main
