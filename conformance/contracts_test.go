package conformance_test

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/doc/comment"
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
	"route":     {"Table", "Ordering", "Admission", "Contention"},
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

// The node-level contract sentences.
//
// Convention: TestNetwork checks the network as a whole (bootstrap,
// lookups, put and get in every mode, crashes, loss, partitions, privacy
// of forwarded queries, clean shutdown), which is the behaviour node's
// package doc (node/doc.go) states in the sections nodeSections names.
// Every sentence of those sections is a contract sentence, owned by
// "node: " and the heading. A code block there is a table: each row (a
// line at the block's left margin with the indented lines under it) is one
// sentence, the first row, the header, excepted. So is every sentence of
// the docs of the node.Node methods the rules call (nodeMethods), owned by
// "node.Node." and the method. The other sections (Building a node,
// Limits, Inside) state what the Builder and the node's own tests check,
// not what a network suite can see.
var nodeSections = []string{"Using it", "Query modes", "Who learns what"}

// nodeMethods are the methods of node.Node through which TestNetwork's
// rules drive a network.
var nodeMethods = []string{"Bootstrap", "FindPeer", "Put", "PutImmutable", "PutMutable", "PutValue",
	"Get", "GetAll", "GetImmutable", "GetMutable", "Close"}

// nodeSentences reads the node-level contract sentences from node/doc.go.
func nodeSentences(t *testing.T) []contractSentence {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join("..", "node", "doc.go"), nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	if f.Doc == nil {
		t.Fatal("node/doc.go has no package doc")
	}
	out, missing := nodeSplit(f.Doc.Text(), nodeSections)
	if len(missing) > 0 {
		t.Fatalf("node/doc.go has no section %q (renamed?): update nodeSections and CONTRACTS.md", missing)
	}
	files, err := filepath.Glob(filepath.Join("..", "node", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			fd, ok := decl.(*ast.FuncDecl)
			if !ok || fd.Recv == nil || len(fd.Recv.List) != 1 || !slices.Contains(nodeMethods, fd.Name.Name) {
				continue
			}
			if star, ok := fd.Recv.List[0].Type.(*ast.StarExpr); !ok || !isIdent(star.X, "Node") {
				continue
			}
			found[fd.Name.Name] = true
			out = append(out, contractSplit("node.Node."+fd.Name.Name, fd.Doc)...)
		}
	}
	for _, m := range nodeMethods {
		if !found[m] {
			t.Fatalf("node.Node has no method %s (renamed?): update nodeMethods and CONTRACTS.md", m)
		}
	}
	return out
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

// nodeSplit returns the contract sentences of the sections of a package
// doc, and the sections it did not find.
func nodeSplit(text string, sections []string) (out []contractSentence, missing []string) {
	doc := new(comment.Parser).Parse(text)
	seen := map[string]bool{}
	section := ""
	var add func(b comment.Block)
	add = func(b comment.Block) {
		owner := "node: " + section
		switch b := b.(type) {
		case *comment.Paragraph:
			out = append(out, contractSplitText(owner, commentPlain(b.Text))...)
		case *comment.List:
			for _, item := range b.Items {
				for _, c := range item.Content {
					add(c)
				}
			}
		case *comment.Code:
			var rows []string
			for line := range strings.Lines(b.Text) {
				switch {
				case strings.TrimSpace(line) == "":
				case line[0] != ' ' && line[0] != '\t', len(rows) == 0:
					rows = append(rows, line)
				default:
					rows[len(rows)-1] += " " + line
				}
			}
			for _, row := range rows[min(1, len(rows)):] {
				out = append(out, contractSentence{owner, strings.TrimSpace(contractSpace.ReplaceAllString(row, " "))})
			}
		}
	}
	for _, b := range doc.Content {
		if h, ok := b.(*comment.Heading); ok {
			section = commentPlain(h.Text)
			seen[section] = true
			continue
		}
		if slices.Contains(sections, section) {
			add(b)
		}
	}
	for _, s := range sections {
		if !seen[s] {
			missing = append(missing, s)
		}
	}
	return out, missing
}

// commentPlain is the text of a doc comment's span, links as their text.
func commentPlain(ts []comment.Text) string {
	var b strings.Builder
	for _, t := range ts {
		switch t := t.(type) {
		case comment.Plain:
			b.WriteString(string(t))
		case comment.Italic:
			b.WriteString(string(t))
		case *comment.Link:
			b.WriteString(commentPlain(t.Text))
		case *comment.DocLink:
			b.WriteString(commentPlain(t.Text))
		}
	}
	return b.String()
}

var contractSpace = regexp.MustCompile(`\s+`)

// contractSplit returns the contract sentences of doc.
func contractSplit(owner string, doc *ast.CommentGroup) []contractSentence {
	if doc == nil {
		return nil
	}
	return contractSplitText(owner, doc.Text())
}

// contractSplitText returns the sentences of text.
func contractSplitText(owner, text string) []contractSentence {
	text = strings.TrimSpace(contractSpace.ReplaceAllString(text, " "))
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
		r := contractRow{owner: cells[0], sentence: strings.ReplaceAll(cells[1], `\|`, "|"), line: n}
		switch last := strings.TrimSpace(cells[2]); {
		case strings.HasPrefix(last, "caller:"), strings.HasPrefix(last, "gap:"), strings.HasPrefix(last, "term:"):
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
		why := r.reason
		for _, kind := range []string{"caller:", "gap:", "term:"} {
			why = strings.TrimPrefix(why, kind)
		}
		why = strings.TrimSpace(why)
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
		if !used[name] {
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

// allContractSentences returns the contract sentences of the parts and of
// the node.
func allContractSentences(t *testing.T) []contractSentence {
	t.Helper()
	sentences := contractSentences(t)
	if len(sentences) < 80 {
		t.Fatalf("found only %d contract sentences of the parts: the extractor is broken", len(sentences))
	}
	nodes := nodeSentences(t)
	if len(nodes) < 40 {
		t.Fatalf("found only %d node-level contract sentences: the extractor is broken", len(nodes))
	}
	return append(sentences, nodes...)
}

// TestContractsTable keeps CONTRACTS.md true: every contract sentence of
// the interface docs and of the node's network behaviour has a row, every
// row's sentence is in the docs, and every rule a row names exists.
func TestContractsTable(t *testing.T) {
	problems, notes := contractProblems(allContractSentences(t), contractRows(t), contractRules())
	for _, p := range problems {
		t.Error(p)
	}
	for _, n := range notes {
		t.Log(n)
	}
}

// The check fails on each way the table can drift from the docs and the
// suites, for the parts' sentences and the node's alike.
func TestContractsTableCatchesDrift(t *testing.T) {
	sentences, rows, rules := allContractSentences(t), contractRows(t), contractRules()
	if p, _ := contractProblems(sentences, rows, rules); len(p) != 0 {
		t.Fatalf("the table has problems already: %q", p)
	}
	// The first row that names a rule of the suite, and the index of the
	// first sentence of an owner with the prefix.
	firstRow := func(suite string) int {
		for i, r := range rows {
			if len(r.rules) > 0 && strings.HasPrefix(r.rules[0], suite+"/") {
				return i
			}
		}
		t.Fatalf("no row names a %s rule", suite)
		return -1
	}
	firstSentence := func(owner string) int {
		for i, s := range sentences {
			if strings.HasPrefix(s.owner, owner) {
				return i
			}
		}
		t.Fatalf("no sentence of %s", owner)
		return -1
	}
	renamed := func(row int) map[string]bool {
		m := maps.Clone(rules)
		name := rows[row].rules[0]
		delete(m, name)
		m[name+"-v2"] = true
		return m
	}
	edited := func(i int) []contractSentence {
		s := slices.Clone(sentences)
		s[i].text += " And one more promise."
		return s
	}
	without := func(i int) []contractRow {
		return slices.Delete(slices.Clone(rows), i, i+1)
	}
	bare := func(i int) []contractRow {
		r := slices.Clone(rows)
		r[i] = contractRow{owner: r[i].owner, sentence: r[i].sentence, reason: "gap: ", line: r[i].line}
		return r
	}
	part, network := firstRow("store"), firstRow("network")
	nodeDoc, nodeMethod := firstSentence("node: "), firstSentence("node.Node.")
	rowOf := func(i int) int {
		for j, r := range rows {
			if r.owner == sentences[i].owner && r.sentence == sentences[i].text {
				return j
			}
		}
		t.Fatalf("no row for sentence %d", i)
		return -1
	}
	for name, tc := range map[string]struct {
		sentences []contractSentence
		rows      []contractRow
		rules     map[string]bool
	}{
		"a part's rule renamed":                 {sentences, rows, renamed(part)},
		"a network rule renamed":                {sentences, rows, renamed(network)},
		"a part's sentence without a row":       {sentences, without(0), rules},
		"a node doc sentence without a row":     {sentences, without(rowOf(nodeDoc)), rules},
		"a node method sentence without a row":  {sentences, without(rowOf(nodeMethod)), rules},
		"a part's sentence changed":             {edited(0), rows, rules},
		"a node doc sentence changed":           {edited(nodeDoc), rows, rules},
		"a node method sentence changed":        {edited(nodeMethod), rows, rules},
		"a row with no rule or why":             {sentences, bare(0), rules},
		"a network row with no rule or why":     {sentences, bare(network), rules},
		"a network rule removed from every row": {sentences, rows, func() map[string]bool { m := maps.Clone(rules); delete(m, rows[network].rules[0]); return m }()},
	} {
		if p, _ := contractProblems(tc.sentences, tc.rows, tc.rules); len(p) == 0 {
			t.Errorf("%s: no problem reported", name)
		}
	}
}

// nodeSplit takes the sentences of the named sections only, a table's
// rows without its header, and reports a section that is gone.
func TestContractsNodeSplit(t *testing.T) {
	doc := `Package x does things.

# Kept

One promise. Another, e.g. this one!

	mode   what
	name   first cell
	       continued
	other  second

# Skipped

Not a contract.
`
	got, missing := nodeSplit(doc, []string{"Kept", "Gone"})
	want := []contractSentence{
		{"node: Kept", "One promise."},
		{"node: Kept", "Another, e.g. this one!"},
		{"node: Kept", "name first cell continued"},
		{"node: Kept", "other second"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("sentences:\n got %q\nwant %q", got, want)
	}
	if !slices.Equal(missing, []string{"Gone"}) {
		t.Errorf("missing sections: got %q, want [Gone]", missing)
	}
}
