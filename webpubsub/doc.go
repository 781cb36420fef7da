// Package webpubsub is a client for the Azure Web PubSub service's REST API.
package webpubsub
