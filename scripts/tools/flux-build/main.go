// flux-build builds Flux Kustomizations the way kustomize-controller does, offline.
//
// It uses Flux's own build library (github.com/fluxcd/pkg/kustomize): the generator that turns a
// Flux Kustomization's spec (targetNamespace, patches, components, images) into a kustomization.yaml,
// kustomize's secure build, and postBuild variable substitution. It never talks to a cluster:
// the caller resolves substituteFrom (ConfigMaps from the tree, placeholders for Secrets) and
// passes the merged variables as spec.postBuild.substitute.
//
// stdin:  {"root": "/abs/repo", "include": ["kubernetes"], "builds": [{"id": "...", "kustomization": {...}}]}
//
//	include: the repository folders that hold the GitOps tree (copied; the rest is not read).
//
//	cel (optional): [{"id": "...", "healthCheckExprs": [...]} or {"id": "...", "readyExpr": "..."}], see cel.go.
//
// stdout: {"results": [{"id": "...", "objects": [{"file": "rel/path.yaml", "object": {...}}], "error": "..."}],
//
//	"cel": [{"id": "...", "error": "..."}]}
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/fluxcd/pkg/kustomize"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/konfig"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/yaml"
)

type request struct {
	Root    string   `json:"root"`
	Include []string `json:"include"`
	Builds  []build  `json:"builds"`
	// CEL expressions to check (cel.go); no folder is read for them.
	CEL []celCheck `json:"cel,omitempty"`
}

type build struct {
	ID            string         `json:"id"`
	Kustomization map[string]any `json:"kustomization"`
}

type builtObject struct {
	File   string         `json:"file"`
	Object map[string]any `json:"object"`
}

type result struct {
	ID      string        `json:"id"`
	Objects []builtObject `json:"objects"`
	Error   string        `json:"error,omitempty"`
}

const originAnnotation = "config.kubernetes.io/origin"

func main() {
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fail("reading the request on stdin: %v", err)
	}
	// The generator rewrites kustomization.yaml files in place, as kustomize-controller does in its
	// own copy of the artifact: work on a copy so the user's tree is never touched.
	work, err := os.MkdirTemp("", "flux-build-")
	if err != nil {
		fail("creating a work folder: %v", err)
	}
	defer os.RemoveAll(work)
	for _, folder := range req.Include {
		folder = filepath.Clean("/" + folder)
		if err := os.CopyFS(filepath.Join(work, folder), os.DirFS(filepath.Join(req.Root, folder))); err != nil {
			fail("copying %s: %v", filepath.Join(req.Root, folder), err)
		}
	}
	results := make([]result, 0, len(req.Builds))
	for _, b := range req.Builds {
		objects, err := buildOne(work, b.Kustomization)
		r := result{ID: b.ID, Objects: objects}
		if err != nil {
			r.Error = strings.ReplaceAll(err.Error(), work+string(os.PathSeparator), "")
		}
		results = append(results, r)
	}
	if err := json.NewEncoder(os.Stdout).Encode(map[string]any{"results": results, "cel": checkCEL(req.CEL)}); err != nil {
		fail("writing the result: %v", err)
	}
}

func buildOne(root string, object map[string]any) ([]builtObject, error) {
	ks := unstructured.Unstructured{Object: object}
	specPath, _, _ := unstructured.NestedString(object, "spec", "path")
	dir := filepath.Join(root, filepath.Clean("/"+specPath))
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		return nil, fmt.Errorf("spec.path %q: no such folder in the repository", specPath)
	}
	gen := kustomize.NewGenerator(root, ks)
	action, err := gen.WriteFile(dir, kustomize.WithSaveOriginalKustomization())
	if err != nil {
		return nil, err
	}
	defer kustomize.CleanDirectory(dir, action)
	if err := trackOrigins(dir); err != nil {
		return nil, err
	}
	resources, err := kustomize.SecureBuild(root, dir, false)
	if err != nil {
		return nil, err
	}
	out := make([]builtObject, 0, resources.Size())
	for _, res := range resources.Resources() {
		// Dry-run: variables come only from spec.postBuild.substitute, never from a cluster.
		substituted, err := kustomize.SubstituteVariables(context.Background(), nil, ks, res,
			kustomize.SubstituteWithDryRun(true))
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %w", res.GetKind(), res.GetName(), err)
		}
		if substituted != nil {
			res = substituted
		}
		file := specPath
		if origin, err := res.GetOrigin(); err == nil && origin != nil && origin.Path != "" {
			file = filepath.Join(specPath, origin.Path)
		}
		annotations := res.GetAnnotations()
		delete(annotations, originAnnotation)
		if err := res.SetAnnotations(annotations); err != nil {
			return nil, err
		}
		m, err := res.Map()
		if err != nil {
			return nil, err
		}
		out = append(out, builtObject{File: filepath.ToSlash(file), Object: m})
	}
	return out, nil
}

// trackOrigins turns on kustomize's origin annotations in the generated kustomization.yaml, so
// each built object names the file it came from.
func trackOrigins(dir string) error {
	var file string
	var data []byte
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		if b, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
			file, data = filepath.Join(dir, name), b
			break
		}
	}
	if file == "" {
		return fmt.Errorf("no kustomization file in %s after generation", dir)
	}
	var k kustypes.Kustomization
	if err := yaml.Unmarshal(data, &k); err != nil {
		return err
	}
	k.BuildMetadata = append(k.BuildMetadata, kustypes.OriginAnnotations)
	out, err := yaml.Marshal(k)
	if err != nil {
		return err
	}
	return os.WriteFile(file, out, 0o644)
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "flux-build: "+format+"\n", args...)
	os.Exit(2)
}
