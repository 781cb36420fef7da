package main

import (
	"os"
	"testing"

	"github.com/webpubsub-go/sdk/internal/leakcheck"
)

// TestMain fails the package when goroutines outlive the tests.
func TestMain(m *testing.M) { os.Exit(leakcheck.Main(m)) }
