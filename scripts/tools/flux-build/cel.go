package main

import (
	"fmt"

	celgo "github.com/google/cel-go/cel"

	"github.com/fluxcd/pkg/apis/kustomize"
	"github.com/fluxcd/pkg/runtime/cel"
)

// celCheck is one object's CEL: a Kustomization's or HelmRelease's spec.healthCheckExprs, or one
// spec.dependsOn[].readyExpr.
type celCheck struct {
	ID               string                        `json:"id"`
	HealthCheckExprs []kustomize.CustomHealthCheck `json:"healthCheckExprs,omitempty"`
	ReadyExpr        string                        `json:"readyExpr,omitempty"`
}

type celResult struct {
	ID    string `json:"id"`
	Error string `json:"error,omitempty"`
}

// checkCEL parses and type-checks each expression with Flux's own CEL code, the way the
// controllers do before they use it: health checks as kustomize-controller's status reader
// (parsed only: not every CRD has the standard top-level fields), readyExpr compiled to a bool
// over the variables self and dep.
func checkCEL(checks []celCheck) []celResult {
	out := make([]celResult, 0, len(checks))
	for _, c := range checks {
		r := celResult{ID: c.ID}
		if err := checkOne(c); err != nil {
			r.Error = err.Error()
		}
		out = append(out, r)
	}
	return out
}

func checkOne(c celCheck) error {
	if len(c.HealthCheckExprs) > 0 {
		if _, err := cel.NewStatusReader(c.HealthCheckExprs); err != nil {
			return err
		}
	}
	if c.ReadyExpr != "" {
		if _, err := cel.NewExpression(c.ReadyExpr, cel.WithCompile(), cel.WithOutputType(celgo.BoolType), cel.WithStructVariables("self", "dep")); err != nil {
			return fmt.Errorf("readyExpr: %w", err)
		}
	}
	return nil
}
