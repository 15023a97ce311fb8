// Command filemanager shares files and directories over a dhtkit DHT:
// chunked, verified, resumable, with progress.
//
// The network is any set of ordinary 'dhtnode serve' processes; filemanager
// joins it as a client (it never enters other peers' routing tables) for
// the length of one command:
//
//	dhtnode serve --listen /ip4/127.0.0.1/udp/4001 &
//	dhtnode serve --listen /ip4/127.0.0.1/udp/4002 --bootstrap /ip4/127.0.0.1/udp/4001 &
//	filemanager share --bootstrap /ip4/127.0.0.1/udp/4001 holiday.mp4 photos/
//	filemanager ls    --bootstrap /ip4/127.0.0.1/udp/4002 ID
//	filemanager fetch --bootstrap /ip4/127.0.0.1/udp/4002 -o copy.mp4 ID
//	filemanager publish --bootstrap ADDR --identity me.key holiday ID1 ID2
//	filemanager fetch --bootstrap ADDR --from PUBKEY holiday
//
// Every subcommand takes the flags of a dhtnode client, meaning the same
// (--bootstrap, --listen, --codec, --mode, --rpc-timeout, --timeout,
// --verbose), and --help; publish adds --identity, the key that signs. Exit codes: 0 success, 1 failure (an ID no one holds, a chunk
// no replica holds, an unreachable network, an output that exists with
// other contents), 2 usage. Progress and reports go to stderr; stdout
// carries only results (IDs, paths, listings), so the commands pipe.
//
// # How a file is stored
//
// A file is cut into chunks of 32 KiB (--chunk-size): small enough that
// a chunk's store frame fits one UDP datagram (65,507 bytes) in every codec,
// JSON's base64 included, so every built-in transport carries it. Each
// chunk is an immutable value, stored under its SHA-256 at the R peers
// closest to that key (--replicas, default 3). Immutable values verify
// themselves, so replicas and readers need trust no one for them.
//
// The chunk keys go into a manifest, itself made of immutable values
// (manifest.go states the format): a file node (name, size, chunk size, and
// up to 1,024 keys) over a tree of index nodes of 1,024 keys each, so that
// no node exceeds 40 KiB whatever the file's size (depth 0 up to 32 MiB,
// 1 up to 32 GiB, at most 4). A Merkle tree of that fan-out is what lets
// both sides work with bounded memory: the sharer folds keys into index
// nodes in order as chunks complete, holding one pending node per level;
// the fetcher walks the tree holding one node per level. The tree's shape
// follows from the size and the chunk size alone, so a reader checks every
// node's count against it. A directory is a chain of pages listing entries
// (name, type, size, manifest ID). The key of the root node is the ID, the
// one string a user passes on; the same bytes always give the same ID.
// Decoding bounds every size before it allocates, accepts one encoding only
// (FuzzDecodeNode checks that what decodes encodes back to itself), and
// refuses names that are not one path element, so that no manifest can make
// a fetch write outside its output.
//
// # How a file is fetched
//
// The fetcher walks the tree and hands chunk keys to 64 workers (--parallel)
// that each get a chunk, check that it hashes to its key, and write it at
// its offset (WriteAt), so chunks complete in any order and memory holds at
// most 64 chunks, whatever the file's size. The node discards values that do
// not verify and asks the next replica; the fetcher checks again and, on a
// mismatch or a miss, asks again with growing waits for about ten seconds
// before it gives the chunk up. Lookups ask one peer at a time (alpha 1):
// with many chunks in flight that costs no throughput, and each chunk
// crosses the network once rather than three times.
//
// Bytes go to PATH.fmpart. Every second, PATH.fmstate, a bitmap of the
// finished chunks, is replaced atomically, after the part file is synced,
// so it never names a chunk a crash could lose. A rerun after a crash,
// kill -9 included, says how many chunks are already there, checks each
// against its key, and fetches only the rest; PATH.fmpart becomes PATH when
// the last chunk is in. An existing PATH is never overwritten.
//
// # Named shares
//
// publish signs, with the key of --identity, a mutable value under the salt
// "filemanager/NAME" listing IDs: the key and the name are a stable address
// whose list the publisher can replace (the sequence number only grows).
// fetch --from PUBKEY NAME reads it from three replicas (the newest wins),
// prints the publisher's key, and asks a publisher policy whether to accept
// it: by default any, with --trusted FILE only the keys FILE lists. The
// policy is an interface (publisherPolicy) so that a web-of-trust check
// (trust levels derived from roots) can take its place.
//
// # Sharing
//
// share stores up to 64 chunks at once. A node keeps every value it puts,
// to republish it until Close; share therefore puts through a fresh client
// node every 16 MiB, which bounds its memory too. Its lookups look for R+2
// peers rather than the network's k, since only the R closest take the
// chunk. BenchmarkShareFetch measures both sides on 10 dhtnode serve
// processes.
package main
