// Command wrongcred must not compile: it passes an access key where
// NewClient wants a Microsoft Entra ID credential, and an Entra ID
// credential where NewClientWithKey wants an access key.
// TestWrongCredentialDoesNotCompile builds it and expects both errors.
package main

import (
	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/webpubsub-go/sdk/webpubsub"
)

func main() {
	key, _ := webpubsub.NewKeyCredential("key")
	_, _ = webpubsub.NewClient("https://demo.webpubsub.azure.com", "chat", key)
	var entra azcore.TokenCredential
	_, _ = webpubsub.NewClientWithKey("https://demo.webpubsub.azure.com", "chat", entra)
	_, _ = webpubsub.NewClient("https://demo.webpubsub.azure.com", "chat", azcore.NewKeyCredential("key"))
}
