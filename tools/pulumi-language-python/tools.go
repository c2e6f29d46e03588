//go:build tools

// Package tools pins the Python language host that scripts/install-pulumi builds (see its comments for why
// this is sdk v3.79.0); go.mod and go.sum fix every dependency.
package tools

import _ "github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python"
