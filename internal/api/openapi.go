package api

import (
	_ "embed"
	"net/http"

	"roomcast/internal/store"
)

// openAPIDoc is the hand-written OpenAPI 3 description of every route.
//
//go:embed openapi.json
var openAPIDoc []byte

// openAPI: GET /openapi.json → the OpenAPI document.
func (a *API) openAPI(w http.ResponseWriter, r *http.Request, _ *store.User) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(openAPIDoc) // a failed write is the client's loss
	return nil
}
