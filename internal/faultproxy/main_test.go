package faultproxy

import (
	"os"
	"testing"

	"github.com/webpubsub-go/sdk/internal/leakcheck"
)

func TestMain(m *testing.M) { os.Exit(leakcheck.Main(m)) }
