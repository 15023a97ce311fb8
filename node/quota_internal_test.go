package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/dhtkit/dhtkit/kvstore"
	"github.com/dhtkit/dhtkit/kvstore/bbolt"
	"github.com/dhtkit/dhtkit/kvstore/memory"
	"github.com/dhtkit/dhtkit/msgenc"
	"github.com/dhtkit/dhtkit/peer"
	"github.com/dhtkit/dhtkit/trust"
	"github.com/stretchr/testify/require"
)

func quotaEntry(t testing.TB, v *trust.Value) entry {
	t.Helper()
	return entry{v: v, expires: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func TestQuotaBookChargesPublishersAndSourcesAndFreesWhatLeaves(t *testing.T) {
	h := peer.SHA256()
	pub, err := peer.GenerateIdentity(nil)
	require.NoError(t, err)
	plain := func(i int, size int) *trust.Value {
		v, err := trust.NewPlain(pub, h.Sum([]byte(fmt.Sprint(i))), 1, bytes.Repeat([]byte{1}, size))
		require.NoError(t, err)
		return v
	}
	one := entrySize(plain(0, 1000))
	b := newQuotaBook(Quotas{TotalBytes: 10 * one, PublisherBytes: 3 * one, PublisherValues: 2, SourceBytes: 2 * one, SourceValues: 10})

	// A publisher may hold two values, not a third.
	for i := range 2 {
		v := plain(i, 1000)
		require.Nil(t, b.apply(v.Key, nil, []entry{quotaEntry(t, v)}, ""))
	}
	v3 := plain(2, 1000)
	re := b.apply(v3.Key, nil, []entry{quotaEntry(t, v3)}, "")
	require.NotNil(t, re)
	require.ErrorIs(t, re, ErrQuota)
	total, p, _ := b.usageOf(string(pub.PublicKey()), "")
	require.Equal(t, 2*one, total, "a refused store is not charged")
	require.Equal(t, usage{2 * one, 2}, p)

	// Replacing a value needs only the room it adds; removing one frees it.
	v0 := plain(0, 1000)
	bigger, err := trust.NewPlain(pub, v0.Key, 2, bytes.Repeat([]byte{2}, 1500))
	require.NoError(t, err)
	require.Nil(t, b.apply(v0.Key, []entry{quotaEntry(t, v0)}, []entry{quotaEntry(t, bigger)}, ""))
	require.Nil(t, b.apply(v0.Key, []entry{quotaEntry(t, bigger)}, nil, ""))
	total, p, _ = b.usageOf(string(pub.PublicKey()), "")
	require.Equal(t, one, total)
	require.Equal(t, usage{one, 1}, p)

	// Unsigned values are charged to the prefix that stored them.
	imm := func(i int) *trust.Value {
		return trust.NewImmutable(h, bytes.Repeat([]byte{byte(i)}, 1000+len(pub.PublicKey())+64))
	}
	for i := range 2 {
		v := imm(i)
		require.Nil(t, b.apply(v.Key, nil, []entry{quotaEntry(t, v)}, "192.0.2.0"))
	}
	v := imm(3)
	require.ErrorIs(t, b.apply(v.Key, nil, []entry{quotaEntry(t, v)}, "192.0.2.0"), ErrQuota, "the source's bytes are used up")
	require.Nil(t, b.apply(v.Key, nil, []entry{quotaEntry(t, v)}, "198.51.100.0"), "another source is not")
	first := imm(0)
	require.Nil(t, b.apply(first.Key, []entry{quotaEntry(t, first)}, nil, ""), "the value left: its source's charge goes with it")
	_, _, s := b.usageOf("", "192.0.2.0")
	require.Equal(t, 1, s.values)

	// The total binds whoever stores.
	b = newQuotaBook(Quotas{TotalBytes: one, PublisherBytes: NoQuota, PublisherValues: NoQuota, SourceBytes: NoQuota, SourceValues: NoQuota})
	a, c := plain(10, 1000), plain(11, 1000)
	require.Nil(t, b.apply(a.Key, nil, []entry{quotaEntry(t, a)}, ""))
	require.ErrorIs(t, b.apply(c.Key, nil, []entry{quotaEntry(t, c)}, ""), ErrQuota, "the store is full: new values are refused")
}

// quotaPair builds a target node with store s and quotas q, and a client
// that stores through it, both over loopback UDP.
func quotaPair(t *testing.T, s kvstore.Store, q Quotas, id *peer.Identity) (target, client *Node) {
	t.Helper()
	ctx := context.Background()
	target, err := NewBuilder().Store(s).Quotas(q).RateLimits(NoRateLimits()).Build(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = target.Close() })
	client, err = NewBuilder().Identity(id).Client(true).Build(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Close() })
	require.NoError(t, client.Bootstrap(ctx, target.Addrs()...))
	return target, client
}

// fillUntilRefused stores values of size bytes through client until the
// target refuses one, and returns how many it took.
func fillUntilRefused(t *testing.T, client *Node, tag byte, size, most int) int {
	t.Helper()
	for i := range most {
		_, _, err := client.PutImmutable(context.Background(), append(bytes.Repeat([]byte{tag}, size-8), fmt.Sprintf("%08d", i)...))
		if err != nil {
			require.ErrorIs(t, err, ErrQuota, "a store over quota is refused with its own code")
			var re *RemoteError
			require.True(t, errors.As(err, &re))
			require.Equal(t, msgenc.CodeQuota, re.Code)
			return i
		}
	}
	t.Fatalf("%d stores of %d bytes all acknowledged", most, size)
	return 0
}

func TestTheNodeNeverHoldsMoreThanItsTotalQuotaInMemoryOrBbolt(t *testing.T) {
	const quota, size = 256 << 10, 16 << 10
	for _, kind := range []string{"memory", "bbolt"} {
		t.Run(kind, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "db")
			open := func() kvstore.Store {
				if kind == "memory" {
					return memory.New(memory.Options{})
				}
				s, err := bbolt.Open(path, bbolt.Options{})
				require.NoError(t, err)
				return s
			}
			q := Quotas{TotalBytes: quota, SourceBytes: NoQuota, SourceValues: NoQuota}
			target, client := quotaPair(t, open(), q, nil)
			stored := fillUntilRefused(t, client, 1, size, 100)
			require.Equal(t, int(quota/(size+entryFixedCost)), stored, "the total quota is met, not undershot")
			held := target.Metrics().StoredBytes
			require.LessOrEqual(t, held, int64(quota))
			require.Greater(t, held, int64(quota-2*size))
			// Counted after the send the client saw: wait for it.
			require.Eventually(t, func() bool { return target.Metrics().Refused[msgenc.CodeQuota] == 1 }, 5*time.Second, time.Millisecond,
				"the refusal is counted by its code")
			if kind == "memory" {
				return
			}
			// Restarted on the same file, the node knows what it holds.
			before, _, _ := target.quotas.usageOf("", "")
			require.NoError(t, target.Close())
			target2, client2 := quotaPair(t, open(), q, nil)
			after, _, _ := target2.quotas.usageOf("", "")
			require.Equal(t, before, after, "the total is rebuilt from the store")
			require.Zero(t, fillUntilRefused(t, client2, 2, size, 10), "a full store stays full after a restart")
			require.LessOrEqual(t, target2.Metrics().StoredBytes, int64(quota))
		})
	}
}

func TestPublisherQuotaSurvivesARestartOnBbolt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	open := func() kvstore.Store {
		s, err := bbolt.Open(path, bbolt.Options{})
		require.NoError(t, err)
		return s
	}
	q := Quotas{PublisherValues: 3}
	pub, err := peer.GenerateIdentity(nil)
	require.NoError(t, err)
	target, client := quotaPair(t, open(), q, pub)
	ctx := context.Background()
	for i := range 3 {
		_, err := client.Put(ctx, []byte(fmt.Sprint("k", i)), []byte("v"))
		require.NoError(t, err)
	}
	_, err = client.Put(ctx, []byte("k3"), []byte("v"))
	require.ErrorIs(t, err, ErrQuota, "a publisher's fourth value is refused")
	require.NoError(t, target.Close())
	require.NoError(t, client.Close())

	_, client = quotaPair(t, open(), q, pub)
	_, err = client.Put(ctx, []byte("k4"), []byte("v"))
	require.ErrorIs(t, err, ErrQuota, "after a restart the publisher's values are still counted")
	_, err = client.Put(ctx, []byte("k0"), []byte("newer"))
	require.NoError(t, err, "a publisher at its quota may still replace its own values")
}
