//go:build tools

// Package tools pins the Pulumi YAML language host that scripts/install-pulumi builds; go.mod and go.sum fix
// every dependency. go.mod also raises pulumi/pkg/v3 and sdk/v3 to the CLI's version (tools/pulumi-cli): the
// host then runs the same engine code as the CLI, and its build reuses nearly all the CLI's downloaded modules.
// Bump them together with the CLI.
package tools

import _ "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml"
