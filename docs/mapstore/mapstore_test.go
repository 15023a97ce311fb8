package mapstore_test

import (
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/conformance"
	"github.com/dhtkit/dhtkit/docs/mapstore"
	"github.com/dhtkit/dhtkit/kvstore"
)

func TestConformance(t *testing.T) {
	conformance.TestStore(t, func(t *testing.T, now func() time.Time) kvstore.Store {
		return mapstore.New(now)
	})
}
