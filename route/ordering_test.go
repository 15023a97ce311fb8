package route

import "testing"

type routeOrderedTable struct {
	Table
	xor bool
}

func (t routeOrderedTable) XOROrdered() bool { return t.xor }

func TestXOROrderedDefaultsToTrueAndHonoursOrdering(t *testing.T) {
	if !XOROrdered(routeOrderedTable{xor: true}) {
		t.Fatal("a table declaring XOR order was reported as not XOR-ordered")
	}
	if XOROrdered(routeOrderedTable{xor: false}) {
		t.Fatal("a table declaring another order was reported as XOR-ordered")
	}
	var plain struct{ Table }
	if !XOROrdered(plain) {
		t.Fatal("a table without Ordering must count as XOR-ordered")
	}
}
