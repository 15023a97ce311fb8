package mem

import (
	"encoding/binary"
	"strconv"

	ma "github.com/multiformats/go-multiaddr"
)

// parseAddr returns N for the one-component address /memory/N.
func parseAddr(a ma.Multiaddr) (uint64, bool) {
	if len(a) != 1 || a[0].Code() != ma.P_MEMORY {
		return 0, false
	}
	v := a[0].RawValue()
	if len(v) != 8 {
		return 0, false
	}
	return binary.BigEndian.Uint64(v), true
}

// memoryComponent returns the component /memory/id.
func memoryComponent(id uint64) ma.Component {
	c, err := ma.NewComponent("memory", strconv.FormatUint(id, 10))
	if err != nil {
		// Every uint64 is a valid memory value; this cannot happen.
		panic("mem: building /memory address: " + err.Error())
	}
	return *c
}

// Addr returns the address /memory/id.
func Addr(id uint64) ma.Multiaddr {
	return ma.Multiaddr{memoryComponent(id)}
}
