package docs_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// codeMarker names, on the line before a ```go block of tutorial.md, the
// compiled code the block shows: a whole file (FILE), or the region NAME
// of a file (FILE#NAME): the lines between "// tutorial:begin NAME" and
// "// tutorial:end NAME", less their common indentation. FILE is relative
// to docs/.
var codeMarker = regexp.MustCompile(`^<!-- code: ([^#\s]+)(?:#(\S+))? -->$`)

// mdBlock is a ```go block of the tutorial and the code it claims to show.
type mdBlock struct {
	line         int // of the fence, 1-based
	file, region string
	text         string
}

func TestTutorialCodeIsCompiledCode(t *testing.T) {
	blocks, err := goBlocks("tutorial.md")
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) == 0 {
		t.Fatal("tutorial.md has no ```go blocks")
	}
	shown := map[string]bool{} // FILE#NAME of every region shown
	for _, b := range blocks {
		want, err := compiled(b.file, b.region)
		if err != nil {
			t.Errorf("tutorial.md:%d: %v", b.line, err)
			continue
		}
		shown[b.file+"#"+b.region] = true
		if b.text != want {
			t.Errorf("tutorial.md:%d: the block differs from %s; it must show the compiled code as it is.\n--- tutorial.md\n%s--- %s\n%s",
				b.line, b.where(), b.text, b.where(), want)
		}
	}
	// Every region marked for the tutorial is in it.
	for _, file := range []string{"tutorial_test.go"} {
		names, err := regionNames(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			if !shown[file+"#"+name] {
				t.Errorf("%s marks region %q for the tutorial, but tutorial.md does not show it", file, name)
			}
		}
	}
}

func (b mdBlock) where() string {
	if b.region == "" {
		return b.file
	}
	return b.file + "#" + b.region
}

// goBlocks returns the ```go blocks of the markdown file at path, each
// with the code marker on the line before it; a block without one is an
// error.
func goBlocks(path string) ([]mdBlock, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var (
		blocks []mdBlock
		cur    *mdBlock
		prev   string
	)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur != nil && line == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.text += line + "\n"
		case strings.HasPrefix(line, "```go"):
			m := codeMarker.FindStringSubmatch(prev)
			if m == nil {
				return nil, fmt.Errorf("%s:%d: a ```go block must follow a line <!-- code: FILE --> or <!-- code: FILE#REGION -->", path, n)
			}
			cur = &mdBlock{line: n, file: m[1], region: m[2]}
		}
		prev = line
	}
	if cur != nil {
		return nil, fmt.Errorf("%s:%d: the block does not end", path, cur.line)
	}
	return blocks, sc.Err()
}

// compiled returns the code a marker names: the whole file, or the
// region's lines less their common indentation.
func compiled(file, region string) (string, error) {
	data, err := os.ReadFile(filepath.FromSlash(file))
	if err != nil {
		return "", err
	}
	if region == "" {
		return string(data), nil
	}
	lines := strings.Split(string(data), "\n")
	begin := slices.IndexFunc(lines, func(l string) bool { return strings.TrimSpace(l) == "// tutorial:begin "+region })
	end := slices.IndexFunc(lines, func(l string) bool { return strings.TrimSpace(l) == "// tutorial:end "+region })
	if begin < 0 || end < begin {
		return "", fmt.Errorf("%s has no region %q (// tutorial:begin %[2]s ... // tutorial:end %[2]s)", file, region)
	}
	body := lines[begin+1 : end]
	for len(body) > 0 && strings.TrimSpace(body[0]) == "" {
		body = body[1:]
	}
	for len(body) > 0 && strings.TrimSpace(body[len(body)-1]) == "" {
		body = body[:len(body)-1]
	}
	indent := -1
	for _, l := range body {
		if strings.TrimSpace(l) != "" {
			n := len(l) - len(strings.TrimLeft(l, "\t"))
			if indent < 0 || n < indent {
				indent = n
			}
		}
	}
	indent = max(indent, 0)
	var out strings.Builder
	for _, l := range body {
		if len(l) >= indent {
			l = l[indent:]
		}
		out.WriteString(l + "\n")
	}
	return out.String(), nil
}

// regionNames lists the regions marked in file.
func regionNames(file string) ([]string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, l := range strings.Split(string(data), "\n") {
		if name, ok := strings.CutPrefix(strings.TrimSpace(l), "// tutorial:begin "); ok {
			names = append(names, name)
		}
	}
	return names, nil
}
