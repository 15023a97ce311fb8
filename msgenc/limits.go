package msgenc

// Protocol limits. Decoders reject anything beyond them, so a peer cannot make
// a node allocate without bound.
const (
	// MaxFrameSize is the largest encoded frame a codec accepts.
	MaxFrameSize = 1 << 20
	// MaxValueSize is the largest value a ValueRecord carries.
	MaxValueSize = 512 << 10
	// MaxKeySize bounds keys, targets, IDs and query IDs.
	MaxKeySize = 64
	// MaxRecords bounds the value records of a reply.
	MaxRecords = 16
	// MaxPeers bounds the peer list of a reply.
	MaxPeers = 64
	// MaxAddrs bounds the addresses of a record and a ReplyTo list.
	MaxAddrs = 16
	// MaxAddrSize bounds one binary multiaddr.
	MaxAddrSize = 256
	// MaxVisited bounds a Forward's visited list.
	MaxVisited = 64
	// MaxQuerySalt bounds a Forward's salt.
	MaxQuerySalt = 32
	// VisitedTagSize is the length of the salted tags a node writes into
	// a Forward's visited list; decoders accept entries up to MaxKeySize.
	VisitedTagSize = 16
	// MaxFanout bounds a Forward's fan-out.
	MaxFanout = 8
	// MaxSmallField bounds public keys, signatures, salts and observed
	// addresses.
	MaxSmallField = 256
	// MaxErrorText bounds an Error's message.
	MaxErrorText = 1024
	// MaxNesting is the deepest structure a decoder needs to accept; input
	// nested deeper is rejected before it is decoded.
	MaxNesting = 8
)
