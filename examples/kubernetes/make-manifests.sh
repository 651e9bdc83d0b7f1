#!/bin/sh
# Makes a set for a Milvus release in Kubernetes and writes, into ./out (owner-only):
#   secrets.yaml   the Secrets of `certgen export k8s`, and a cert-manager Issuer on the CA
#   values.yaml    Helm values for the Milvus chart (mutual TLS)
#   milvus.yaml    the milvus-operator Milvus resource (mutual TLS)
#
#   CERTGEN=certgen RELEASE=my-release NAMESPACE=milvus examples/kubernetes/make-manifests.sh
#
# Nothing here is committed: the Secrets hold private keys, which belong to you alone.
set -eu

certgen=${CERTGEN:-certgen}
release=${RELEASE:-my-release}
namespace=${NAMESPACE:-milvus}
here=$(dirname "$0")
out="$here/out"

# The chart and the operator name the Milvus Service RELEASE-milvus.
"$certgen" all --quiet --key-type ecdsa-p256 --out "$out/cert" \
    --cn "$release-milvus.$namespace.svc" --k8s-service "$release-milvus" --namespace "$namespace"
rm -f "$out/secrets.yaml"
"$certgen" export k8s --quiet --dir "$out/cert" --namespace "$namespace" --name milvus \
    --cert-manager --out "$out/secrets.yaml"
"$certgen" config helm --dir "$out/cert" --mode 2 --name milvus >"$out/values.yaml"
"$certgen" config operator --dir "$out/cert" --mode 2 --name milvus >"$out/milvus.yaml"
echo "wrote $out/secrets.yaml, $out/values.yaml, $out/milvus.yaml"
