package cli

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/dhtkit/dhtkit/node"
)

// Limits are the flags that bound what other peers may cost a node: rate
// limits per source and storage quotas. Unset flags leave node's defaults,
// which the usage text shows.
type Limits struct {
	Rates  node.RateLimits
	Quotas node.Quotas
}

// Register adds the limit flags to fs.
func (l *Limits) Register(fs *FlagSet) {
	rate := func(name, what string, r *node.Rate, def node.Rate) {
		fs.Func(name, fmt.Sprintf("requests served per second from each %s, as `RATE[:BURST]`, or off (default %s)", what, formatRate(def)), func(v string) error {
			got, err := parseRate(v)
			if err != nil {
				return err
			}
			*r = got
			return nil
		})
	}
	rate("rate-peer", "peer ID", &l.Rates.Peer, node.DefaultPeerRate)
	rate("rate-addr", "IP address", &l.Rates.Addr, node.DefaultAddrRate)
	rate("rate-prefix", "IPv4 /24 or IPv6 /64", &l.Rates.Prefix, node.DefaultPrefixRate)
	size := func(name, what string, v *int64, def int64) {
		fs.Func(name, fmt.Sprintf("most `bytes` of values held %s (suffix K, M or G), or off (default %s)", what, formatSize(def)), func(s string) error {
			got, err := parseSize(s)
			if err != nil {
				return err
			}
			*v = got
			return nil
		})
	}
	count := func(name, what string, v *int, def int) {
		fs.Func(name, fmt.Sprintf("most values held %s: a `count`, or off (default %d)", what, def), func(s string) error {
			if s == "off" {
				*v = node.NoQuota
				return nil
			}
			n, err := strconv.Atoi(s)
			if err != nil || n <= 0 {
				return fmt.Errorf("want a positive `count` or off, got %q", s)
			}
			*v = n
			return nil
		})
	}
	size("quota-total", "in all", &l.Quotas.TotalBytes, node.DefaultTotalBytes)
	size("quota-publisher", "per publisher", &l.Quotas.PublisherBytes, node.DefaultPublisherBytes)
	count("quota-publisher-values", "per publisher", &l.Quotas.PublisherValues, node.DefaultPublisherValues)
	size("quota-source", "per source /24 or /64, for unsigned values", &l.Quotas.SourceBytes, node.DefaultSourceBytes)
	count("quota-source-values", "per source /24 or /64, for unsigned values", &l.Quotas.SourceValues, node.DefaultSourceValues)
}

// Apply sets the chosen limits on b.
func (l *Limits) Apply(b *node.Builder) *node.Builder {
	return b.RateLimits(l.Rates).Quotas(l.Quotas)
}

func parseRate(s string) (node.Rate, error) {
	if s == "off" {
		return node.Unlimited, nil
	}
	rate, burst, hasBurst := strings.Cut(s, ":")
	var r node.Rate
	var err error
	if r.PerSecond, err = strconv.ParseFloat(rate, 64); err != nil || r.PerSecond <= 0 || math.IsInf(r.PerSecond, 0) {
		return r, fmt.Errorf("want RATE[:BURST] with a positive rate, or off, got %q", s)
	}
	if hasBurst {
		if r.Burst, err = strconv.Atoi(burst); err != nil || r.Burst <= 0 {
			return r, fmt.Errorf("want a positive burst, got %q", burst)
		}
	}
	return r, nil
}

func formatRate(r node.Rate) string {
	return strconv.FormatFloat(r.PerSecond, 'g', -1, 64) + ":" + strconv.Itoa(r.Burst)
}

func parseSize(s string) (int64, error) {
	if s == "off" {
		return node.NoQuota, nil
	}
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, strings.TrimSuffix(s, "G")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("want a positive size (suffix K, M or G) or off, got %q", s)
	}
	return n * mult, nil
}

func formatSize(n int64) string {
	switch {
	case n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + "G"
	case n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "M"
	case n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + "K"
	}
	return strconv.FormatInt(n, 10)
}
