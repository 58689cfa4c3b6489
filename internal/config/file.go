package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxFileSize bounds the configuration file.
const maxFileSize = 1 << 20

// applyFile sets the flags of fs from the YAML file at path; see LoadFile.
func applyFile(fs *flag.FlagSet, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	if len(b) > maxFileSize {
		return fmt.Errorf("config file %s: larger than %d bytes", path, maxFileSize)
	}
	if err := applyYAML(fs, b); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	return nil
}

// LoadFile returns the defaults overridden by the YAML document b, validated.
//
// The document is a mapping whose keys are the flag names of roomcast serve
// ("http-addr: :8080"). Flags that share a leading part may be grouped under
// it: "rtmp: {addr: ':1935', chunk-size: 4096}" sets -rtmp-addr and
// -rtmp-chunk-size. Values are scalars written as on the command line
// (durations such as 10s, booleans true/false); list flags also take a YAML
// sequence. An unknown key or an invalid value is an error naming the key
// and its line.
func LoadFile(b []byte) (Config, error) {
	c := Default()
	fs := c.FlagSet("config", io.Discard)
	if err := applyYAML(fs, b); err != nil {
		return c, err
	}
	return c, c.Validate()
}

// applyYAML sets the flags of fs from the YAML document b.
func applyYAML(fs *flag.FlagSet, b []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // an empty file sets nothing
		}
		return fmt.Errorf("invalid YAML: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return errors.New("more than one YAML document")
	}
	if len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: the document must be a mapping of setting names to values", root.Line)
	}
	seen := make(map[string]int)
	return applyMapping(fs, root, "", seen)
}

// applyMapping applies the keys of mapping node m, each prefixed with
// prefix ("rtmp-" inside "rtmp:").
func applyMapping(fs *flag.FlagSet, m *yaml.Node, prefix string, seen map[string]int) error {
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Value == "" {
			return fmt.Errorf("line %d: keys must be setting names", k.Line)
		}
		name := prefix + k.Value
		display := strings.ReplaceAll(prefix, "-", ".") + k.Value
		if v.Kind == yaml.MappingNode {
			if !hasPrefix(fs, name+"-") {
				return fmt.Errorf("line %d: unknown key %q (no setting starts with %s-; see roomcast config example)", k.Line, display, name)
			}
			if err := applyMapping(fs, v, name+"-", seen); err != nil {
				return err
			}
			continue
		}
		f := fs.Lookup(name)
		if f == nil || name == "config" {
			return fmt.Errorf("line %d: unknown key %q (see roomcast config example)", k.Line, display)
		}
		if line, dup := seen[name]; dup {
			return fmt.Errorf("line %d: key %q is set twice (first on line %d)", k.Line, display, line)
		}
		seen[name] = k.Line
		value, err := scalarValue(f, v)
		if err != nil {
			return fmt.Errorf("line %d: %s: %w", v.Line, name, err)
		}
		if err := f.Value.Set(value); err != nil {
			return fmt.Errorf("line %d: %s: invalid value %q: %w", v.Line, name, value, err)
		}
	}
	return nil
}

// scalarValue returns the command-line form of a YAML value for flag f.
func scalarValue(f *flag.Flag, v *yaml.Node) (string, error) {
	switch v.Kind {
	case yaml.ScalarNode:
		if v.Tag == "!!null" {
			return "", errors.New("has no value (write \"\" for an empty string)")
		}
		return v.Value, nil
	case yaml.SequenceNode:
		if _, ok := f.Value.(*listFlag); !ok {
			return "", errors.New("takes a single value, not a list")
		}
		items := make([]string, 0, len(v.Content))
		for _, item := range v.Content {
			if item.Kind != yaml.ScalarNode || item.Tag == "!!null" {
				return "", fmt.Errorf("line %d: list items must be plain values", item.Line)
			}
			if strings.Contains(item.Value, ",") {
				return "", fmt.Errorf("line %d: list item %q must not contain a comma", item.Line, item.Value)
			}
			items = append(items, item.Value)
		}
		return strings.Join(items, ","), nil
	default:
		return "", errors.New("takes a single value")
	}
}

// hasPrefix reports whether some flag of fs starts with prefix.
func hasPrefix(fs *flag.FlagSet, prefix string) bool {
	found := false
	fs.VisitAll(func(f *flag.Flag) { found = found || strings.HasPrefix(f.Name, prefix) })
	return found
}

// UnknownEnv returns the ROOMCAST_* variables of environ ("NAME=value"
// entries, as os.Environ returns) that name no setting: most likely typos,
// which would otherwise be ignored without a word.
func UnknownEnv(environ []string) []string {
	c := Default()
	fs := c.FlagSet("env", io.Discard)
	known := make(map[string]bool)
	fs.VisitAll(func(f *flag.Flag) { known[EnvName(f.Name)] = true })
	var unknown []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, EnvPrefix) && !known[name] {
			unknown = append(unknown, name)
		}
	}
	return unknown
}
