// Package doccheck checks the documentation of a public Go package the way
// go doc shows it: every exported identifier and every exported struct
// field has a comment, exported constants and variables do not show an
// internal package's name instead of their value, and the package comment
// has no list that go doc folds into a paragraph.
package doccheck

import (
	"fmt"
	"go/ast"
	"go/doc/comment"
	"go/parser"
	"go/token"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Check parses the non-test Go files of the package in dir and returns one
// line per problem ("file:line: what"), sorted; none means the package is
// documented.
func Check(dir string) ([]string, error) {
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	var found []token.Position
	var msgs []string
	report := func(pos token.Pos, format string, args ...any) {
		found = append(found, fset.Position(pos))
		msgs = append(msgs, fmt.Sprintf(format, args...))
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		if f.Doc != nil {
			checkPackageDoc(f.Doc, func(format string, args ...any) { report(f.Doc.Pos(), format, args...) })
		}
		internal := internalImports(f)
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Name.IsExported() && exportedReceiver(d) && d.Doc == nil {
					report(d.Pos(), "%s has no doc comment", d.Name.Name)
				}
			case *ast.GenDecl:
				checkGenDecl(d, internal, report)
			}
		}
	}
	order := make([]int, len(found))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		pa, pb := found[order[a]], found[order[b]]
		if pa.Filename != pb.Filename {
			return pa.Filename < pb.Filename
		}
		return pa.Line < pb.Line
	})
	problems := make([]string, len(order))
	for i, j := range order {
		problems[i] = fmt.Sprintf("%s:%d: %s", filepath.Base(found[j].Filename), found[j].Line, msgs[j])
	}
	return problems, nil
}

func checkGenDecl(d *ast.GenDecl, internal map[string]bool, report func(token.Pos, string, ...any)) {
	for _, spec := range d.Specs {
		switch s := spec.(type) {
		case *ast.TypeSpec:
			if !s.Name.IsExported() {
				continue
			}
			if d.Doc == nil && s.Doc == nil && s.Comment == nil {
				report(s.Pos(), "type %s has no doc comment", s.Name.Name)
			}
			if st, ok := s.Type.(*ast.StructType); ok {
				for _, field := range st.Fields.List {
					if field.Doc != nil || field.Comment != nil {
						continue
					}
					for _, n := range field.Names {
						if n.IsExported() {
							report(n.Pos(), "field %s.%s has no comment", s.Name.Name, n.Name)
						}
					}
				}
			}
		case *ast.ValueSpec:
			for i, n := range s.Names {
				if !n.IsExported() {
					continue
				}
				if d.Doc == nil && s.Doc == nil && s.Comment == nil {
					report(n.Pos(), "%s has no doc comment", n.Name)
				}
				if i < len(s.Values) {
					if pkg := internalRef(s.Values[i], internal); pkg != "" {
						report(n.Pos(), "%s = %s.…: go doc shows the name of an internal package, not the value; write the literal (and test that it equals the internal one)", n.Name, pkg)
					}
				}
			}
		}
	}
}

// exportedReceiver reports whether d is a function or a method of an
// exported type.
func exportedReceiver(d *ast.FuncDecl) bool {
	if d.Recv == nil || len(d.Recv.List) == 0 {
		return true
	}
	t := d.Recv.List[0].Type
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
			return true
		}
	}
}

// internalImports returns the local names of f's imports of internal
// packages.
func internalImports(f *ast.File) map[string]bool {
	out := map[string]bool{}
	for _, imp := range f.Imports {
		path, err := strconv.Unquote(imp.Path.Value)
		if err != nil || !strings.Contains("/"+path+"/", "/internal/") {
			continue
		}
		name := filepath.Base(path)
		if imp.Name != nil {
			name = imp.Name.Name
		}
		out[name] = true
	}
	return out
}

// internalRef returns the internal package that e names, if any.
func internalRef(e ast.Expr, internal map[string]bool) string {
	found := ""
	ast.Inspect(e, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok && internal[id.Name] && found == "" {
				found = id.Name
			}
		}
		return found == ""
	})
	return found
}

// checkPackageDoc finds lines of the package comment that look like list
// items but that go doc prints inside a paragraph (a list nested in a list
// item, or a list without its blank line or indent).
func checkPackageDoc(doc *ast.CommentGroup, report func(string, ...any)) {
	var p comment.Parser
	parsed := p.Parse(doc.Text())
	var walk func(blocks []comment.Block)
	walk = func(blocks []comment.Block) {
		for _, b := range blocks {
			switch b := b.(type) {
			case *comment.Paragraph:
				text := plain(b.Text)
				for _, line := range strings.Split(text, "\n") {
					l := strings.TrimSpace(line)
					if strings.HasPrefix(l, "- ") || strings.HasPrefix(l, "* ") {
						report("the package comment has a list item that go doc folds into a paragraph: %q", l)
					}
				}
			case *comment.List:
				for _, item := range b.Items {
					walk(item.Content)
				}
			}
		}
	}
	walk(parsed.Content)
}

func plain(text []comment.Text) string {
	var b strings.Builder
	for _, t := range text {
		switch t := t.(type) {
		case comment.Plain:
			b.WriteString(string(t))
		case comment.Italic:
			b.WriteString(string(t))
		case *comment.Link:
			b.WriteString(plain(t.Text))
		case *comment.DocLink:
			b.WriteString(plain(t.Text))
		}
	}
	return b.String()
}
