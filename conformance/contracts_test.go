package conformance_test

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dhtkit/dhtkit/conformance"
)

// The contract sentences, and how CONTRACTS.md must map them.
//
// Convention: every sentence of the doc comment of one of contractTypes
// (the type's own doc, or one of its methods') is a contract sentence:
// these docs are the contract, so none is left out by wording. Sentences
// end at '.', '!' or '?' followed by a space (not in "e.g." or "i.e.");
// white space is collapsed. CONTRACTS.md holds one table row per sentence:
//
//	| owner | sentence | rules |
//
// where owner is the type or method ("kvstore.Store.Get"), sentence is
// the sentence exactly, and rules names suite/rule pairs
// ("store/put-then-get"), comma-separated. A sentence that binds the
// caller rather than the part names "caller:" and why, instead of rules.

// contractTypes are the interfaces, and the types they pass (a function
// type, two structs whose field docs bind the part), whose docs state what
// a part must do, by package directory.
var contractTypes = map[string][]string{
	"msgenc":    {"Codec", "AppendMarshaler"},
	"kvstore":   {"Store", "UpdateFunc", "Ranger", "Record"},
	"transport": {"Transport", "Packet"},
	"route":     {"Table", "Ordering"},
	"trust":     {"Policy", "Refresher", "Leveler"},
}

type contractSentence struct{ owner, text string }

// contractSentences reads the contract sentences from the source.
func contractSentences(t *testing.T) []contractSentence {
	t.Helper()
	var out []contractSentence
	for dir, types := range contractTypes {
		fset := token.NewFileSet()
		files, err := filepath.Glob(filepath.Join("..", dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			for _, decl := range f.Decls {
				gd, ok := decl.(*ast.GenDecl)
				if !ok || gd.Tok != token.TYPE {
					continue
				}
				for _, spec := range gd.Specs {
					ts := spec.(*ast.TypeSpec)
					if !slices.Contains(types, ts.Name.Name) {
						continue
					}
					doc := ts.Doc
					if doc == nil && len(gd.Specs) == 1 {
						doc = gd.Doc
					}
					owner := dir + "." + ts.Name.Name
					out = append(out, contractSplit(owner, doc)...)
					var members []*ast.Field
					switch tt := ts.Type.(type) {
					case *ast.InterfaceType:
						members = tt.Methods.List
					case *ast.StructType:
						members = tt.Fields.List
					}
					for _, m := range members {
						if len(m.Names) >= 1 && m.Names[0].IsExported() {
							out = append(out, contractSplit(owner+"."+m.Names[0].Name, m.Doc)...)
						}
					}
				}
			}
		}
	}
	return out
}

var contractSpace = regexp.MustCompile(`\s+`)

// contractSplit returns the contract sentences of doc.
func contractSplit(owner string, doc *ast.CommentGroup) []contractSentence {
	if doc == nil {
		return nil
	}
	text := strings.TrimSpace(contractSpace.ReplaceAllString(doc.Text(), " "))
	var out []contractSentence
	start := 0
	for i := 0; i < len(text); i++ {
		end := i == len(text)-1
		if !end && strings.ContainsRune(".!?", rune(text[i])) && text[i+1] == ' ' &&
			!strings.HasSuffix(text[:i+1], "e.g.") && !strings.HasSuffix(text[:i+1], "i.e.") {
			end = true
		}
		if !end {
			continue
		}
		s := strings.TrimSpace(text[start : i+1])
		start = i + 1
		out = append(out, contractSentence{owner, s})
	}
	return out
}

// contractRow is one row of CONTRACTS.md.
type contractRow struct {
	owner, sentence string
	rules           []string // suite/rule
	reason          string   // for caller: and gap: rows
	line            int
}

// contractRows reads the table of CONTRACTS.md.
func contractRows(t *testing.T) []contractRow {
	t.Helper()
	f, err := os.Open("CONTRACTS.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []contractRow
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			break // the sections after the table (mutation scores)
		}
		if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| owner |") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) != 3 {
			t.Errorf("CONTRACTS.md:%d: %d cells, want owner | sentence | rules", n, len(cells))
			continue
		}
		r := contractRow{owner: cells[0], sentence: cells[1], line: n}
		switch last := strings.TrimSpace(cells[2]); {
		case strings.HasPrefix(last, "caller:"), strings.HasPrefix(last, "gap:"):
			r.reason = last
		default:
			for name := range strings.SplitSeq(last, ",") {
				if name = strings.TrimSpace(name); name != "" {
					r.rules = append(r.rules, name)
				}
			}
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// contractProblems returns what is wrong with rows, given the contract
// sentences and the rules (suite/rule) that exist; notes are what is true
// but worth a look: gaps, and rules no row names.
func contractProblems(sentences []contractSentence, rows []contractRow, rules map[string]bool) (problems, notes []string) {
	type key struct{ owner, sentence string }
	byKey := map[key]contractRow{}
	for _, r := range rows {
		if _, dup := byKey[key{r.owner, r.sentence}]; dup {
			problems = append(problems, fmt.Sprintf("CONTRACTS.md:%d: a second row for %s %q", r.line, r.owner, r.sentence))
		}
		byKey[key{r.owner, r.sentence}] = r
	}
	inDocs := map[key]bool{}
	for _, s := range sentences {
		inDocs[key{s.owner, s.text}] = true
		if _, ok := byKey[key{s.owner, s.text}]; !ok {
			problems = append(problems, fmt.Sprintf("no row in CONTRACTS.md for the contract sentence of %s:\n\t| %s | %s | |", s.owner, s.owner, s.text))
		}
	}
	used := map[string]bool{}
	for _, r := range rows {
		if !inDocs[key{r.owner, r.sentence}] {
			problems = append(problems, fmt.Sprintf("CONTRACTS.md:%d: %s %q is not a sentence of the docs (changed or gone?)", r.line, r.owner, r.sentence))
		}
		why := strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(r.reason, "caller:"), "gap:"))
		if len(r.rules) == 0 && why == "" {
			problems = append(problems, fmt.Sprintf("CONTRACTS.md:%d: names no rule and gives no reason", r.line))
		}
		for _, name := range r.rules {
			if !rules[name] {
				problems = append(problems, fmt.Sprintf("CONTRACTS.md:%d: rule %s does not exist (renamed or removed?)", r.line, name))
			}
			used[name] = true
		}
		if strings.HasPrefix(r.reason, "gap:") {
			notes = append(notes, fmt.Sprintf("not checked by any rule: %s %q (%s)", r.owner, r.sentence, r.reason))
		}
	}
	for name := range rules {
		if !used[name] && !strings.HasPrefix(name, "network/") {
			notes = append(notes, "rule "+name+" checks no contract sentence of the table")
		}
	}
	slices.Sort(notes)
	return problems, notes
}

func contractRules() map[string]bool {
	rules := map[string]bool{}
	for suite, names := range conformance.Rules() {
		for _, name := range names {
			rules[suite+"/"+name] = true
		}
	}
	return rules
}

// TestContractsTable keeps CONTRACTS.md true: every contract sentence of
// the interface docs has a row, every row's sentence is in the docs, and
// every rule a row names exists.
func TestContractsTable(t *testing.T) {
	sentences := contractSentences(t)
	if len(sentences) < 80 {
		t.Fatalf("found only %d contract sentences: the extractor is broken", len(sentences))
	}
	problems, notes := contractProblems(sentences, contractRows(t), contractRules())
	for _, p := range problems {
		t.Error(p)
	}
	for _, n := range notes {
		t.Log(n)
	}
}

// The check fails on each way the table can drift from the docs and the
// suites.
func TestContractsTableCatchesDrift(t *testing.T) {
	sentences, rows, rules := contractSentences(t), contractRows(t), contractRules()
	if p, _ := contractProblems(sentences, rows, rules); len(p) != 0 {
		t.Fatalf("the table has problems already: %q", p)
	}
	var named contractRow
	for _, r := range rows {
		if len(r.rules) > 0 {
			named = r
			break
		}
	}
	renamed := maps.Clone(rules)
	delete(renamed, named.rules[0])
	renamed[named.rules[0]+"-v2"] = true
	edited := slices.Clone(sentences)
	edited[0].text += " And one more promise."
	bare := append(slices.Clone(rows[1:]), contractRow{owner: rows[0].owner, sentence: rows[0].sentence, reason: "caller: "})
	for name, tc := range map[string]struct {
		sentences []contractSentence
		rows      []contractRow
		rules     map[string]bool
	}{
		"a rule renamed":            {sentences, rows, renamed},
		"a sentence without a row":  {sentences, rows[1:], rules},
		"a sentence changed":        {edited, rows, rules},
		"a row with no rule or why": {sentences, bare, rules},
	} {
		if p, _ := contractProblems(tc.sentences, tc.rows, tc.rules); len(p) == 0 {
			t.Errorf("%s: no problem reported", name)
		}
	}
}
