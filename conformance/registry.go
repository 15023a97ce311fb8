package conformance

// Rules returns the names of every suite's rules, by suite ("codec",
// "store", "transport", "table", "policy", "network"), in the order the
// suites run them: the names a Violation's Rule takes and the names
// CONTRACTS.md maps contract sentences to.
func Rules() map[string][]string {
	return map[string][]string{
		"codec":     ruleNames(codecRules),
		"store":     ruleNames(storeRules()),
		"transport": ruleNames(transportRules),
		"table":     ruleNames(tableRules),
		"policy":    ruleNames(policyRules),
		"network":   ruleNames(networkRules),
	}
}

func ruleNames[F any](rules []rule[F]) []string {
	names := make([]string, len(rules))
	for i, r := range rules {
		names[i] = r.name
	}
	return names
}
