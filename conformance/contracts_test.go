package conformance_test

import (
	"bufio"
	"go/ast"
	"go/parser"
	"go/token"
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

// contractTypes are the interfaces (and the one function type) whose docs
// state what a part must do, by package directory.
var contractTypes = map[string][]string{
	"msgenc":    {"Codec"},
	"kvstore":   {"Store", "UpdateFunc", "Ranger"},
	"transport": {"Transport"},
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
					if it, ok := ts.Type.(*ast.InterfaceType); ok {
						for _, m := range it.Methods.List {
							if len(m.Names) == 1 {
								out = append(out, contractSplit(owner+"."+m.Names[0].Name, m.Doc)...)
							}
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

func TestDumpContracts(t *testing.T) {
	if os.Getenv("DUMP") == "" {
		t.Skip()
	}
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	for _, s := range contractSentences(t) {
		w.WriteString("| " + s.owner + " | " + s.text + " | |\n")
	}
	_ = conformance.Rules
}
