//go:build tools

// Package tools pins the Node.js language host that scripts/install-sdkgen builds, so that a TypeScript program
// can run against the cdf-workflows plugin through the pulumi CLI; go.mod and go.sum fix every dependency.
//
// Since v3.69 the host is a module of its own without version tags, which the Go module proxy does not serve;
// v3.68.0 is the last release that ships it inside the sdk module. It starts programs with the run script of
// the program's own @pulumi/pulumi (node_modules), so the Node.js SDK's version is the program's choice.
package tools

import _ "github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs"
