//go:build tools

// Package tools records the commands this module builds, so that go mod tidy keeps their
// dependencies in go.mod and go.sum. Nothing imports it; scripts/controlplane.sh runs
//
//	go build -o <dir> k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
)
