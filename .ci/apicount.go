//go:build ignore

// apicount prints, for each library package of the module, how many
// exported identifiers it declares: top-level names (constants, variables,
// types, functions), methods of exported types, and fields of exported
// structs and methods of exported interfaces. Commands (package main) and
// test files are left out.
//
//	go run .ci/apicount.go
package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

type count struct{ top, methods, fields int }

func main() {
	counts := map[string]*count{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != "." && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		if f.Name.Name == "main" {
			return nil
		}
		dir := filepath.Dir(path)
		c := counts[dir]
		if c == nil {
			c = &count{}
			counts[dir] = c
		}
		add(c, f)
		return nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	dirs := make([]string, 0, len(counts))
	for d := range counts {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	var sum count
	fmt.Printf("%-24s %5s %7s %6s %6s\n", "package", "names", "methods", "fields", "total")
	for _, d := range dirs {
		c := counts[d]
		fmt.Printf("%-24s %5d %7d %6d %6d\n", d, c.top, c.methods, c.fields, c.top+c.methods+c.fields)
		sum.top, sum.methods, sum.fields = sum.top+c.top, sum.methods+c.methods, sum.fields+c.fields
	}
	fmt.Printf("%-24s %5d %7d %6d %6d\n", "all", sum.top, sum.methods, sum.fields, sum.top+sum.methods+sum.fields)
}

func add(c *count, f *ast.File) {
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if !d.Name.IsExported() {
				continue
			}
			if d.Recv == nil {
				c.top++
			} else if exportedRecv(d.Recv.List[0].Type) {
				c.methods++
			}
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				switch s := spec.(type) {
				case *ast.ValueSpec:
					for _, n := range s.Names {
						if n.IsExported() {
							c.top++
						}
					}
				case *ast.TypeSpec:
					if !s.Name.IsExported() {
						continue
					}
					c.top++
					c.fields += members(s.Type)
				}
			}
		}
	}
}

// members counts the exported fields of a struct or methods of an
// interface; an embedded type counts as one.
func members(t ast.Expr) int {
	var list *ast.FieldList
	switch t := t.(type) {
	case *ast.StructType:
		list = t.Fields
	case *ast.InterfaceType:
		list = t.Methods
	default:
		return 0
	}
	n := 0
	for _, f := range list.List {
		if len(f.Names) == 0 {
			n++
			continue
		}
		for _, name := range f.Names {
			if name.IsExported() {
				n++
			}
		}
	}
	return n
}

func exportedRecv(t ast.Expr) bool {
	for {
		switch x := t.(type) {
		case *ast.StarExpr:
			t = x.X
		case *ast.IndexExpr:
			t = x.X
		case *ast.IndexListExpr:
			t = x.X
		case *ast.Ident:
			return x.IsExported()
		default:
			return false
		}
	}
}
