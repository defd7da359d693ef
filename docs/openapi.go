// Package docs holds the documents examd serves: the OpenAPI description of
// its HTTP API, embedded so that GET /api/v1/openapi.yaml answers it.
package docs

import _ "embed"

// OpenAPI is docs/openapi.yaml, the OpenAPI 3.1 description of every route
// under /api/v1 (cmd/examd/openapi_test.go keeps the two in step).
//
//go:embed openapi.yaml
var OpenAPI []byte
