package main

import (
	"context"
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
	// Evaluate: variable sets (self, dep) to evaluate a valid readyExpr with, as
	// kustomize-controller does when it checks a dependency.
	Evaluate []map[string]any `json:"evaluate,omitempty"`
}

type celResult struct {
	ID    string `json:"id"`
	Error string `json:"error,omitempty"`
	// Values: the readyExpr's value for each variable set of Evaluate. An evaluation error counts
	// as false: kustomize-controller then says the dependency is not ready and retries.
	Values []bool `json:"values,omitempty"`
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
		} else if c.ReadyExpr != "" {
			r.Values = evaluate(c.ReadyExpr, c.Evaluate)
		}
		out = append(out, r)
	}
	return out
}

func readyExpr(expr string) (*cel.Expression, error) {
	return cel.NewExpression(expr, cel.WithCompile(), cel.WithOutputType(celgo.BoolType), cel.WithStructVariables("self", "dep"))
}

func evaluate(expr string, sets []map[string]any) []bool {
	compiled, err := readyExpr(expr)
	values := make([]bool, len(sets))
	if err != nil {
		return values
	}
	for i, vars := range sets {
		v, err := compiled.EvaluateBoolean(context.Background(), vars)
		values[i] = err == nil && v
	}
	return values
}

func checkOne(c celCheck) error {
	if len(c.HealthCheckExprs) > 0 {
		if _, err := cel.NewStatusReader(c.HealthCheckExprs); err != nil {
			return err
		}
	}
	if c.ReadyExpr != "" {
		if _, err := readyExpr(c.ReadyExpr); err != nil {
			return fmt.Errorf("readyExpr: %w", err)
		}
	}
	return nil
}
