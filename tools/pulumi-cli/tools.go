//go:build tools

// Package tools pins the Pulumi CLI that scripts/install-pulumi builds; go.mod and go.sum fix every dependency.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
