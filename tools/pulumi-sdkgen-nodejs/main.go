// Command pulumi-sdkgen-nodejs writes the TypeScript SDK of a Pulumi package from its schema.
//
//	pulumi package get-schema <path to pulumi-resource-NAME> > schema.json
//	pulumi-sdkgen-nodejs schema.json OUT_DIR
//
// It is what `pulumi package gen-sdk --language nodejs` does through the nodejs language host, which the Go
// module proxy does not serve at current versions: the same code generator (pkg/v3/codegen/nodejs), called
// directly. OUT_DIR is emptied first; it then holds package.json, tsconfig.json and the .ts sources, ready for
// `npm install` and `tsc`.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

const tool = "pulumi-sdkgen-nodejs"

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintf(os.Stderr, "usage: %s SCHEMA_JSON OUT_DIR\n", tool)
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", tool, err)
		os.Exit(1)
	}
}

// respectSchemaVersion makes package.json carry the schema's version, as a published SDK's does, unless the
// schema's `language.nodejs` says otherwise. Without it package.json says "${VERSION}" (a release pipeline's
// placeholder), and the SDK would ask the engine for a plugin of that version.
func respectSchemaVersion(spec *schema.PackageSpec) error {
	info := map[string]any{}
	if raw, ok := spec.Language["nodejs"]; ok {
		if err := json.Unmarshal(raw, &info); err != nil {
			return fmt.Errorf("the schema's language.nodejs: %w", err)
		}
	}
	if _, set := info["respectSchemaVersion"]; set || spec.Version == "" {
		return nil
	}
	info["respectSchemaVersion"] = true
	raw, err := json.Marshal(info)
	if err != nil {
		return err
	}
	if spec.Language == nil {
		spec.Language = map[string]schema.RawMessage{}
	}
	spec.Language["nodejs"] = raw
	return nil
}

func run(schemaPath, outDir string) error {
	raw, err := os.ReadFile(schemaPath)
	if err != nil {
		return err
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return fmt.Errorf("%s: %w", schemaPath, err)
	}
	if err := respectSchemaVersion(&spec); err != nil {
		return err
	}
	// The package refers to no other package's types, so no plugin loader is needed; the nodejs importer reads
	// the schema's `language.nodejs` section, if any.
	pkg, diags, err := schema.BindSpec(spec, schema.NewNullLoader(), schema.ValidationOptions{})
	if err != nil {
		return fmt.Errorf("binding the schema: %w", err)
	}
	if diags.HasErrors() {
		return fmt.Errorf("the schema is invalid: %s", diags.Error())
	}
	if err := pkg.ImportLanguages(map[string]schema.Language{"nodejs": nodejs.Importer}); err != nil {
		return err
	}
	files, err := nodejs.GeneratePackage(tool, pkg, nil, nil, false, nil)
	if err != nil {
		return fmt.Errorf("generating: %w", err)
	}
	if err := os.RemoveAll(outDir); err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		path := filepath.Join(outDir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, files[name], 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "%s: wrote %d files to %s\n", tool, len(names), outDir)
	return nil
}
