// builtin-kinds prints every apiVersion/kind that a kube-apiserver of the k8s.io/kubernetes
// version it is built against serves by default, without running one.
//
// It builds the control plane the way kube-apiserver does (pkg/controlplane: the default API
// resource config, the feature gates' defaults, the REST storage providers, the removal of kinds
// past their lifecycle), in memory, and reads its discovery through the handler: no port is
// opened for it. The legacy core group's service IP allocators need etcd even to be built, so an
// embedded etcd runs on unix sockets in a temporary folder. The groups that kube-apiserver's
// sibling servers add (apiextensions-apiserver: CRDs; kube-aggregator: APIServices) come from
// their own default resource config and storage.
//
// Built per Kubernetes version by scripts/build-tools.sh (family builtin-kinds-<minor>);
// scripts/generate-builtin-kinds.ts writes its output to tasks/lib/gitops/builtin-kinds/.
//
// stdout: {"kubernetes": "v1.36.3", "kinds": ["apps/v1 Deployment", ...]} (sorted)
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsv1beta1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1beta1"
	apiextensionsapiserver "k8s.io/apiextensions-apiserver/pkg/apiserver"
	"k8s.io/apiextensions-apiserver/pkg/registry/customresourcedefinition"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	"k8s.io/apiserver/pkg/endpoints"
	openapinamer "k8s.io/apiserver/pkg/endpoints/openapi"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/server/options"
	"k8s.io/apiserver/pkg/server/resourceconfig"
	serverstorage "k8s.io/apiserver/pkg/server/storage"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	"k8s.io/apiserver/pkg/util/compatibility"
	"k8s.io/apiserver/pkg/util/openapi"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	restclient "k8s.io/client-go/rest"
	"k8s.io/component-base/version"
	"k8s.io/klog/v2"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	apiregistrationv1beta1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1beta1"
	aggregatorapiserver "k8s.io/kube-aggregator/pkg/apiserver"
	aggregatorscheme "k8s.io/kube-aggregator/pkg/apiserver/scheme"
	apiservicerest "k8s.io/kube-aggregator/pkg/registry/apiservice/rest"

	"k8s.io/kubernetes/pkg/api/legacyscheme"
	"k8s.io/kubernetes/pkg/controlplane"
	controlplaneapiserver "k8s.io/kubernetes/pkg/controlplane/apiserver"
	"k8s.io/kubernetes/pkg/controlplane/reconcilers"
	generatedopenapi "k8s.io/kubernetes/pkg/generated/openapi"
	"k8s.io/kubernetes/pkg/kubeapiserver"
	kubeletclient "k8s.io/kubernetes/pkg/kubelet/client"
	netutils "k8s.io/utils/net"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "builtin-kinds: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	// The control plane logs every step of its construction (and grpc its connections): only
	// errors reach stderr; stdout is the product.
	flags := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(flags)
	if err := flags.Parse([]string{"-logtostderr=false", "-stderrthreshold=ERROR"}); err != nil {
		return err
	}
	klog.SetOutput(io.Discard)

	dir, err := os.MkdirTemp("", "builtin-kinds-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	etcdURL, stopEtcd, err := startEtcd(dir)
	if err != nil {
		return err
	}
	defer stopEtcd()
	storageConfig := storagebackend.NewDefaultConfig("/registry", nil)
	storageConfig.Transport.ServerList = []string{etcdURL}

	kinds := sets.New[string]()
	if err := kubeAPIServerKinds(storageConfig, kinds); err != nil {
		return err
	}
	siblings, err := siblingGroups(*storageConfig)
	if err != nil {
		return err
	}
	for _, group := range siblings {
		if err := addStorageKinds(group, kinds); err != nil {
			return err
		}
	}
	out, err := json.MarshalIndent(struct {
		Kubernetes string   `json:"kubernetes"`
		Kinds      []string `json:"kinds"`
	}{version.Get().GitVersion, sorted(kinds)}, "", "  ")
	if err != nil {
		return err
	}
	fmt.Println(string(out))
	return nil
}

// kubeAPIServerKinds builds kube-apiserver's own API groups as pkg/controlplane's tests do
// (setUp in instance_test.go, the same in 1.33 to 1.37) and reads the discovery it serves.
func kubeAPIServerKinds(storageConfig *storagebackend.Config, kinds sets.Set[string]) error {
	resourceConfig := controlplane.DefaultAPIResourceConfigSource()
	config := &controlplane.Config{
		ControlPlane: controlplaneapiserver.Config{
			Generic: genericapiserver.NewConfig(legacyscheme.Codecs),
			Extra:   controlplaneapiserver.Extra{APIResourceConfigSource: resourceConfig},
		},
		Extra: controlplane.Extra{
			APIServerServicePort:   443,
			MasterCount:            1,
			EndpointReconcilerType: reconcilers.MasterCountReconcilerType,
			ServiceIPRange:         net.IPNet{IP: netutils.ParseIPSloppy("10.0.0.0"), Mask: net.CIDRMask(24, 32)},
			KubeletClientConfig:    kubeletclient.KubeletClientConfig{Port: 10250},
		},
	}
	server := config.ControlPlane.Generic
	// The binary's version (ldflags), as kube-apiserver reads it: it decides which kinds are past
	// their lifecycle (RemoveUnavailableKinds).
	server.EffectiveVersion = compatibility.DefaultBuildEffectiveVersion()
	factoryConfig := kubeapiserver.NewStorageFactoryConfig()
	factoryConfig.DefaultResourceEncoding.SetEffectiveVersion(server.EffectiveVersion)
	storageConfig.StorageObjectCountTracker = server.StorageObjectCountTracker
	encoding := resourceconfig.MergeResourceEncodingConfigs(factoryConfig.DefaultResourceEncoding, factoryConfig.ResourceEncodingOverrides)
	storageFactory := serverstorage.NewDefaultStorageFactory(*storageConfig, "application/vnd.kubernetes.protobuf", factoryConfig.Serializer, encoding, resourceConfig, nil)
	etcdOptions := options.NewEtcdOptions(storageConfig)
	etcdOptions.EnableWatchCache = false
	if err := etcdOptions.ApplyWithStorageFactoryTo(storageFactory, server); err != nil {
		return err
	}
	server.Authorization.Authorizer = authorizerfactory.NewAlwaysAllowAuthorizer()
	server.LoopbackClientConfig = &restclient.Config{APIPath: "/api", ContentConfig: restclient.ContentConfig{NegotiatedSerializer: legacyscheme.Codecs}}
	server.PublicAddress = netutils.ParseIPSloppy("192.0.2.1")
	server.LegacyAPIGroupPrefixes = sets.NewString("/api")
	// Installing an API group builds its OpenAPI models.
	namer := openapinamer.NewDefinitionNamer(legacyscheme.Scheme, apiextensionsapiserver.Scheme, aggregatorscheme.Scheme)
	server.OpenAPIV3Config = genericapiserver.DefaultOpenAPIV3Config(openapi.GetOpenAPIDefinitionsWithoutDisabledFeatures(generatedopenapi.GetOpenAPIDefinitions), namer)
	// The kubernetes Service needs the serving port; nothing listens on it.
	server.SecureServing = &genericapiserver.SecureServingInfo{Listener: fakeListener{}}
	config.ControlPlane.StorageFactory = storageFactory
	// Never dialled: no request leaves the process (the loopback client has no host).
	config.ControlPlane.ProxyTransport = &http.Transport{DialContext: func(context.Context, string, string) (net.Conn, error) {
		return nil, fmt.Errorf("builtin-kinds dials nothing")
	}}
	client, err := kubernetes.NewForConfig(server.LoopbackClientConfig)
	if err != nil {
		return err
	}
	config.ControlPlane.VersionedInformers = informers.NewSharedInformerFactory(client, 0)

	instance, err := config.Complete().New(genericapiserver.NewEmptyDelegate())
	if err != nil {
		return fmt.Errorf("building the control plane: %w", err)
	}
	mux := instance.ControlPlane.GenericAPIServer.Handler.GoRestfulContainer.ServeMux
	groupVersions := []string{"v1"}
	var groups metav1.APIGroupList
	if err := get(mux, "/apis", &groups); err != nil {
		return err
	}
	for _, group := range groups.Groups {
		for _, v := range group.Versions {
			groupVersions = append(groupVersions, v.GroupVersion)
		}
	}
	for _, gv := range groupVersions {
		prefix := "/apis/"
		if gv == "v1" {
			prefix = "/api/"
		}
		var list metav1.APIResourceList
		if err := get(mux, prefix+gv, &list); err != nil {
			return err
		}
		for _, r := range list.APIResources {
			// Subresources (pods/status, deployments/scale) are not kinds one applies.
			if !strings.Contains(r.Name, "/") {
				kinds.Insert(gv + " " + r.Kind)
			}
		}
	}
	return nil
}

// siblingGroups: the API groups kube-apiserver's sibling servers install in the same process, each
// built as its server builds it from its own default resource config, on storage set up as
// pkg/controlplane/apiserver's apiextensions.go and aggregator.go set it up.
func siblingGroups(storageConfig storagebackend.Config) ([]genericapiserver.APIGroupInfo, error) {
	crdStorage, err := siblingStorage(storageConfig, apiextensionsapiserver.Codecs.LegacyCodec(apiextensionsv1beta1.SchemeGroupVersion, apiextensionsv1.SchemeGroupVersion),
		runtime.NewMultiGroupVersioner(apiextensionsv1beta1.SchemeGroupVersion, schema.GroupKind{Group: apiextensionsv1beta1.GroupName}))
	if err != nil {
		return nil, err
	}
	// apiextensions-apiserver's completedConfig.New serves CustomResourceDefinitions this way.
	crds := genericapiserver.NewDefaultAPIGroupInfo(apiextensionsv1.GroupName, apiextensionsapiserver.Scheme, metav1.ParameterCodec, apiextensionsapiserver.Codecs)
	if resource := "customresourcedefinitions"; apiextensionsapiserver.DefaultAPIResourceConfigSource().ResourceEnabled(apiextensionsv1.SchemeGroupVersion.WithResource(resource)) {
		storage, err := customresourcedefinition.NewREST(apiextensionsapiserver.Scheme, crdStorage)
		if err != nil {
			return nil, err
		}
		crds.VersionedResourcesStorageMap[apiextensionsv1.SchemeGroupVersion.Version] = map[string]rest.Storage{resource: storage}
	}
	apiServiceStorage, err := siblingStorage(storageConfig, aggregatorscheme.Codecs.LegacyCodec(apiregistrationv1.SchemeGroupVersion, apiregistrationv1beta1.SchemeGroupVersion),
		runtime.NewMultiGroupVersioner(apiregistrationv1.SchemeGroupVersion, schema.GroupKind{Group: apiregistrationv1beta1.GroupName}))
	if err != nil {
		return nil, err
	}
	// kube-aggregator serves APIServices with its own provider function.
	apiServices := apiservicerest.NewRESTStorage(aggregatorapiserver.DefaultAPIResourceConfigSource(), apiServiceStorage, false)
	return []genericapiserver.APIGroupInfo{crds, apiServices}, nil
}

func siblingStorage(storageConfig storagebackend.Config, codec runtime.Codec, versioner runtime.GroupVersioner) (generic.RESTOptionsGetter, error) {
	storageConfig.Codec, storageConfig.EncodeVersioner = codec, versioner
	etcdOptions := options.NewEtcdOptions(&storageConfig)
	etcdOptions.EnableWatchCache = false
	etcdOptions.SkipHealthEndpoints = true
	config := genericapiserver.NewConfig(legacyscheme.Codecs)
	if err := etcdOptions.ApplyTo(config); err != nil {
		return nil, err
	}
	return config.RESTOptionsGetter, nil
}

// addStorageKinds names each resource's kind as the API installer does for discovery.
func addStorageKinds(group genericapiserver.APIGroupInfo, kinds sets.Set[string]) error {
	for v, resources := range group.VersionedResourcesStorageMap {
		gv := schema.GroupVersion{Group: group.PrioritizedVersions[0].Group, Version: v}
		for name, storage := range resources {
			if strings.Contains(name, "/") {
				continue
			}
			gvk, err := endpoints.GetResourceKind(gv, storage, group.Scheme)
			if err != nil {
				return err
			}
			kinds.Insert(gvk.GroupVersion().String() + " " + gvk.Kind)
		}
	}
	return nil
}

func get(mux http.Handler, path string, into any) error {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Accept", "application/json")
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", path, rec.Code, rec.Body.String())
	}
	return json.Unmarshal(rec.Body.Bytes(), into)
}

// startEtcd runs a single-member etcd on unix sockets in dir, for the storage the control plane
// insists on connecting to while it is built. etcd wants socket names of the form host:port; they
// are files in the working folder, so it moves there.
func startEtcd(dir string) (string, func(), error) {
	if err := os.Chdir(dir); err != nil {
		return "", nil, err
	}
	cfg := embed.NewConfig()
	cfg.Dir = filepath.Join(dir, "etcd")
	cfg.UnsafeNoFsync = true
	client := url.URL{Scheme: "unix", Host: "client:1"}
	peer := url.URL{Scheme: "unix", Host: "peer:2"}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return "", nil, fmt.Errorf("starting the embedded etcd: %w", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(60 * time.Second):
		e.Close()
		return "", nil, fmt.Errorf("the embedded etcd did not become ready in 60 s")
	}
	return client.String(), e.Close, nil
}

type fakeListener struct{}

func (fakeListener) Accept() (net.Conn, error) {
	return nil, fmt.Errorf("builtin-kinds accepts nothing")
}
func (fakeListener) Close() error   { return nil }
func (fakeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 443} }

func sorted(s sets.Set[string]) []string {
	list := s.UnsortedList()
	sort.Strings(list)
	return list
}
